"""Health at a glance: what the streams say, not the last Test Connection;
counts a person can click; Sync Health true to what waits."""

import dataclasses
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..tools.health import StreamState, connection_health
from .common import PaymentCase

KINDS = ("gl_code", "vendor", "purchase_order", "bill", "payment")


@tagged("post_install", "-at_install")
class TestHealth(PaymentCase):
    def setUp(self):
        super().setUp()
        self.backend.state = "active"  # as activation leaves it

    def run_every_stream(self):
        for kind in KINDS:
            self.run_stream(kind)

    def test_health_turns_down_in_an_outage_and_healthy_after(self):
        self.backend.action_test_connection()  # a person's test, before the outage
        self.assertEqual(self.backend.sync_health, "new")
        self.run_every_stream()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.sync_health, "healthy")
        self.assertIn("every stream succeeded", self.backend.sync_health_message)
        self.simulator.fail_next(200, status=503)  # AvidXchange is down
        self.backend.max_attempts = 1
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
            self.bill(self.acme, 10.0, ref="DURING")  # something for the bill stream to send
            self.run_every_stream()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.sync_health, "down", "no payment comes in")
        self.assertIn("Bills, Payments failing", self.backend.sync_health_message)
        self.assertIn("503", self.backend.sync_health_message)
        self.assertEqual(self.backend.connection_status, "ok", "the last test is what it was")
        self.simulator.clear_faults()
        self.run_every_stream()
        self.backend.invalidate_recordset()
        self.assertEqual(self.backend.sync_health, "healthy")
        self.assertFalse(self.backend.stream_ids.filtered("failing_since"))

    def test_a_stream_that_has_not_run_for_long_is_late(self):
        self.run_every_stream()
        with freeze_time(fields.Datetime.now() + timedelta(hours=4)):
            self.backend.invalidate_recordset()
            self.assertEqual(self.backend.sync_health, "degraded")
            self.assertIn("scheduled actions", self.backend.sync_health_message)

    def test_counts_are_true_and_open_what_they_count(self):
        rejected = self.exported_bill(20.0, ref="REJECTED")
        self.simulator.reject_invoice(rejected.avidxchange_invoice_id, "No PO")
        self.run_stream("payment")
        bad = self.exported_bill(30.0, ref="BAD")
        self.inject(self.report("PAY-BAD", (bad, 30.0), Currency="XYZ"))
        self.run_stream("payment")
        waiting = self.bill(self.acme, 10.0, ref="WAITING")  # posted since the last bill run
        self.backend.invalidate_recordset()
        stream = self.stream("bill")
        self.assertEqual(stream.waiting_count, 1, "the bill posted since the last run")
        self.assertEqual(self.env["avidxchange.stream"].search([("waiting_count", ">", 0)]), stream)
        self.assertEqual(
            (
                self.backend.bill_waiting_count,
                self.backend.bill_rejected_count,
                self.backend.payment_attention_count,
            ),
            (1, 1, 1),
        )
        self.assertEqual(self.backend.bill_sent_count, 1, "BAD, approved, waits to be paid")
        for status, expected in (
            ("waiting", waiting),
            ("rejected", rejected),
            ("in_avidxchange", bad),
        ):
            with self.subTest(status=status):
                action = self.backend.with_context(
                    avidxchange_sync_status=status
                ).action_open_avidxchange_bills()
                self.assertEqual(self.env["account.move"].search(action["domain"]), expected)
        action = self.backend.action_open_payments_needing_attention()
        self.assertEqual(
            self.env["avidxchange.payment"].search(action["domain"]).payment_ref, "PAY-BAD"
        )

    def test_run_now_reloads_the_row(self):
        action = self.stream("vendor").action_run_now()
        self.assertEqual(action["params"]["next"]["tag"], "soft_reload")


@tagged("post_install", "-at_install")
class TestHealthRules(PaymentCase):
    """The rules of ``tools/health.py``, without a server."""

    def state(self, name, failures=0, ran=True, success_minutes_ago=5, interval=15):
        now = fields.Datetime.now()
        return StreamState(
            name=name,
            interval_minutes=interval,
            last_run_at=now - timedelta(minutes=1) if ran else None,
            last_success_at=now - timedelta(minutes=success_minutes_ago) if ran else None,
            failure_count=failures,
            failing_since=now - timedelta(minutes=30) if failures else None,
            last_error="HTTP 503" if failures else None,
        )

    def test_the_words_for_each_case(self):
        now = fields.Datetime.now()
        cases = [
            ([self.state("A", ran=False)], "new"),
            ([self.state("A"), self.state("B")], "healthy"),
            ([self.state("A", failures=1), self.state("B")], "degraded"),
            (
                [self.state("A"), dataclasses.replace(self.state("B", failures=1), polls=True)],
                "down",
            ),
            ([self.state("A", failures=2), self.state("B", failures=5)], "down"),
            ([self.state("A", failures=1), self.state("B", ran=False)], "down"),
            ([self.state("A", success_minutes_ago=300), self.state("B")], "degraded"),
        ]
        for streams, expected in cases:
            with self.subTest(expected=expected):
                self.assertEqual(connection_health(streams, now).state, expected)
        self.assertEqual(connection_health([self.state("A")], now, active=False).state, "inactive")
        health = connection_health([self.state("A", failures=1), self.state("B")], now)
        self.assertEqual((health.failing, health.error), (["A"], "HTTP 503"))
