"""A connection syncs through streams: each due on its own schedule, each
writing only its own row, each failing on its own."""

from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..tools.locks import lock_available
from .common import (
    STREAM_LOGGER,
    AvidxchangeCase,
    CommittedConnectionCase,
)
from .test_migration import migration_step

KINDS = ["gl_code", "vendor", "purchase_order", "bill", "captured_invoice", "payment"]
CRONS = {
    "account_avidxchange.ir_cron_avidxchange_export_vendors": ["gl_code", "vendor"],
    "account_avidxchange.ir_cron_avidxchange_export_bills": ["purchase_order", "bill"],
    "account_avidxchange.ir_cron_avidxchange_import_payments": ["captured_invoice", "payment"],
}


@tagged("post_install", "-at_install")
class TestStreamSchedule(AvidxchangeCase):
    def due(self, now):
        Stream = self.env["avidxchange.stream"]
        return Stream.search(Stream._due_domain(KINDS, now)).filtered(
            lambda stream: stream.backend_id == self.backend
        )

    def test_a_connection_has_one_stream_of_each_kind(self):
        self.assertEqual(self.backend.stream_ids.mapped("kind"), KINDS)
        self.assertEqual(self.stream("payment").interval, 15)
        self.assertEqual(self.stream("vendor").interval, 60)

    def test_one_registry_names_every_kind(self):
        """The models that own a kind are the one list of kinds: the streams,
        the scheduled actions and the trail's operations all read it."""
        Handler = self.env["avidxchange.stream.handler"]
        self.assertEqual(list(Handler._avidxchange_handlers()), KINDS)
        self.assertEqual([kind for kind, _label in Handler._avidxchange_kind_selection()], KINDS)
        operations = self.env["avidxchange.exchange.log"]._selection_operation()
        self.assertEqual(
            [op for op, _label in operations], ["connection_test", *KINDS, "reconciliation"]
        )
        self.assertEqual(Handler._avidxchange_inbound_kinds(), {"captured_invoice", "payment"})
        crons = {
            kind: xmlid for xmlid, kinds in CRONS.items() for kind in kinds
        }  # each kind runs in exactly one scheduled action, the one its model names
        for kind, spec in Handler._avidxchange_kinds().items():
            cron = self.env.ref(crons[kind])
            self.assertEqual(cron.code, f'model._cron_run("{spec.cron}")')

    def test_a_kind_an_upgrade_brings_gets_its_stream_on_every_connection(self):
        self.stream("purchase_order").sudo().unlink()
        self.assertNotIn("purchase_order", self.backend.stream_ids.mapped("kind"))
        upgrade = migration_step("post-migrate", "0.0.0")  # run after every version's steps
        upgrade(self.env.cr, "19.0.1.3.0")
        self.backend.invalidate_recordset(["stream_ids"])
        self.assertEqual(self.backend.stream_ids.mapped("kind"), KINDS)
        self.assertEqual(self.stream("purchase_order").interval, 30)
        upgrade(self.env.cr, "19.0.1.3.0")  # and only once
        self.assertEqual(len(self.backend.stream_ids), len(KINDS))

    def test_a_stream_is_due_when_its_interval_has_passed(self):
        now = fields.Datetime.now()
        self.assertFalse(self.due(now), "an inactive connection has nothing due")
        self.backend.action_activate()
        self.assertEqual(self.due(now), self.backend.stream_ids, "never run: due at once")
        vendors = self.stream("vendor")
        vendors.sudo().last_run_at = now - timedelta(minutes=59)
        self.assertNotIn(vendors, self.due(now))
        self.assertIn(vendors, self.due(now + timedelta(minutes=1)))
        vendors.interval = 30  # a connection's own schedule, changed on the stream
        self.assertIn(vendors, self.due(now))
        vendors.interval = 60
        vendors.sudo().pending_count = 3  # a backlog goes on at the next tick
        self.assertIn(vendors, self.due(now))

    def test_the_scheduled_actions_stay_active_and_do_nothing_without_a_connection(self):
        for xmlid in CRONS:
            cron = self.env.ref(xmlid)
            self.assertTrue(cron.active)
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
            self.assertTrue(cron.active)
        self.assertEqual(self.simulator.count(), 0)
        self.assertFalse(self.backend.stream_ids.filtered("last_run_at"))

    def test_each_scheduled_action_runs_its_own_streams_when_due(self):
        self.backend.action_activate()
        ran = []
        for xmlid, kinds in CRONS.items():
            with self.enter_registry_test_mode():
                self.env.ref(xmlid).method_direct_trigger()
            self.env.invalidate_all()
            ran += kinds
            streams_run = self.backend.stream_ids.filtered("last_run_at")
            self.assertEqual(set(streams_run.mapped("kind")), set(ran))
        self.assertEqual(self.backend.stream_ids.mapped("failure_count"), [0] * len(KINDS))
        payments = self.simulator.count("GET", "/payments")
        with self.enter_registry_test_mode():  # not due again before its interval has passed
            self.env.ref(
                "account_avidxchange.ir_cron_avidxchange_import_payments"
            ).method_direct_trigger()
        self.assertEqual(self.simulator.count("GET", "/payments"), payments)

    def test_a_stream_that_keeps_failing_waits_longer(self):
        payments = self.stream("payment").sudo()
        now = fields.Datetime.now()
        payments.write({"last_run_at": now, "failure_count": 2})
        self.assertEqual(payments.next_run_at, now + timedelta(minutes=15))
        self.assertEqual(payments.health, "failing")
        payments.failure_count = 3
        self.assertEqual(payments.next_run_at, now + timedelta(minutes=30))
        self.assertEqual(payments.health, "paused")
        payments.failure_count = 4
        self.assertEqual(payments.next_run_at, now + timedelta(minutes=60))
        payments.failure_count = 40
        self.assertEqual(payments.next_run_at, now + timedelta(days=1))

    def test_failures_count_up_and_a_success_resets_them(self):
        self.backend.max_attempts = 1
        self.simulator.fail_next(2, status=503, path="/invoices")
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.assertEqual(self.run_stream("payment"), (0, 0))
            self.assertEqual(self.run_stream("payment"), (0, 0))
        payments = self.stream("payment")
        self.assertEqual(payments.failure_count, 2)
        self.assertIn("HTTP 503", payments.last_error)
        self.assertFalse(payments.last_success_at)
        self.run_stream("payment")
        self.assertEqual((payments.failure_count, payments.last_error), (0, False))
        self.assertEqual(payments.last_success_at, payments.last_run_at)

    def test_run_now_says_how_it_went(self):
        self.vendor("Acme Steel")
        action = self.stream("vendor").action_run_now()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("1 done, 0 waiting", action["params"]["message"])

    def test_only_administrators_run_a_stream_by_hand(self):
        clerk = self.ap_clerk("avx-clerk")
        self.vendor("Acme Steel")
        with self.assertRaises(AccessError):
            self.stream("vendor").with_user(clerk).action_run_now()
        self.assertEqual(self.simulator.count(), 0)

    def test_the_connection_says_when_its_streams_fail(self):
        self.assertFalse(self.backend.failing_stream_count)
        self.backend.max_attempts = 1
        self.simulator.fail_next(1, status=503, path="/invoices")
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.run_stream("payment")
        self.assertEqual(self.backend.failing_stream_count, 1)


@tagged("post_install", "-at_install")
class TestStreamIsolation(AvidxchangeCase):
    """Whatever one stream raises stays on that stream."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.setup_other_company()["company"]
        cls.other_backend = (
            cls.env["avidxchange.backend"]
            .with_company(cls.other_company)
            .create(
                cls._backend_values(
                    name="Other company",
                    company_id=cls.other_company.id,
                    journal_id=False,
                )
            )
        )

    def test_an_unexpected_error_stops_only_its_own_stream(self):
        mine = self.vendor("Mine")
        theirs = self.vendor("Theirs", company_id=self.other_company.id)
        theirs.with_company(self.other_company).avidxchange_enabled = True
        (self.backend | self.other_backend).write({"state": "active"})
        PartnerLink = type(self.env["avidxchange.partner.link"])
        original = PartnerLink._avidxchange_stream_batch

        def broken_for_mine(links, stream, batch_size):
            result = original(links, stream, batch_size)
            if stream.backend_id == self.backend:
                raise ZeroDivisionError("a bug in one stream, after its work")
            return result

        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors")
        with (
            patch.object(PartnerLink, "_avidxchange_stream_batch", broken_for_mine),
            self.enter_registry_test_mode(),
            self.assertLogs(STREAM_LOGGER, "ERROR") as logs,
        ):
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertIn("ZeroDivisionError", "\n".join(logs.output))
        broken = self.stream("vendor")
        self.assertEqual(broken.failure_count, 1)
        self.assertIn("unexpected error (ZeroDivisionError)", broken.last_error)
        self.assertNotIn("a bug in one stream", broken.last_error)  # details stay in the log
        # its outcome was rolled back to its reservation (committed before the
        # first request): the run after the timeout sends it again
        link = mine.avidxchange_link_ids
        self.assertEqual(link.state, "pending")
        self.assertTrue(link.sending_since)
        self.assertTrue(self.stream("gl_code").last_success_at, "the next stream ran")
        self.assertEqual(self.stream("vendor", self.other_backend).failure_count, 0)
        self.assertEqual(theirs.with_company(self.other_company).avidxchange_state, "synced")


@tagged("post_install", "-at_install")
class TestStreamsRunTogether(CommittedConnectionCase):
    """Two streams of one connection, in two transactions at once, as two
    scheduled actions run them: neither waits for nor breaks the other."""

    def test_a_row_another_transaction_changed_is_skipped_not_fatal(self):
        """Under Odoo's repeatable read, locking a row that a transaction
        committed after ours began fails; the stream skips it and goes on."""
        with self.registry.cursor() as cr_cron, self.registry.cursor() as cr_user:
            vendors = self.stream_in(cr_cron, "vendor")
            self.assertTrue(vendors.interval)  # the cron's transaction has begun
            self.stream_in(cr_user, "vendor").interval = 5  # a manager edits the stream
            cr_user.commit()
            self.assertEqual(vendors._run(), 0, "skipped, no exception")
            self.assertFalse(vendors.last_run_at)
            cr_cron.execute("SELECT 1")  # the transaction is still usable
        with self.registry.cursor() as cr:
            self.assertEqual(self.stream_in(cr, "vendor").interval, 5)

    def posted_bill(self, env, ref="CONCURRENT-1", amount=90.0):
        """A posted bill of the vendor, in ``env``'s transaction."""
        bill = env["account.move"].create(
            {
                "move_type": "in_invoice",
                "company_id": env.ref("base.main_company").id,
                "partner_id": self.vendor_id,
                "invoice_date": "2026-11-20",
                "ref": ref,
                "invoice_line_ids": [
                    Command.create({"name": "Steel", "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        bill.action_post()
        return bill

    def committed_bill(self, ref="CONCURRENT-1"):
        """A posted bill of the vendor, committed (and deleted after the test)."""
        with self.registry.cursor() as cr:
            bill_id = self.posted_bill(api.Environment(cr, SUPERUSER_ID, {}), ref=ref).id
        self.addCleanup(self.delete_bill, bill_id)
        return bill_id

    def delete_bill(self, bill_id):
        with self.registry.cursor() as cr:
            bill = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(bill_id)
            bill.avidxchange_link_ids.unlink()  # else AvidXchange holds it
            bill.button_draft()
            bill.with_context(force_delete=True).unlink()

    def test_a_vendor_busy_in_another_stream_leaves_its_bill_waiting(self):
        bill_id = self.committed_bill()
        # 1. The vendor stream creates the vendor's link while a bill run is under way:
        #    the bill run cannot see that link and may not create it twice.
        with self.registry.cursor() as cr_bills, self.registry.cursor() as cr_vendors:
            bills = self.stream_in(cr_bills, "bill")
            self.assertTrue(bills.interval)  # the bill run's transaction has begun
            self.assertEqual(self.stream_in(cr_vendors, "vendor")._run_batch(), (1, 0))
            cr_vendors.commit()
            self.assertEqual(bills._run_batch(), (0, 1), "the bill waits, nothing fails")
            self.assertEqual(bills.failure_count, 0)
            cr_bills.commit()
        # 2. The vendor changes and the vendor stream sends it again while a bill run
        #    is under way: the bill run may not lock the vendor's link.
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["res.partner"].browse(
                self.vendor_id
            ).email = "ap@concurrent.example"
        with self.registry.cursor() as cr_bills, self.registry.cursor() as cr_vendors:
            bills = self.stream_in(cr_bills, "bill")
            self.assertTrue(bills.interval)
            self.assertEqual(self.stream_in(cr_vendors, "vendor")._run_batch(), (1, 0))
            cr_vendors.commit()
            self.assertEqual(bills._run_batch(), (0, 1))
            self.assertEqual(bills.failure_count, 0)
            cr_bills.commit()
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)
        # 3. The next run sends it.
        with self.registry.cursor() as cr:
            self.assertEqual(self.stream_in(cr, "bill")._run_batch(), (1, 0))
            bill = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(bill_id)
            self.assertEqual(bill.avidxchange_state, "synced")  # committed on leaving
        self.assertEqual(self.simulator.count("POST", "/invoices"), 1)
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 2)

    def test_a_bill_committed_late_is_not_missed(self):
        """A bill is stamped with the start of the transaction that posts it
        and seen when that commits: a run in between, later than any
        look-back, must not move the mark past it."""
        with self.registry.cursor() as cr_late:
            began = cr_late.now()
            bill = self.posted_bill(api.Environment(cr_late, SUPERUSER_ID, {}), "LATE-1", 60.0)
            # The bill stream runs half an hour on, and the posting is still open.
            with freeze_time(began + timedelta(minutes=30)), self.registry.cursor() as cr:
                self.assertEqual(self.stream_in(cr, "bill")._run_batch(), (0, 0))
            bill_id = bill.id
        self.addCleanup(self.delete_bill, bill_id)
        with self.registry.cursor() as cr:
            self.assertEqual(self.stream_in(cr, "bill")._run_batch(), (1, 0))
        self.assertEqual(self.simulator.count("POST", "/invoices"), 1)

    def test_marking_a_vendor_never_waits_for_a_running_stream(self):
        """A stream's row is its own: a user who widens the scope while the
        bill stream runs asks for a rescan on the connection, and goes on."""
        with self.registry.cursor() as cr_cron, self.registry.cursor() as cr_user:
            bills = self.stream_in(cr_cron, "bill")
            self.assertEqual(lock_available(bills), bills)  # the run holds its row
            cr_user.execute("SET lock_timeout = '2s'")
            env = api.Environment(cr_user, SUPERUSER_ID, {})
            vendor = (
                env["res.partner"].browse(self.vendor_id).with_company(env.ref("base.main_company"))
            )
            vendor.avidxchange_enabled = False
            vendor.avidxchange_enabled = True
            env.flush_all()  # no lock wait
            cr_user.commit()
        with self.registry.cursor() as cr:
            self.assertTrue(self.stream_in(cr, "bill")._take_rescan())
            self.assertFalse(self.stream_in(cr, "bill")._take_rescan(), "once")

    def test_two_streams_of_one_connection_run_at_the_same_time(self):
        with self.registry.cursor() as cr_vendors, self.registry.cursor() as cr_payments:
            # A lock wait would otherwise hang this single-threaded test.
            cr_payments.execute("SET lock_timeout = '5s'")
            vendors = self.stream_in(cr_vendors, "vendor")
            payments = self.stream_in(cr_payments, "payment")
            self.assertEqual(vendors._run_batch(), (1, 0))  # not committed yet
            self.assertEqual(payments._run_batch(), (0, 0))
            cr_payments.commit()
            cr_vendors.commit()
        with self.registry.cursor() as cr:
            for kind in ("vendor", "payment"):
                stream = self.stream_in(cr, kind)
                self.assertEqual(stream.failure_count, 0, kind)
                self.assertTrue(stream.last_success_at, kind)
            self.assertEqual(self.stream_in(cr, "vendor").backend_id.state, "draft")
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 1)
