"""A seeded random life of many bills in AvidXchange (approvals, partial and
multi-bill payments, discounts, clears, voids and new payments, reports sent
twice, an outage), imported as the scheduled action would: at the end Odoo's
ledger equals AvidXchange's, to the cent, with no payment missing or twice."""

import random

from odoo.tests import tagged

from .common import STREAM_LOGGER, EnterpriseMode, PaymentCase

SEED = 20261124
BILLS = 100
STEPS = 400


@tagged("post_install", "-at_install")
class TestPaymentLifecycle(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.account_journal_early_pay_discount_gain_account_id = cls.company_data[
            "default_account_revenue"
        ]
        cls.vendors = [cls.acme, cls.vendor("Blue Ridge Freight"), cls.vendor("Carolina Paper")]

    def import_payments(self):
        """The payment stream to the end of what waits, as the cron runs it."""
        # The whole life is one open transaction: PostgreSQL has no statistics
        # on its rows (autovacuum cannot see them), and without them it plans
        # Odoo's reconciliation queries as nested loops that grow with the cube
        # of the rows. A database in service is analyzed; this one is, now.
        self.env.flush_all()
        self.env.cr.execute(
            "ANALYZE account_move, account_move_line, account_partial_reconcile, account_payment"
        )
        for _batch in range(50):
            _done, left = self.run_stream("payment")
            if not left:
                return
        self.fail("the payment stream never ended")

    def random_pay(self, rng, invoices):
        """Pay one to three open invoices of one vendor, in part or whole, with
        a discount now and then."""
        open_ones = [i for i in invoices if self.simulator.get_invoice(i["id"])["Balance"] > 0]
        open_ones = [
            i for i in open_ones if self.simulator.get_invoice(i["id"])["Status"] == "Approved"
        ]
        if not open_ones:
            return
        vendor = rng.choice(open_ones)["vendor"]
        mine = [i for i in open_ones if i["vendor"] == vendor]
        allocations = []
        for invoice in rng.sample(mine, k=min(len(mine), rng.choice([1, 1, 2, 3]))):
            balance = self.simulator.get_invoice(invoice["id"])["Balance"]
            whole = rng.random() < 0.5
            discount = (
                round(rng.uniform(0.01, min(5.0, balance / 10)), 2) if rng.random() < 0.25 else 0.0
            )
            paid = (
                round(balance - discount, 2)
                if whole
                else round(rng.uniform(0.01, balance - discount), 2)
            )
            if paid <= 0:
                continue
            allocations.append({"invoice_id": invoice["id"], "amount": paid, "discount": discount})
        if allocations:
            self.simulator.pay(
                allocations,
                method=rng.choice(["Check", "ACH", "VirtualCard", "AvidPayNetwork"]),
                status=rng.choice(["Issued", "Issued", "Issued", "Pending"]),
            )

    def test_a_seeded_random_lifecycle_leaves_odoo_equal_to_avidxchange(self):
        rng = random.Random(SEED)
        bills = [
            self.bill(self.vendors[n % 3], round(rng.uniform(20, 2000), 2), ref=f"LIFE-{n}")
            for n in range(BILLS)
        ]
        for _batch in range(10):
            if not self.run_stream("bill")[1]:
                break
        invoices = []
        for bill in bills:
            self.simulator.approve_invoice(bill.avidxchange_invoice_id)
            invoices.append({"id": bill.avidxchange_invoice_id, "vendor": bill.partner_id.id})
        for _step in range(STEPS):
            self.random_step(rng, invoices)
        self.simulator.clear_faults()
        self.import_payments()

        self.assertEqual(self.stream("payment").failure_count, 0)
        self.assert_the_life_was_eventful()
        self.assert_odoo_equals_avidxchange(bills)

    def random_step(self, rng, invoices):
        """One thing happens in AvidXchange, or Odoo imports."""
        payments = self.simulator.payments()
        action = rng.choices(
            ["pay", "clear", "void", "error", "again", "import", "outage"],
            weights=[40, 10, 8, 4, 6, 25, 2],
        )[0]
        issued = [p for p in payments if p["Status"]["Description"] in ("Pending", "Issued")]
        live = [p for p in payments if p["Status"]["Description"] not in ("Void", "Error")]
        if action == "pay":
            self.random_pay(rng, invoices)
        elif action == "clear" and issued:
            self.simulator.clear_payment(rng.choice(issued)["PaymentId"])
        elif action == "void" and live:
            self.simulator.void_payment(rng.choice(live)["PaymentId"])
        elif action == "error" and issued:
            self.simulator.error_payment(rng.choice(issued)["PaymentId"])
        elif action == "again" and payments:
            self.simulator.report_again(rng.choice(payments)["PaymentId"])
        elif action == "outage":  # AvidXchange down for one run: the next one reads again
            self.simulator.fail_next(1, status=503, path="/payments")
            self.backend.max_attempts = 1
            with self.assertLogs(STREAM_LOGGER, "WARNING"):
                self.run_stream("payment")
            self.backend.max_attempts = 5
        elif action == "import":
            self.import_payments()

    def assert_the_life_was_eventful(self):
        payments = self.simulator.payments()
        statuses = [p["Status"]["Description"] for p in payments]
        life = {
            "payments": len(payments),
            "voided": statuses.count("Void") + statuses.count("Error"),
            "cleared": statuses.count("Cleared"),
            "multi-bill": sum(len(p["Invoices"]) > 1 for p in payments),
            "discounts": sum(any(line["Discount"] for line in p["Invoices"]) for p in payments),
            "partial": sum(
                self.simulator.get_invoice(line["Id"])["GrossAmount"]
                > line["AmountPaid"] + line["Discount"]
                for p in payments
                for line in p["Invoices"]
            ),
        }
        least = {"payments": 40, "voided": 5, "cleared": 5, "multi-bill": 5, "discounts": 5}
        for what, count in {**least, "partial": 10}.items():
            self.assertGreaterEqual(life[what], count, f"an uneventful life: {life}")

    def assert_odoo_equals_avidxchange(self, bills):
        """Every bill relieved of what AvidXchange's paid payments relieved it
        of; every such payment once in Odoo, a voided one not at all."""
        Payment = self.env["avidxchange.payment"]
        attention = Payment.search([("state", "=", "error")])
        self.assertFalse(attention, attention.mapped("error_message"))
        relieved = dict.fromkeys((bill.avidxchange_invoice_id for bill in bills), 0.0)
        for remote in self.simulator.payments():
            if remote["Status"]["Description"] in ("Issued", "Cleared"):  # paid out
                for line in remote["Invoices"]:
                    relieved[line["Id"]] += line["AmountPaid"] + line["Discount"]
        for bill in bills:
            self.assertAlmostEqual(
                bill.amount_residual,
                bill.amount_total - relieved[bill.avidxchange_invoice_id],
                places=2,
                msg=f"{bill.ref}: Odoo's residual is not what AvidXchange relieved",
            )
        for remote in self.simulator.payments():
            live = Payment.search([("payment_ref", "=", remote["PaymentId"])])._live_payments()
            counts = remote["Status"]["Description"] in ("Issued", "Cleared")
            self.assertEqual(len(live), int(counts), f"{remote['PaymentId']}: doubles or orphans")
            if counts:
                self.assertAlmostEqual(live.amount, remote["Amount"], places=2)
        orphans = self.env["account.payment"].search(
            [
                ("avidxchange_payment_id", "=", False),
                ("partner_id", "in", [v.id for v in self.vendors]),
            ]
        )
        self.assertFalse(orphans)


@tagged("post_install", "-at_install")
class TestPaymentLifecycleEnterprise(EnterpriseMode, TestPaymentLifecycle):
    """The same life, with Enterprise's accounting installed."""
