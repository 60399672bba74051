"""The audit trail: an entry per request, redacted, replayable when it failed."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CLIENT_SECRET, STREAM_LOGGER, AvidxchangeCase


@tagged("post_install", "-at_install")
class TestExchangeLog(AvidxchangeCase):
    def test_connection_test_is_logged_without_secrets(self):
        self.backend.action_test_connection()
        logs = self.exchanges(operation="connection_test")
        self.assertEqual(
            [(log.method, log.endpoint.split("?")[0], log.http_status, log.state) for log in logs],
            [
                ("POST", "/token", 200, "success"),
                ("GET", "/avidconnect/v1/payments", 200, "success"),
            ],
        )
        self.assertFalse(logs[0].request_body or logs[0].response_body)
        self.assertIn('"Items"', logs[1].response_body)
        self.assertEqual(logs.mapped("direction"), ["outgoing", "outgoing"])
        self.assertEqual(logs[1].res_model, "avidxchange.backend")
        self.assertEqual(logs[1].res_id, self.backend.id)
        self.assert_no_secret_in_logs()

    def test_failed_token_request_is_logged_with_the_reason(self):
        self.backend.client_secret = "wrong-secret"
        self.backend.action_test_connection()
        log = self.exchanges(operation="connection_test")
        self.assertEqual(len(log), 1)
        self.assertEqual((log.http_status, log.state), (401, "failed"))
        self.assertIn("invalid_client", log.error_message)
        self.assert_no_secret_in_logs(extra=["wrong-secret"])

    def test_replay_of_a_failed_connection_test(self):
        self.simulator.fail_next(1, status=404, path="/payments")
        self.backend.action_test_connection()
        self.assertEqual(self.backend.connection_status, "failed")
        failed = self.exchanges(operation="connection_test", state="failed")
        self.assertEqual(
            (failed.res_model, failed.res_id), ("avidxchange.backend", self.backend.id)
        )
        failed.action_replay()
        self.assertEqual(self.backend.connection_status, "ok")
        replay = self.exchanges(replay_of_id=failed.id)
        self.assertEqual(replay.mapped("state"), ["success", "success"])

    def test_vendor_payload_is_logged_redacted(self):
        vendor = self.vendor(vat="12-3456789")
        self.run_stream("vendor")
        log = self.exchanges(operation="vendor", method="PUT")
        self.assertEqual(len(log), 1)
        self.assertEqual((log.res_model, log.res_id), ("res.partner", vendor.id))
        self.assertIn('"Name": "Acme Steel"', log.request_body)
        self.assertNotIn("12-3456789", log.request_body + log.response_body)
        self.assertIn('"FedTaxId": "********"', log.request_body)
        # the simulator did receive the real value
        self.assertEqual(
            self.simulator.get_vendor("AVX-COMPANY-1", self.backend._external_id(vendor.id))[
                "FedTaxId"
            ],
            "12-3456789",
        )

    def test_replay_of_a_failed_export_runs_the_normal_path(self):
        vendor = self.vendor()
        self.simulator.fail_next(1, status=422, path="/vendors")
        self.run_stream("vendor")
        link = vendor.avidxchange_link_ids
        self.assertEqual(link.state, "error")
        failed = self.exchanges(operation="vendor", state="failed")
        self.assertEqual(len(failed), 1)
        self.assertIn("HTTP 422", failed.error_message)
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 1)

        # the vendor did not change: a new cycle leaves the bad record alone
        self.run_stream("vendor")
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 1)

        action = failed.action_replay()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Replayed 1", action["params"]["message"])
        self.assertTrue(failed.replayed)
        self.assertEqual(link.state, "synced")
        self.assertTrue(link.avidxchange_id)
        replay = self.exchanges(replay_of_id=failed.id, method="PUT")
        self.assertEqual((replay.state, replay.http_status), ("success", 201))
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 2)

    def test_autovacuum_keeps_failures(self):
        self.backend.client_secret = "wrong-secret"
        self.backend.action_test_connection()  # one failed entry
        self.backend.client_secret = CLIENT_SECRET
        self.backend.action_test_connection()  # two successful entries
        logs = self.exchanges()
        self.assertEqual(logs.mapped("state"), ["failed", "success", "success"])
        self.env.cr.execute(
            "UPDATE avidxchange_exchange_log SET create_date = %s WHERE id IN %s",
            [fields.Datetime.now() - timedelta(days=31), tuple(logs.ids)],
        )
        self.backend.action_test_connection()  # two recent successful entries
        self.env["avidxchange.exchange.log"]._gc_successful_exchanges()
        self.assertEqual(logs.exists().mapped("state"), ["failed"])
        self.assertEqual(len(self.exchanges()), 3)

    def assert_no_secret_in_logs(self, extra=()):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(l)::text FROM avidxchange_exchange_log l WHERE backend_id = %s",
            [self.backend.id],
        )
        rows = "\n".join(row for (row,) in self.env.cr.fetchall())
        for secret in (CLIENT_SECRET, *extra):
            self.assertNotIn(secret, rows)
        self.assertNotIn("Bearer", rows)
        self.assertNotIn("Basic ", rows)

    def test_replay_of_a_failed_bill_export(self):
        bill = self.bill(self.vendor(), 120.0)
        self.simulator.fail_next(1, status=422, path="/invoices")
        self.run_stream("bill")
        failed = self.exchanges(operation="bill", state="failed")
        self.assertEqual((failed.res_model, failed.res_id), ("account.move", bill.id))
        self.assertEqual(bill.avidxchange_state, "error")
        failed.action_replay()
        self.assertEqual(bill.avidxchange_state, "synced")
        replay = self.exchanges(replay_of_id=failed.id, endpoint="/avidconnect/v1/invoices")
        self.assertEqual(replay.http_status, 201)
        self.assertEqual(self.simulator.count("POST", "/invoices"), 2)

    def test_replay_of_a_failed_payment_import(self):
        self.simulator.fail_next(1, status=404, path="/invoices")
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.run_stream("payment")
        failed = self.exchanges(operation="payment", state="failed")
        self.assertEqual(
            (failed.res_model, failed.res_id), ("avidxchange.stream", self.stream("payment").id)
        )
        self.assertEqual(self.stream("payment").failure_count, 1)  # the window is read again
        failed.action_replay()
        self.assertEqual(self.stream("payment").failure_count, 0)
        self.assertTrue(self.stream("payment").last_success_at)
        self.assertEqual(self.simulator.count("GET", "/payments"), 1)

    def test_each_payment_report_is_in_the_trail_of_its_payments(self):
        vendor = self.vendor()
        bill = self.bill(vendor, 100.0)
        self.run_stream("bill")
        self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        report = self.simulator.pay([{"invoice_id": bill.avidxchange_invoice_id, "amount": 100.0}])
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.avidxchange_exchange_count, 1)
        action = odoo_payment.action_open_avidxchange_exchanges()
        entry = self.env["avidxchange.exchange.log"].search(action["domain"])
        self.assertEqual(entry.res_id, odoo_payment.avidxchange_payment_id.id)
        self.assertEqual(entry.direction, "incoming")
        self.assertIn(report["PaymentId"], entry.endpoint)
        self.assertIn(f'"PaymentId": "{report["PaymentId"]}"', entry.response_body)

    def test_replay_of_a_failed_payment_report(self):
        self.env.company.account_journal_early_pay_discount_gain_account_id = False
        bill = self.bill(self.vendor(), 100.0)
        self.run_stream("bill")
        self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        self.simulator.pay(
            [{"invoice_id": bill.avidxchange_invoice_id, "amount": 97.0, "discount": 3.0}]
        )
        self.run_stream("payment")
        failed = self.exchanges(operation="payment", state="failed")
        self.assertEqual(failed.res_model, "avidxchange.payment")
        self.assertIn("cash discount gain account", failed.error_message)
        self.env.company.account_journal_early_pay_discount_gain_account_id = self.company_data[
            "default_account_revenue"
        ]
        failed.action_replay()
        replay = self.exchanges(replay_of_id=failed.id)
        self.assertEqual((replay.state, replay.res_id), ("success", failed.res_id))
        self.assertEqual(bill.amount_residual, 0.0)

    def test_a_replay_that_fails_again_says_so(self):
        vendor = self.vendor()
        self.simulator.fail_next(2, status=422, path="/vendors")
        self.run_stream("vendor")
        failed = self.exchanges(operation="vendor", state="failed")
        action = failed.action_replay()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("failed again", action["params"]["message"])
        self.assertIn("422", action["params"]["message"])
        self.assertEqual(self.exchanges(replay_of_id=failed.id, method="PUT").state, "failed")
        self.assertEqual(vendor.avidxchange_link_ids.state, "error")

    def test_export_now_says_what_happened(self):
        vendor = self.vendor()
        self.simulator.fail_next(1, status=422, path="/vendors")
        self.run_stream("vendor")
        link = vendor.avidxchange_link_ids
        action = link.action_send_now()
        self.assertEqual(
            (action["params"]["type"], action["params"]["message"]),
            ("success", "1 sent to AvidXchange."),
        )

    def test_the_trail_reads_for_humans(self):
        vendor = self.vendor()
        self.run_stream("vendor")
        [export] = self.exchanges(operation="vendor", method="PUT")
        self.assertEqual(export.display_name, f"Vendors · {vendor.display_name}")
        self.assertEqual(export.status_label, "201")
        self.backend.max_attempts = 1
        self.simulator.drop_next(1, path="/payments")  # hangs up without a byte
        self.backend.action_test_connection()
        unreachable = self.exchanges(operation="connection_test", state="failed")[-1:]
        self.assertEqual(unreachable.status_label, "Unreachable")

    def test_idle_polls_are_kept_a_day(self):
        self.run_stream("payment")  # nothing to read: a token and empty pages
        idle = self.exchanges(idle=True)
        self.assertTrue(idle)
        self.assertFalse(self.exchanges(idle=False), "nothing else happened")
        bill = self.bill(self.vendor(), 10.0)
        self.run_stream("bill")
        news = self.exchanges(operation="bill", method="POST")
        self.assertFalse(news.idle)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE avidxchange_exchange_log SET create_date = now() - interval '2 days'"
        )
        self.env.invalidate_all()
        self.env["avidxchange.exchange.log"]._gc_successful_exchanges()
        self.assertFalse(idle.exists())
        self.assertTrue(news.exists(), "kept for the connection's retention period")
        self.assertTrue(bill)
