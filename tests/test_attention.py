"""Failures reach a person: posted on the record's chatter and one activity
for the connection's responsible user, done when the record recovers."""

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import AP_CLERK_GROUPS, PaymentCase

ACTIVITY = "account_avidxchange.mail_activity_type_avidxchange"
UNKNOWN_GL = {"exception": {"reason": "Unknown GL code", "detail": "600000"}}


@tagged("post_install", "-at_install")
class TestAttention(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap_lead = cls.company_user("avx_ap_lead", *AP_CLERK_GROUPS)
        cls.backend.responsible_user_id = cls.ap_lead

    def open_activities(self, record):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("activity_type_id", "=", self.env.ref(ACTIVITY).id),
            ]
        )

    def test_a_refused_bill_gets_one_activity_until_it_goes(self):
        bill = self.bill(self.acme, 80.0)
        self.refuse_bills(2, "600000")
        self.run_stream("bill")
        [activity] = self.open_activities(bill)
        self.assertEqual(activity.user_id, self.ap_lead)
        self.assertIn("Unknown GL code", str(activity.note))
        self.assertIn("Unknown GL code", str(bill.message_ids[0].body))
        bill.avidxchange_link_ids.action_send_now()  # refused again: no second activity
        self.assertEqual(len(self.open_activities(bill)), 1)
        bill.avidxchange_link_ids.action_send_now()  # it goes
        self.assertEqual(bill.avidxchange_state, "synced")
        self.assertFalse(self.open_activities(bill))
        self.assertIn("AvidXchange took it", str(bill.message_ids[:2].mapped("body")))

    def test_a_payment_avidxchange_could_not_make_tells_on_its_bill(self):
        bill = self.exported_bill(90.0)
        report = self.pay((bill, 90.0), status="Pending")
        self.run_stream("payment")
        self.simulator.error_payment(report["PaymentId"], "Missing bank account")
        self.run_stream("payment")
        [activity] = self.open_activities(bill)
        self.assertIn("Missing bank account", str(activity.note))
        self.assertEqual(self.imported(report).failure_reasons, "Missing bank account")
        self.assertEqual(activity.user_id, self.ap_lead)

    def test_a_payment_that_needs_attention_tells_until_it_goes(self):
        bill = self.exported_bill(100.0)
        self.inject(self.report("PAY-BAD", (bill, 100.0), Currency="XYZ"))
        self.run_stream("payment")
        [activity] = self.open_activities(bill)
        self.assertIn("PAY-BAD", activity.summary)
        self.pay((bill, 100.0))
        self.run_stream("payment")
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertFalse(self.open_activities(bill), "paid: done")

    def test_a_stream_that_keeps_failing_tells_the_connection_once(self):
        self.simulator.reject_credentials()
        stream = self.stream("vendor")
        self.vendor("Fresh Vendor")
        for _run in range(2):
            with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
                stream._run_batch()
        self.assertFalse(self.open_activities(self.backend), "a blip is no news")
        for _run in range(2):
            with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
                stream._run_batch()
        [activity] = self.open_activities(self.backend)
        self.assertIn("failed 3 times in a row", str(activity.note))
        self.simulator.reject_credentials(False)
        stream._run_batch()
        self.assertFalse(self.open_activities(self.backend))

    def test_a_rejected_bill_says_why_and_what_to_do_until_it_is_approved_again(self):
        bill = self.exported_bill(75.0)
        self.simulator.reject_invoice(bill.avidxchange_invoice_id, "Wrong PO number: P00099")
        self.run_stream("payment")  # the payment stream reads the invoices' statuses too
        self.assertEqual(bill.avidxchange_sync_status, "rejected")
        self.assertEqual(bill.avidxchange_rejection_reason, "Wrong PO number: P00099")
        self.assertIn("Wrong PO number: P00099", str(bill.message_ids[:2].mapped("body")))
        [activity] = self.open_activities(bill)
        self.assertEqual(activity.user_id, self.ap_lead)
        self.assertIn("Wrong PO number: P00099", str(activity.note))
        self.assertIn("resubmit it there", str(activity.note))
        self.assertIn("cancel the bill", str(activity.note))
        self.run_stream("payment")  # nothing new: no second activity
        self.assertEqual(len(self.open_activities(bill)), 1)
        self.simulator.set_invoice_status(bill.avidxchange_invoice_id, "Approved")
        self.run_stream("payment")
        self.assertEqual(bill.avidxchange_sync_status, "approved")
        self.assertFalse(self.open_activities(bill), "approved again: done")
        self.assertFalse(bill.avidxchange_rejection_reason)

    def test_a_rejected_bill_voided_or_cancelled_is_done(self):
        voided, cancelled = self.exported_bill(10.0, ref="V"), self.exported_bill(20.0, ref="C")
        for bill in voided | cancelled:
            self.simulator.reject_invoice(bill.avidxchange_invoice_id, "Duplicate")
        self.run_stream("payment")
        self.assertEqual(len(self.open_activities(voided) | self.open_activities(cancelled)), 2)
        self.simulator.set_invoice_status(voided.avidxchange_invoice_id, "Void")
        self.run_stream("payment")
        self.assertFalse(self.open_activities(voided), "voided in AvidXchange: done")
        cancelled.button_cancel()  # a rejected bill is not held
        self.assertFalse(self.open_activities(cancelled), "cancelled in Odoo: done")

    def test_a_rejection_reason_that_is_not_text_is_said_so(self):
        long_reason = "Too long. " * 1000
        for reason, expected in (({"Text": 1}, "gave no reason"), (long_reason, "Too long.")):
            with self.subTest(reason=str(reason)[:20]):
                bill = self.exported_bill(30.0, ref=f"R-{len(str(reason))}")
                self.simulator.reject_invoice(bill.avidxchange_invoice_id, reason)
                self.run_stream("payment")
                self.assertEqual(bill.avidxchange_sync_status, "rejected")
                [activity] = self.open_activities(bill)
                self.assertIn(expected, str(activity.note))
                self.assertLessEqual(len(bill.avidxchange_rejection_reason or ""), 2000)


@tagged("post_install", "-at_install")
class TestResponsible(PaymentCase):
    """Alerts reach a person: the connection's Responsible is an active
    internal user, never OdooBot nor a portal user."""

    def test_a_connection_made_by_a_script_names_nobody_and_cannot_activate(self):
        Backend = self.env["avidxchange.backend"]
        as_odoobot = Backend.with_user(self.env.ref("base.user_root"))
        self.assertFalse(as_odoobot.default_get(["responsible_user_id"]).get("responsible_user_id"))
        self.assertEqual(
            Backend.default_get(["responsible_user_id"])["responsible_user_id"], self.env.user.id
        )
        self.backend.state = "draft"
        self.backend.responsible_user_id = False
        with self.assertRaisesRegex(UserError, "Responsible"):
            self.backend.action_activate()
        self.assertEqual(self.backend.state, "draft")

    def test_nobody_but_an_active_internal_user_is_responsible(self):
        portal = new_test_user(self.env, login="avx_portal", groups="base.group_portal")
        archived = new_test_user(self.env, login="avx_gone", groups="base.group_user")
        archived.active = False
        for user in (self.env.ref("base.user_root"), portal, archived):
            with (
                self.subTest(user=user.login),
                self.assertRaisesRegex(ValidationError, "active internal user"),
                self.env.cr.savepoint(),
            ):
                self.backend.responsible_user_id = user
        self.backend.invalidate_recordset(["responsible_user_id"])
        self.assertEqual(self.backend.responsible_user_id, self.env.user, "who made it, a person")

    def test_an_alert_for_a_responsible_archived_since_goes_to_an_administrator(self):
        lead = new_test_user(self.env, login="avx_lead_gone", groups="base.group_user")
        self.backend.responsible_user_id = lead
        lead.active = False
        bill = self.bill(self.acme, 80.0)
        self.simulator.fail_next(2, status=422, path="/invoices", method="POST")
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING") as logged:
            self.run_stream("bill")
        self.assertIn("has no active Responsible", "\n".join(logged.output))
        [activity] = self.env["mail.activity"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        )
        self.assertTrue(activity.user_id.active and not activity.user_id.share)
        self.assertNotEqual(activity.user_id, self.env.ref("base.user_root"))
        self.assertIn(
            self.env.ref("account_avidxchange.group_avidxchange_manager"),
            activity.user_id.all_group_ids,
        )
