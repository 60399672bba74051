"""The dry run: what the next cycle would send and post, computed by the
real run with its writes kept instead of sent, and everything it did in Odoo
rolled back."""

from odoo.tests import tagged

from .common import PaymentCase

API = "/avidconnect/v1"


@tagged("post_install", "-at_install")
class TestDryRun(PaymentCase):
    def test_the_next_cycle_is_planned_and_nothing_is_sent_or_posted(self):
        self.backend.state = "active"
        gain = self.company_data["default_account_revenue"]
        self.env.company.account_journal_early_pay_discount_gain_account_id = gain
        paid = self.exported_bill(120.0, ref="PAID")
        report = self.pay((paid, 100.0, 20.0))  # paid with a discount taken
        fresh = self.bill(self.vendor("New Vendor Inc"), 55.0, ref="FRESH")  # goes next cycle
        counts = {
            model: self.env[model].search_count([])
            for model in ("account.payment", "account.move", "avidxchange.payment")
        }
        links = {link: (link.state, link.avidxchange_id) for link in fresh.avidxchange_link_ids}
        self.simulator.clear_requests()
        wizard = self.env["avidxchange.dry.run"].create({"backend_id": self.backend.id})
        wizard.action_plan()
        writes = [
            r
            for r in self.simulator.requests()
            if r["method"] != "GET" and r["path"].startswith(API)
        ]
        self.assertEqual(writes, [], "nothing is sent to AvidXchange")
        for model, count in counts.items():
            self.assertEqual(self.env[model].search_count([]), count, f"no {model} stays")
        self.assertEqual(
            {link: (link.state, link.avidxchange_id) for link in fresh.avidxchange_link_ids}, links
        )
        self.assertEqual(paid.amount_residual, 120.0, "nothing posted on the bill")
        sent = {(line.method, line.path.split("/")[1]) for line in wizard.send_ids}
        self.assertIn(("PUT", "vendors"), sent, "the new vendor would go")
        self.assertIn(("POST", "invoices"), sent, "the fresh bill would go")
        bill_request = wizard.send_ids.filtered(lambda line: line.path == "/invoices")
        self.assertIn('"GrossAmount": 55.0', bill_request.body)
        [post] = wizard.post_ids
        self.assertEqual(
            (post.payment_ref, post.amount, post.currency_code, post.write_off),
            (report["PaymentId"], 100.0, "USD", 20.0),
        )
        self.assertIn(paid.name, post.bill_names)
        self.assertFalse(wizard.failures)
        # the real cycle then does what the plan said
        for kind in ("gl_code", "vendor", "purchase_order", "bill", "payment"):
            self.run_stream(kind)
        self.assertEqual(paid.amount_residual, 0.0)
        self.assertEqual(fresh.avidxchange_state, "synced")

    def test_a_stream_that_would_fail_says_why(self):
        self.backend.state = "active"
        self.simulator.reject_credentials()
        wizard = self.env["avidxchange.dry.run"].create({"backend_id": self.backend.id})
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
            wizard.action_plan()
        self.assertIn("Payments", wizard.failures)
        self.assertFalse(self.stream("payment").failure_count, "the real stream is untouched")
