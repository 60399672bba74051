"""Which posted bills go to AvidXchange, and why the others do not."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AvidxchangeCase


@tagged("post_install", "-at_install")
class TestBillScope(AvidxchangeCase):
    def setUp(self):
        super().setUp()
        self.backend.state = "active"

    def pay_in_odoo(self, bill, amount):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids
        ).create({"amount": amount})._create_payments()

    def test_a_bill_partly_paid_in_odoo_is_not_exported(self):
        """AvidXchange would pay its full total: the vendor would be paid twice.
        Linked when posted, the bill is dropped when the stream finds it paid."""
        bill = self.bill(self.vendor(), 100.0)
        self.assertEqual(bill.avidxchange_sync_status, "waiting")
        self.pay_in_odoo(bill, 30.0)
        self.assertEqual(bill.payment_state, "partial")
        self.assertIn("Partly paid in Odoo", bill.avidxchange_reason)
        self.assertEqual(self.run_stream("bill"), (0, 0))
        self.assertFalse(bill.avidxchange_link_ids)
        self.assertEqual(bill.avidxchange_sync_status, "not_in_scope")
        self.assertIn("Partly paid in Odoo", bill.avidxchange_reason)
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_each_bill_says_why_it_is_not_going(self):
        marked = self.vendor()
        unmarked = self.vendor("Not marked", avidxchange_enabled=False)
        self.backend.bill_date_from = "2026-06-01"
        cases = {
            "draft": self.bill(marked, 10.0, post=False),
            "unmarked": self.bill(unmarked, 20.0),
            "old": self.bill(marked, 30.0, invoice_date="2026-01-05"),
            "paid": self.bill(marked, 40.0),
            "going": self.bill(marked, 50.0),
        }
        self.pay_in_odoo(cases["paid"], 40.0)
        reasons = {name: bill.avidxchange_reason for name, bill in cases.items()}
        self.assertIn("Only posted bills", reasons["draft"])
        self.assertIn("not marked", reasons["unmarked"])
        self.assertIn("Dated before", reasons["old"])
        self.assertIn("Paid in Odoo", reasons["paid"])
        self.assertIn("next bill sync", reasons["going"])
        self.backend.state = "draft"
        self.env.invalidate_all()  # a form reads the reason afresh
        self.assertIn("not active", cases["going"].avidxchange_reason)
        self.backend.state = "active"
        self.run_stream("bill")
        self.assertEqual(cases["going"].avidxchange_state, "synced")
        self.assertFalse(cases["going"].avidxchange_reason)

    def test_a_bill_of_a_company_without_connection_says_so(self):
        other = self.setup_other_company()["company"]
        vendor = self.vendor("Elsewhere").with_company(other)
        bill = self.bill(vendor, 10.0)
        self.assertIn("No AvidXchange connection", bill.avidxchange_reason)

    def test_the_fixing_button_marks_the_vendor(self):
        unmarked = self.vendor("Not marked", avidxchange_enabled=False)
        bill = self.bill(unmarked, 20.0)
        bill.action_avidxchange_mark_vendor()
        self.assertTrue(unmarked.avidxchange_enabled)
        self.assertIn("next bill sync", bill.avidxchange_reason)
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(bill.avidxchange_state, "synced")

    def passed_over(self, bill):
        """The bill stream has looked at ``bill`` (posted long ago) and left it."""
        self.set_write_date(bill, fields.Datetime.now() - timedelta(days=3))
        self.assertEqual(self.run_stream("bill"), (0, 0))
        self.assertFalse(bill.avidxchange_link_ids)

    def test_a_vendor_marked_later_picks_up_its_old_bills(self):
        vendor = self.vendor("Marked later", avidxchange_enabled=False)
        bill = self.bill(vendor, 20.0)
        self.passed_over(bill)
        vendor.avidxchange_enabled = True
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(bill.avidxchange_state, "synced")

    def test_widening_the_scope_picks_up_the_bills_it_now_covers(self):
        self.backend.bill_date_from = "2026-06-01"
        old = self.bill(self.vendor(), 30.0, invoice_date="2026-01-05", ref="OLD")
        unmarked = self.bill(self.vendor("Not marked", avidxchange_enabled=False), 40.0)
        self.passed_over(old | unmarked)
        self.backend.bill_date_from = "2026-01-01"
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(old.avidxchange_state, "synced")
        self.passed_over(unmarked)
        self.backend.vendor_scope = "billed"
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(unmarked.avidxchange_state, "synced")

    def test_activation_starts_today_and_says_what_goes(self):
        """An empty start date would send every open bill in history."""
        self.backend.state = "draft"
        vendor = self.vendor()
        self.bill(vendor, 10.0, invoice_date="2026-01-05", ref="OLD-1")
        self.bill(vendor, 11.0, invoice_date="2026-02-05", ref="OLD-2")
        today = fields.Date.context_today(self.backend)
        self.bill(vendor, 12.0, invoice_date=today, ref="TODAY")
        action = self.backend.action_activate()
        self.assertEqual(self.backend.bill_date_from, today)
        message = action["params"]["message"]
        self.assertIn("1 open bills dated from", message)
        self.assertIn("2 older ones stay in Odoo", message)
        self.assertEqual(self.run_stream("bill"), (1, 0))
