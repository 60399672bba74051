"""Whatever AvidXchange sends, a payment report is checked before anything is
posted: a wrong one needs a person's attention, says why, and the rest go on."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import PaymentCase

# What a payment that needs attention says, by the PaymentId of a hostile report.
HOSTILE_REPORT_WORDS = {
    "NEGATIVE": "Amount is negative (-50.00)",
    "OVERPAID": "Discount is negative",
    "NAN": "not a finite number",
    "TEXT": "not a number: '12abc'",
    "STRINGSTATUS": "is not an object with a Description",
    "UNKNOWN": "status 'Teleported', which this connector does not know",
    "NOINVOICE": "names no invoice",
    "HUGE": "out of range",
    "ENORMOUS": "out of range",
    "YEARONE": "is not a UTC timestamp",
    "NUL": "cannot be stored",
    "SURROGATE": "cannot be stored",
    "ZERO": "pays nothing",
    "ZEROLINE": "Invoice line 1 pays nothing",
    "TWOBILLS": "names two different bills",
}


@tagged("post_install", "-at_install")
class TestPaymentValidation(PaymentCase):
    def attention(self, payment_id):
        payment = self.env["avidxchange.payment"].search([("payment_ref", "=", payment_id)])
        self.assertEqual(payment.state, "error", payment_id)
        self.assertFalse(payment.odoo_payment_ids, payment_id)
        return payment.error_message

    def assert_attention(self, payment_ids):
        """Each of ``payment_ids`` needs attention and says why (HOSTILE_REPORT_WORDS)."""
        for payment_id in payment_ids:
            with self.subTest(payment_id=payment_id):
                self.assertIn(HOSTILE_REPORT_WORDS[payment_id], self.attention(payment_id))

    def attention_of(self, report):
        """The words of a payment that needs attention (posted or not)."""
        payment = self.imported(report)
        self.assertEqual(payment.state, "error")
        return payment.error_message

    def assert_stream_healthy(self):
        self.assertEqual(self.stream("payment").failure_count, 0)
        self.assertTrue(self.stream("payment").mark)

    def test_a_payment_in_another_currency_than_its_bill_is_not_posted(self):
        self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        bill = self.exported_bill(100.0)
        report = self.pay((bill, 99.0), currency="EUR")
        self.run_stream("payment")
        message = self.attention(report["PaymentId"])
        self.assertIn("EUR", message)
        self.assertIn("USD", message)
        self.assertEqual(bill.amount_residual, 100.0)
        self.assert_stream_healthy()

    def test_a_currency_odoo_does_not_use_is_not_posted(self):
        bill = self.exported_bill(100.0)
        gbp = self.env.ref("base.GBP")
        gbp.active = False
        report = self.pay((bill, 50.0), currency="GBP")
        self.run_stream("payment")
        self.assertIn("GBP is not active", self.attention(report["PaymentId"]))
        self.assertEqual(bill.amount_residual, 100.0)

    def test_hostile_reports_need_attention_and_the_others_go_on(self):
        bill = self.exported_bill(100.0, ref="HOSTILE")
        good_bill = self.exported_bill(40.0, ref="GOOD")
        hostile = {
            "NEGATIVE": self.report("NEGATIVE", (bill, -50.0)),
            "OVERPAID": self.report("OVERPAID", (bill, 150.0, -50.0)),
            "NAN": self.report("NAN", (bill, 100.0), Amount=float("nan")),
            "TEXT": self.report("TEXT", (bill, 100.0), Amount="12abc"),
            "STRINGSTATUS": self.report("STRINGSTATUS", (bill, 100.0), Status="Issued"),
            "UNKNOWN": self.report(
                "UNKNOWN", (bill, 100.0), Status={"Id": 99, "Description": "Teleported"}
            ),
            "NOINVOICE": self.report("NOINVOICE", (bill, 100.0), Invoices="all of them"),
        }
        for item in hostile.values():
            self.inject(item)
        self.inject(["not", "a", "payment"])
        self.inject({"Status": {"Description": "Issued"}})  # no PaymentId at all
        good = self.pay((good_bill, 40.0))

        self.run_stream("payment")
        self.assert_stream_healthy()
        self.assertEqual(self.imported(good).state, "posted")
        self.assertEqual(good_bill.amount_residual, 0.0)
        self.assertEqual(bill.amount_residual, 100.0)
        self.assert_attention(hostile)
        nameless = self.exchanges(
            operation="payment", state="failed", res_model="avidxchange.stream"
        )
        self.assertEqual(len(nameless), 2)
        self.assertIn("not an object but a list", nameless[0].error_message)
        self.assertIn("no PaymentId", nameless[1].error_message)
        # read again, nothing changes and nothing crashes
        self.stream("payment").mark = False
        self.run_stream("payment")
        self.assert_stream_healthy()
        self.assertEqual(len(good_bill.matched_payment_ids), 1)
        self.assertEqual(bill.amount_residual, 100.0)

    def test_more_hostile_reports_need_attention_and_never_block_the_import(self):
        first, second = self.exported_bill(100.0, ref="B-1"), self.exported_bill(50.0, ref="B-2")
        good_bill = self.exported_bill(40.0, ref="GOOD")
        two_bills = self.report("TWOBILLS", (first, 50.0))
        two_bills["Invoices"][0]["ExternalInvoiceId"] = (
            second.avidxchange_link_ids.external_invoice_id
        )
        hostile = {
            "HUGE": self.report("HUGE", (first, 1.7e308)),
            "ENORMOUS": self.report("ENORMOUS", (first, 10**400)),
            "YEARONE": self.report(
                "YEARONE", (first, 100.0), LastModifiedDate="0001-01-01T00:00:00+01:00"
            ),
            "NUL": self.report("NUL", (first, 100.0), CheckNumber="100\x00001"),
            "SURROGATE": self.report("SURROGATE", (first, 100.0), TraceNumber="\ud800"),
            "ZERO": self.report("ZERO", (first, 0.0)),
            "ZEROLINE": self.report("ZEROLINE", (first, 0.0), (second, 50.0)),
            "TWOBILLS": two_bills,
        }
        for item in hostile.values():
            self.inject(item)
        good = self.pay((good_bill, 40.0))
        self.run_stream("payment")
        self.assert_stream_healthy()
        self.assertEqual(self.imported(good).state, "posted")
        self.assertEqual((first.amount_residual, second.amount_residual), (100.0, 50.0))
        self.assert_attention(hostile)

    def test_a_posted_payment_is_never_registered_twice(self):
        bill = self.exported_bill(1000.0)
        report = self.pay((bill, 400.0))
        self.run_stream("payment")
        unknown = dict(report, Status={"Id": 42, "Description": "Stop Payment Requested"})
        self.inject(unknown)  # the same payment, in a status nobody told us about
        self.run_stream("payment")
        self.assertIn("Stop Payment Requested", self.attention_of(report))
        self.inject(dict(report, Status={"Id": 4, "Description": "Cleared"}))
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.state, "posted")
        self.assertEqual(len(payment.odoo_payment_ids), 1)
        self.assertEqual(bill.amount_residual, 600.0)

    def test_a_payment_whose_amounts_change_after_posting_needs_attention(self):
        bill = self.exported_bill(100.0)
        report = self.pay((bill, 100.0))
        self.run_stream("payment")
        changed = self.report(report["PaymentId"], (bill, 90.0))
        self.inject(changed)
        self.run_stream("payment")
        message = self.attention_of(report)
        self.assertIn("after it was registered in Odoo", message)
        self.assertIn("90.00", message)
        self.assertEqual(len(self.imported(report).odoo_payment_ids), 1)
        self.assertEqual(bill.amount_residual, 0.0)

    def test_a_payment_reissued_under_its_id_after_a_void_is_registered_again(self):
        bill, report = self.imported_payment(100.0)
        self.simulator.void_payment(report["PaymentId"])
        self.run_stream("payment")
        self.assertEqual(bill.amount_residual, 100.0)
        self.inject(self.report(report["PaymentId"], (bill, 100.0)))  # Issued again
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)

    def test_only_administrators_retry(self):
        bill = self.exported_bill(100.0)
        self.inject(self.report("RETRY", (bill, 100.0), Currency="XXX"))
        self.run_stream("payment")
        clerk = self.ap_clerk("avx-retry-clerk")
        payment = self.env["avidxchange.payment"].search([("payment_ref", "=", "RETRY")])
        with self.assertRaises(AccessError):
            payment.with_user(clerk).action_retry()

    def test_a_huge_report_is_not_kept_whole(self):
        bill = self.exported_bill(100.0)
        self.inject(self.report("HUGE-REPORT", (bill, 100.0), Notes="x" * 1_200_000))
        self.run_stream("payment")
        payment = self.env["avidxchange.payment"].search([("payment_ref", "=", "HUGE-REPORT")])
        self.assertIn("more than the 1000000 kept", self.attention("HUGE-REPORT"))
        self.assertLess(len(payment.last_report), 1_000_010)
        self.assertEqual(bill.amount_residual, 100.0)
        self.assert_stream_healthy()

    def test_allocations_must_add_up_to_the_amount(self):
        bill = self.exported_bill(100.0)
        self.inject(self.report("SUM", (bill, 60.0), Amount=100.0))
        self.run_stream("payment")
        self.assertIn(
            "add up to 60.00, not to the payment's Amount of 100.00", self.attention("SUM")
        )

    def test_avidpay_statuses_have_their_meaning(self):
        paid = self.exported_bill(30.0, ref="PAID")
        held = self.exported_bill(20.0, ref="HELD")
        self.inject(
            self.report(
                "AVP-1", (paid, 30.0), Status={"Id": 7, "Description": "Issued to Supplier"}
            )
        )
        self.inject(self.report("AVP-2", (held, 20.0), Status={"Id": 8, "Description": "Held"}))
        self.run_stream("payment")
        payments = self.env["avidxchange.payment"]
        first = payments.search([("payment_ref", "=", "AVP-1")])
        self.assertEqual((first.state, first.status), ("posted", "Issued to Supplier"))
        self.assertEqual(paid.amount_residual, 0.0)
        second = payments.search([("payment_ref", "=", "AVP-2")])
        self.assertEqual((second.state, second.status), ("waiting", "Held"))
        self.assertEqual(held.amount_residual, 20.0)

    def test_an_invoice_is_found_by_our_id_when_its_avidxchange_id_is_unknown(self):
        bill = self.exported_bill(70.0)
        report = self.report("BYEXTERNAL", (bill, 70.0))
        report["Invoices"][0]["Id"] = "INV-UNKNOWN-9"
        self.inject(report)
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)

    def test_one_payment_pays_one_vendor(self):
        other_vendor = self.vendor("Other Steel")
        mine = self.exported_bill(10.0, ref="MINE")
        theirs = self.exported_bill(20.0, ref="THEIRS", vendor=other_vendor)
        self.inject(self.report("TWOVENDORS", (mine, 10.0), (theirs, 20.0)))
        self.run_stream("payment")
        self.assertIn("several vendors", self.attention("TWOVENDORS"))
        self.assertEqual(mine.amount_residual + theirs.amount_residual, 30.0)

    def test_imported_payments_are_read_only_to_everyone(self):
        bill = self.exported_bill(50.0)
        report = self.pay((bill, 50.0))
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertTrue(self.env.user.has_group("account_avidxchange.group_avidxchange_manager"))
        with self.assertRaises(AccessError):
            payment.write({"last_report": '{"Invoices": []}'})
        with self.assertRaises(AccessError):
            payment.unlink()
        with self.assertRaises(AccessError):
            self.exchanges()[:1].unlink()
