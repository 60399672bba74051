"""The reconciliation report: every difference between Odoo and AvidXchange,
by category, each with what to do; "0 differences" when they agree. It reads
AvidXchange and changes nothing on either side."""

from odoo.tests import HttpCase, tagged

from .common import AP_CLERK_GROUPS, PaymentCase

API = "/avidconnect/v1"


@tagged("post_install", "-at_install")
class TestReconciliation(PaymentCase):
    def reconcile(self):
        """The report as a controller runs it; asserts that it sent nothing
        to AvidXchange and posted nothing in Odoo."""
        counts = {
            model: self.env[model].search_count([])
            for model in ("account.payment", "account.move", "avidxchange.payment")
        }
        self.simulator.clear_requests()
        wizard = self.env["avidxchange.reconciliation"].create({"backend_id": self.backend.id})
        wizard.action_compare()
        writes = [
            r
            for r in self.simulator.requests()
            if r["method"] in ("POST", "PUT", "PATCH", "DELETE") and r["path"].startswith(API)
        ]
        self.assertEqual(writes, [], "the report only reads AvidXchange")
        self.assertTrue(self.simulator.count("GET", API + "/payments"))
        for model, count in counts.items():
            self.assertEqual(self.env[model].search_count([]), count, f"no {model} made")
        return wizard

    def categories(self, wizard):
        return sorted(wizard.line_ids.mapped("category"))

    def test_ledgers_that_agree_say_zero_differences_with_their_totals(self):
        paid, partly, open_ = (
            self.exported_bill(100.0, ref="PAID"),
            self.exported_bill(200.0, ref="PARTLY"),
            self.exported_bill(300.0, ref="OPEN"),
        )
        self.pay((paid, 100.0))
        self.pay((partly, 50.0))
        self.run_stream("payment")
        wizard = self.reconcile()
        self.assertEqual(wizard.difference_count, 0, wizard.line_ids.mapped("what_to_do"))
        [total] = wizard.total_ids
        self.assertEqual(
            (total.currency_code, total.open_odoo, total.open_avidxchange, total.difference),
            ("USD", 450.0, 450.0, 0.0),
        )
        self.assertEqual((wizard.bill_count, wizard.payment_count), (3, 2))
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account_avidxchange.report_avidxchange_reconciliation", wizard.ids
        )[0]
        self.assertIn(b"0 differences", html)
        self.assertIn(open_.company_id.name.encode(), html)

    def test_another_systems_payment_is_no_difference(self):
        """A payment of invoices this connection never sent (another system on
        the same AvidXchange company) is kept by the import, needing attention,
        but is not a difference between these two ledgers."""
        paid = self.exported_bill(100.0, ref="OURS")
        self.pay((paid, 100.0))
        other = self.report("PAY-OTHER", (paid, 10.0))
        other["Invoices"][0].update(Id="INV-OF-ANOTHER-SYSTEM", ExternalInvoiceId="SAP-1")
        self.inject(other)
        self.run_stream("payment")
        self.assertEqual(
            self.env["avidxchange.payment"].search([("payment_ref", "=", "PAY-OTHER")]).state,
            "error",
        )
        wizard = self.reconcile()
        self.assertEqual(wizard.difference_count, 0, wizard.line_ids.mapped("what_to_do"))

    def test_each_category_is_reported_with_what_to_do(self):
        unknown = self.exported_bill(10.0, ref="UNKNOWN")
        unknown.avidxchange_link_ids.sudo().avidxchange_id = "INV-NOBODY-KNOWS"
        status = self.exported_bill(20.0, ref="STATUS")
        residual = self.exported_bill(30.0, ref="BYHAND")
        self.release(residual)
        self._register_payment(residual, amount=30.0)  # paid by hand in Odoo
        voided, missed = (
            self.exported_bill(40.0, ref="VOIDED"),
            self.exported_bill(50.0, ref="MISSED"),
        )
        voided_report = self.pay((voided, 40.0))
        bad = self.exported_bill(60.0, ref="BAD")
        self.inject(self.report("PAY-BAD", (bad, 60.0), Currency="XYZ"))
        self.run_stream("payment")
        changed = self.exported_bill(70.0, ref="CHANGED")
        self.release(changed)
        changed.button_draft()
        agree = self.exported_bill(90.0, ref="AGREE")
        self.pay((agree, 90.0))
        self.run_stream("payment")  # reads AGREE's payment, and what changed since
        self.simulator.void_payment(voided_report["PaymentId"])  # not read yet
        missed_report = self.pay((missed, 50.0))  # not read yet
        self.simulator.reject_invoice(status.avidxchange_invoice_id, "No PO")  # not read yet
        wizard = self.reconcile()
        found = {(line.category, line.move_id or line.payment_id) for line in wizard.line_ids}
        expected = {
            ("bill_unknown", unknown),
            ("status_differs", status),
            ("residual_differs", residual),
            ("payment_not_live", self.imported(voided_report)),
            ("residual_differs", voided),  # paid in Odoo, open again in AvidXchange
            ("residual_differs", missed),  # paid in AvidXchange, open in Odoo
            ("bill_changed", changed),
            (
                "report_attention",
                self.env["avidxchange.payment"].search([("payment_ref", "=", "PAY-BAD")]),
            ),
        }
        self.assertLessEqual(expected, found)
        [missed_line] = wizard.line_ids.filtered(lambda line: line.category == "payment_missed")
        self.assertEqual(missed_line.reference, missed_report["PaymentId"])
        self.assertNotIn(agree, wizard.line_ids.move_id, "a bill both sides agree on is no line")
        self.assertTrue(all(wizard.line_ids.mapped("what_to_do")))
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account_avidxchange.report_avidxchange_reconciliation", wizard.ids
        )[0]
        self.assertIn(f"{wizard.difference_count} differences".encode(), html)
        # the fixing action of a missed payment reads it again: then it agrees
        missed_line.action_fix()
        self.assertEqual(missed.amount_residual, 0.0)

    def test_a_payment_changed_in_odoo_is_reported(self):
        bill = self.exported_bill(80.0, ref="EDITED")
        report = self.pay((bill, 80.0))
        self.run_stream("payment")
        odoo_payment = self.imported(report).odoo_payment_ids
        self.env["avidxchange.payment.release"].with_context(
            active_model="account.payment", active_ids=odoo_payment.ids
        ).create({"reason": "Keyed again by hand"}).action_release()
        odoo_payment.action_draft()  # released, then reset: no longer what AvidXchange paid
        wizard = self.reconcile()
        [line] = wizard.line_ids.filtered(lambda line: line.category == "payment_edited")
        self.assertEqual(line.payment_id, self.imported(report))
        self.assertEqual(line.odoo_value, "Reset or cancelled")


@tagged("post_install", "-at_install")
class TestOperationsTour(PaymentCase, HttpCase):
    """In the browser: the overview card, the rejected bills it opens, and the
    reconciliation report."""

    def test_overview_and_reconciliation_tours(self):
        self.backend.state = "active"
        rejected = self.exported_bill(25.0, ref="REJECTED-1")
        self.simulator.reject_invoice(rejected.avidxchange_invoice_id, "Duplicate")
        for kind in ("gl_code", "vendor", "purchase_order", "bill", "payment"):
            self.run_stream(kind)
        self.assertEqual(rejected.avidxchange_sync_status, "rejected")
        self.simulator.set_invoice_status(rejected.avidxchange_invoice_id, "Approved")  # unread
        lead = self.company_user("avx_tour_lead", *AP_CLERK_GROUPS)
        self.assertTrue(lead)
        self.start_tour(
            "/odoo/action-account_avidxchange.avidxchange_overview_action",
            "account_avidxchange_overview",
            login="avx_tour_lead",
        )
        self.start_tour(
            "/odoo/action-account_avidxchange.avidxchange_reconciliation_action",
            "account_avidxchange_reconciliation",
            login="avx_tour_lead",
        )
