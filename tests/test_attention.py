"""Failures reach a person: posted on the record's chatter and one activity
for the connection's responsible user, done when the record recovers."""

from odoo.tests import new_test_user, tagged

from .common import PaymentCase

ACTIVITY = "account_avidxchange.mail_activity_type_avidxchange"


@tagged("post_install", "-at_install")
class TestAttention(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap_lead = new_test_user(
            cls.env,
            login="avx_ap_lead",
            groups="base.group_user,account.group_account_invoice,"
            "account_avidxchange.group_avidxchange_user",
            company_id=cls.env.company.id,
            company_ids=cls.env.company.ids,
        )
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
        self.simulator.fail_next(
            2,
            status=422,
            path="/invoices",
            method="POST",
            body={"exception": {"reason": "Unknown GL code", "detail": "600000"}},
        )
        self.run_stream("bill")
        [activity] = self.open_activities(bill)
        self.assertEqual(activity.user_id, self.ap_lead)
        self.assertIn("Unknown GL code", str(activity.note))
        self.assertIn("Unknown GL code", str(bill.message_ids[0].body))
        bill.avidxchange_link_ids.action_export_now()  # refused again: no second activity
        self.assertEqual(len(self.open_activities(bill)), 1)
        bill.avidxchange_link_ids.action_export_now()  # it goes
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
