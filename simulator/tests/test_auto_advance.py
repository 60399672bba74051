"""Auto-advance: received invoices get approved, then paid, by a step or in the background."""

import time

from .. import AvidSimulator
from .common import CLIENT_ID, CLIENT_SECRET, COMPANY_ID, ApiCase, ApiSession


class TestSimulatorAutoAdvance(ApiCase):
    """Received invoices get approved, then paid, by a step or by the background thread."""

    def test_each_step_moves_invoices_one_status_on(self):
        self.add_vendor()
        first, second = self.add_invoice(1, 100.0), self.add_invoice(2, 50.0)
        self.assertEqual(self.simulator.advance(), {"approved": [first, second], "paid": []})
        self.assertEqual(self.simulator.advance(), {"approved": [], "paid": ["PAY-1", "PAY-2"]})
        self.assertEqual(self.simulator.advance(), {"approved": [], "paid": []})
        methods = [p["PaymentMethod"]["Description"] for p in self.simulator.payments()]
        self.assertEqual(methods, ["Check", "ACH"])
        self.assertEqual(self.simulator.get_invoice(second)["Status"], "Paid")

    def test_young_invoices_wait(self):
        self.add_vendor()
        self.add_invoice(1)
        self.assertEqual(self.simulator.advance(min_age=60), {"approved": [], "paid": []})

    def test_background_thread_approves_then_pays(self):
        simulator = AvidSimulator(
            auto_advance=0.2,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            company_id=COMPANY_ID,
        ).start()
        self.addCleanup(simulator.stop)
        api = ApiSession(simulator)
        self.addCleanup(api.close)
        self.add_vendor(api=api)
        invoice_id = self.add_invoice(1, 100.0, api=api)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and simulator.get_invoice(invoice_id)["Status"] != "Paid":
            time.sleep(0.05)
        found = api.get(f"/invoices/{invoice_id}").json()
        self.assertEqual((found["Status"], found["Balance"]), ("Paid", 0.0))
        payments = simulator.payments()
        self.assertEqual(len(payments), 1)
        self.assertEqual(payments[0]["Invoices"][0]["Id"], invoice_id)
        self.assertEqual((payments[0]["Amount"], payments[0]["CheckNumber"]), (100.0, "100001"))
