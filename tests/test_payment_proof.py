"""Proof of payment: AvidXchange's status history of a payment as a timeline,
and a cleared check's image on the Odoo payment."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import PaymentCase


@tagged("post_install", "-at_install")
class TestPaymentProof(PaymentCase):
    def cleared_check(self, amount=75.0):
        bill = self.exported_bill(amount)
        report = self.pay((bill, amount), method="Check")
        self.run_stream("payment")
        self.simulator.clear_payment(report["PaymentId"])
        return bill, report

    def test_a_cleared_check_brings_its_image_to_the_odoo_payment(self):
        bill, report = self.cleared_check()
        image_path = f"/payments/{report['PaymentId']}/getclearedcheckimage"
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.status_category, "cleared")
        image = payment.check_image_id
        self.assertEqual(image.name, f"check-{report['CheckNumber']}.pdf")
        self.assertTrue(image.raw.startswith(b"%PDF"))
        self.assertEqual(
            (image.res_model, image.res_id), ("account.payment", bill.matched_payment_ids.id)
        )
        self.assertIn(image, bill.matched_payment_ids.message_ids.attachment_ids)
        self.assertEqual(self.simulator.count("GET", image_path), 1)
        self.simulator.report_again(report["PaymentId"])
        self.run_stream("payment")
        self.assertEqual(self.simulator.count("GET", image_path), 1, "fetched once")

    def test_the_status_history_is_a_timeline_for_a_clerk(self):
        _bill, report = self.cleared_check()
        self.run_stream("payment")
        clerk = self.company_user("avx_proof_clerk", "account_avidxchange.group_avidxchange_user")
        payment = self.imported(report).with_user(clerk)
        action = payment.action_fetch_proof()
        self.assertEqual(action["params"]["type"], "success")
        steps = payment.history_ids
        self.assertEqual(steps.mapped("status"), ["Sent to Check Printer", "Issued", "Cleared"])
        self.assertEqual(steps.mapped("date"), sorted(steps.mapped("date")))

    def test_an_ach_payment_asks_for_no_image(self):
        bill = self.exported_bill(40.0)
        report = self.pay((bill, 40.0), method="ACH")
        self.run_stream("payment")
        self.simulator.clear_payment(report["PaymentId"])
        self.run_stream("payment")
        self.assertFalse(self.imported(report).check_image_id)
        self.assertEqual(self.simulator.count("GET", "/payments/*"), 0)

    def test_a_hostile_history_is_refused_in_words(self):
        _bill, report = self.cleared_check()
        self.run_stream("payment")
        payment = self.imported(report)
        history = f"/payments/{report['PaymentId']}/paymenthistory"
        self.simulator.answer_next(1, body={"Items": "everything"}, path=history)
        with self.assertRaisesRegex(UserError, "not a list"):
            payment.action_fetch_proof()
        self.simulator.answer_next(
            1,
            body={"Items": [42, {"Status": ""}, {"Status": "Issued", "Date": "yesterday"}]},
            path=history,
        )
        payment.action_fetch_proof()
        self.assertEqual(payment.history_ids.mapped("status"), ["Issued"])
        self.assertFalse(payment.history_ids.date)

    def test_a_proof_that_fails_never_stops_the_import(self):
        """A history AvidXchange garbles, or one holding a NUL, is this
        payment's problem, said on it and given up after three runs: the
        import goes on, and its stream stays healthy."""
        _bill, report = self.cleared_check()
        history = f"/payments/{report['PaymentId']}/paymenthistory"
        self.simulator.answer_next(3, body={"Items": "garbage"}, path=history)
        other = self.exported_bill(30.0, ref="OTHER")
        later = self.pay((other, 30.0))
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(self.imported(later).state, "posted")
        self.assertFalse(self.stream("payment").failure_count)
        self.assertIn("not a list", payment.proof_error)
        self.assertTrue(payment.proof_wanted, "tried again")
        self.run_stream("payment")
        self.run_stream("payment")
        self.assertEqual(payment.proof_attempts, 3)
        self.assertFalse(payment.proof_wanted, "given up: Proof of Payment tries again")
        self.simulator.answer_next(
            1, body={"Items": [{"Status": "Issued\x00", "Note": "\ud800 lone"}]}, path=history
        )
        payment.action_fetch_proof()
        self.assertEqual(payment.history_ids.mapped("status"), ["Issued"])
        self.assertFalse(payment.proof_error)

    def test_an_invoice_list_item_of_any_shape_never_stops_the_import(self):
        bill = self.exported_bill(60.0)
        report = self.pay((bill, 60.0))
        page = {
            "Items": [{"Id": ["x"], "Status": "Approved"}, {"Id": {"a": 1}, "Status": "Void"}],
            "Paging": {"PageNumber": 1, "PageSize": 100, "Pages": 1, "TotalItems": 2},
        }
        self.simulator.answer_next(1, body=page, path="/invoices", method="GET")
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted")
        self.assertFalse(self.stream("payment").failure_count)
