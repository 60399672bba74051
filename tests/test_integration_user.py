"""The scheduled sync runs as a named Odoo user, with that user's rights."""

from odoo.tests import tagged

from .common import PaymentCase

CRONS = (
    "account_avidxchange.ir_cron_avidxchange_export_vendors",
    "account_avidxchange.ir_cron_avidxchange_export_bills",
    "account_avidxchange.ir_cron_avidxchange_import_payments",
)


@tagged("post_install", "-at_install")
class TestIntegrationUser(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = cls.env.ref("account_avidxchange.user_avidxchange_integration")

    def cron_cycle(self):
        """Every stream, as the scheduled actions run them, due now."""
        self.backend.stream_ids.next_run_at = False
        with self.enter_registry_test_mode():
            for xmlid in CRONS:
                self.env.ref(xmlid).method_direct_trigger()
        self.env.invalidate_all()

    def test_the_dedicated_user_runs_a_full_cycle_with_its_own_rights(self):
        self.assertEqual(self.backend.sync_user_id, self.integration)
        self.assertFalse(self.integration.active, "it can never log in")
        self.assertIn(self.backend.company_id, self.integration.company_ids)
        self.assertFalse(self.integration.has_group("account.group_account_manager"))
        self.assertFalse(
            self.integration.has_group("account_avidxchange.group_avidxchange_manager")
        )
        bill = self.bill(self.acme, 120.0)
        self.backend.bill_date_from = bill.invoice_date
        self.backend.action_activate()
        self.cron_cycle()
        self.assertEqual(bill.avidxchange_state, "synced")
        self.assertEqual(bill.avidxchange_link_ids.write_uid, self.integration)  # it sent it
        self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        report = self.pay((bill, 120.0))
        self.cron_cycle()
        payment = self.imported(report)
        self.assertEqual(payment.state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(bill.matched_payment_ids.create_uid, self.integration)
        streams = self.backend.stream_ids
        self.assertFalse(any(streams.mapped("failure_count")), streams.mapped("last_error"))

    def test_a_right_removed_fails_on_the_stream_in_words(self):
        """Without Invoicing, the integration user cannot register payments:
        the payment stream says so, and the payment waits, unharmed."""
        bill = self.exported_bill(80.0)
        report = self.pay((bill, 80.0))
        self.backend.action_activate()
        self.integration.group_ids -= self.env.ref("account.group_account_invoice")
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING") as logs:
            self.cron_cycle()
        self.assertFalse([line for line in logs.output if "Traceback" in line])
        stream = self.stream("payment")
        self.assertEqual(stream.failure_count, 1)
        self.assertIn(
            "The sync runs as AvidXchange Integration, who lacks a right", stream.last_error
        )
        self.assertIn("account.payment", stream.last_error)
        self.assertEqual(bill.amount_residual, 80.0)
        self.assertFalse(self.imported(report).filtered(lambda p: p.state == "error"))
        # the right given back, the next run registers it
        self.integration.group_ids += self.env.ref("account.group_account_invoice")
        self.cron_cycle()
        self.assertEqual(bill.amount_residual, 0.0)

    def test_a_right_refused_at_posting_loses_no_payment(self):
        """The user may read everything but not create payments: the whole
        slice is undone, and once the right is given the payments register."""
        bills = [self.exported_bill(10.0, ref="R-1"), self.exported_bill(20.0, ref="R-2")]
        reports = [self.pay((bill, bill.amount_total)) for bill in bills]
        self.backend.action_activate()
        rule = self.env["ir.rule"].create(
            {
                "name": "No payments by the sync",
                "model_id": self.env.ref("account.model_account_payment").id,
                "groups": [(4, self.env.ref("account_avidxchange.group_avidxchange_sync").id)],
                "domain_force": "[(0, '=', 1)]",
                "perm_read": False,
                "perm_write": False,
                "perm_unlink": False,
            }
        )
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
            self.cron_cycle()
        self.assertIn("lacks a right", self.stream("payment").last_error)
        payments = self.env["avidxchange.payment"].search(
            [("payment_ref", "in", [r["PaymentId"] for r in reports])]
        )
        self.assertEqual(payments.mapped("to_apply"), [True, True], "still waiting")
        rule.unlink()
        self.cron_cycle()
        self.assertEqual(payments.mapped("state"), ["posted", "posted"])
        self.assertEqual([bill.amount_residual for bill in bills], [0.0, 0.0])

    def test_a_connection_may_name_another_user(self):
        """An integrator's own user: its rights apply, and it must work in the
        connection's company."""
        other = self.setup_other_company()["company"]
        user = self.env["res.users"].create(
            {
                "name": "Integrator",
                "login": "avx_integrator",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "group_ids": [(6, 0, self.integration.group_ids.ids)],
            }
        )
        self.backend.sync_user_id = user
        with self.assertRaisesRegex(Exception, "may not work in"):
            self.backend.action_activate()
        user.company_ids += self.backend.company_id
        self.backend.bill_date_from = "2026-11-01"
        self.backend.action_activate()
        bill = self.bill(self.acme, 30.0)
        self.cron_cycle()
        self.assertEqual(bill.avidxchange_link_ids.write_uid, user)  # it sent it

    def test_the_dedicated_user_imports_captured_invoices(self):
        """It makes the bills of invoices captured in AvidXchange with its own
        rights (Invoicing); the import's own records it keeps as the import."""
        self.backend.write({"bills_origin": "both", "accounting_system_name": "Odoo"})
        self.backend.action_activate()
        plan = self.env["account.analytic.plan"].create({"name": "Department"})
        operations = self.env["account.analytic.account"].create(
            {"name": "Operations", "code": "OPS", "plan_id": plan.id}
        )
        code = self.env["avidxchange.partner.link"].create(
            {"backend_id": self.backend.id, "partner_id": self.acme.id}
        )
        invoice_id = self.simulator.capture_invoice(
            "INT-1",
            {"VendorName": "Acme Steel", "VendorExternalSystemID": code.external_code},
            amount=75.0,
            distributions=[
                {
                    "Amount": 75.0,
                    "EnterpriseCodes": [
                        {
                            "GroupName": "Accounting Codes",
                            "EnterpriseCodeValue": self.company_data[
                                "default_account_expense"
                            ].code,
                        },
                        # an analytic code, the integration user sees no analytics
                        {"GroupName": plan.name, "EnterpriseCodeValue": "OPS"},
                    ],
                }
            ],
        )
        guid = self.simulator.close_batch([invoice_id])
        self.assertFalse(self.integration.has_group("analytic.group_analytic_accounting"))
        self.cron_cycle()
        streams = self.backend.stream_ids
        self.assertFalse(any(streams.mapped("failure_count")), streams.mapped("last_error"))
        bill = self.env["account.move"].search(
            [("avidxchange_captured_id.invoice_ref", "=", invoice_id)]
        )
        self.assertEqual(bill.create_uid, self.integration)
        self.assertEqual(bill.invoice_line_ids.analytic_distribution, {str(operations.id): 100})
        self.assertEqual(len(self.simulator.export_histories(guid)), 1)
