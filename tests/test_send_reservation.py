"""Reserve, call, record: a scheduled send marks its bills "being sent" and
commits before it calls AvidXchange, so that nobody waits on AvidXchange: what
Odoo refuses while a bill is being sent, it refuses at once, in words."""

import threading
import time
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import RedirectWarning, UserError
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import tagged

from .. import const
from . import test_streams
from .common import PaymentCase

BEING_SENT = "being sent to AvidXchange right now"
STOPPED = "stopped before its answer was recorded"
LINK_LOGGER = "odoo.addons.account_avidxchange.models.avidxchange_link_mixin"


def register_payment(bill):
    return (
        bill.env["account.payment.register"]
        .with_context(active_model="account.move", active_ids=bill.ids)
        .create({})
        ._create_payments()
    )


@tagged("post_install", "-at_install")
class TestSendReservation(PaymentCase):
    """In one transaction: what a reservation refuses, and a run that
    stopped between its commits, recovered as a lost answer."""

    def reserved_bill(self, minutes_ago=0):
        bill = self.bill(self.acme, 64.0)
        link = self.env["avidxchange.invoice.link"].create(
            {"backend_id": self.backend.id, "move_id": bill.id}
        )
        link.sending_since = fields.Datetime.now() - timedelta(minutes=minutes_ago)
        return bill, link

    def test_a_bill_being_sent_is_refused_in_words(self):
        bill, link = self.reserved_bill()
        for attempt in (lambda: register_payment(bill), bill.button_draft, bill.button_cancel):
            with self.assertRaisesRegex(UserError, BEING_SENT):
                attempt()
        self.assertEqual(self.run_stream("bill"), (0, 1), "another run is sending it")
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)
        with self.assertRaisesRegex(UserError, "being sent these records right now"):
            link.action_send_now()

    def test_a_run_that_stopped_is_a_lost_answer(self):
        """The run submitted the bill and died before it recorded the answer:
        AvidXchange may have it. Once the reservation has timed out the bill
        is held, and the next run submits it again; the 409 confirms it."""
        bill = self.bill(self.acme, 64.0)
        self.run_stream("bill")  # AvidXchange took it; the run dies before it commits:
        link = bill.avidxchange_link_ids
        self.assertEqual(len(self.simulator.invoices()), 1)
        link.write(
            {
                "state": "pending",
                "avidxchange_id": False,
                "payload_hash": False,
                "sending_since": fields.Datetime.now()
                - timedelta(minutes=const.SENDING_TIMEOUT_MINUTES + 1),
            }
        )
        with self.assertRaisesRegex(UserError, STOPPED):
            register_payment(bill)
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(link.state, "synced")
        self.assertFalse(link.sending_since)
        self.assertEqual(len(self.simulator.invoices()), 1, "nothing entered twice")
        self.assertIn("already had this bill", bill.message_ids[0].body)

    def test_the_outcome_ends_the_reservation(self):
        _bill, link = self.reserved_bill(minutes_ago=const.SENDING_TIMEOUT_MINUTES + 1)
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual((link.state, link.sending_since), ("synced", False))


@tagged("post_install", "-at_install")
class TestParallelSends(PaymentCase):
    """A batch's bills and their images go several at a time; what each
    answer says is written in order, in the run's own thread."""

    LATENCY_MS = 300

    def bills_with_images(self, count):
        bills = self.env["account.move"]
        for number in range(count):
            bill = self.bill(self.acme, 10.0 + number, ref=f"PAR-{number}")
            bill.message_main_attachment_id = self.env["ir.attachment"].create(
                {
                    "name": f"par-{number}.pdf",
                    "raw": b"%PDF-1.4 bill",
                    "res_model": "account.move",
                    "res_id": bill.id,
                }
            )
            bills |= bill
        return bills

    def test_bills_and_images_go_several_at_a_time(self):
        self.backend.parallel_requests = 4
        bills = self.bills_with_images(4)
        self.simulator.set_latency(self.LATENCY_MS)
        self.assertEqual(self.run_stream("bill"), (4, 0))
        self.assertEqual(set(bills.mapped("avidxchange_state")), {"synced"})
        self.assertTrue(all(bills.avidxchange_link_ids.mapped("image_avidxchange_id")))
        for path in ("/avidconnect/v1/invoices", "/avidconnect/v1/invoices/*"):
            started = sorted(entry["time"] for entry in self.simulator.requests("POST", path))
            # the first on the run's own client (its token serves the others), then the others
            second, last = (datetime.fromisoformat(started[i].rstrip("Z")) for i in (1, -1))
            self.assertEqual(len(started), 4)
            self.assertLess((last - second).total_seconds(), self.LATENCY_MS / 1000, "together")
        # each exchange is on its bill's trail
        logs = self.env["avidxchange.exchange.log"].search(
            [("endpoint", "=", "/avidconnect/v1/invoices"), ("method", "=", "POST")]
        )
        self.assertEqual(sorted(logs.mapped("res_id")), sorted(bills.ids))

    def test_one_at_a_time(self):
        self.backend.parallel_requests = 1
        bills = self.bills_with_images(2)
        self.assertEqual(self.run_stream("bill"), (2, 0))
        self.assertEqual(set(bills.mapped("avidxchange_state")), {"synced"})


@tagged("post_install", "-at_install")
class TestSendHoldsNoLock(test_streams.TestStreamsRunTogether):
    """A scheduled run sends a bill while AvidXchange answers slowly; a clerk
    registers a payment on it meanwhile, in a transaction of their own."""

    LATENCY_MS = 1500

    # the class's own concurrency tests run in test_streams
    test_a_row_another_transaction_changed_is_skipped_not_fatal = None
    test_a_vendor_busy_in_another_stream_leaves_its_bill_waiting = None
    test_a_bill_committed_late_is_not_missed = None
    test_marking_a_vendor_never_waits_for_a_running_stream = None

    def _committed_backend_values(self):
        return {"state": "active"}  # a bill's Send goes through active connections only

    def run_in_thread(self, press=None):
        """The bill stream's scheduled run, or what a person's request does
        (``press(env)``), in a thread and a cursor of its own."""
        errors = []
        # the test runner holds the registries' lock: a thread's Environment would wait for it
        self.patch(Registry, "_lock", DummyRLock())

        def run():
            try:
                with self.registry.cursor() as cr:
                    if press:
                        # a request commits as a run does, but in a test: this one says so
                        press(api.Environment(cr, SUPERUSER_ID, {"avidxchange_commit_sends": True}))
                    else:
                        self.stream_in(cr, "bill")._run()
            except Exception as error:  # noqa: BLE001 - said by the test
                errors.append(error)

        thread = threading.Thread(target=run, name="avx-bill-run")
        thread.start()
        self.addCleanup(thread.join, 60)
        return thread, errors

    def wait_reserved(self, bill_id, errors):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with self.registry.cursor() as cr:
                cr.execute(
                    "SELECT sending_since FROM avidxchange_invoice_link WHERE move_id = %s",
                    [bill_id],
                )
                if any(row[0] for row in cr.fetchall()):
                    return
            time.sleep(0.02)
        self.fail(f"the run never reserved the bill: {errors}")

    def test_a_payment_on_a_bill_being_sent_is_refused_at_once(self):
        self.check_refused_at_once(self.committed_bill(), press=None)

    def test_a_persons_send_holds_no_lock_either(self):
        """What a person presses sends as the scheduled run does: the bill's
        *Send*, a link's *Send now* and a stream's *Run now* each reserve,
        commit and call; a clerk paying that bill meanwhile is refused at
        once, in words, not left waiting on AvidXchange."""
        presses = {
            "Send": lambda env, bill_id: env["avidxchange.invoice.link"]._send_bills(
                env["account.move"].browse(bill_id)
            ),
            "Send now": lambda env, bill_id: (
                env["account.move"].browse(bill_id).avidxchange_link_ids.action_send_now()
            ),
            "Run now": lambda env, _bill_id: (
                env["avidxchange.backend"].browse(self.backend_id)._stream("bill").action_run_now()
            ),
        }
        for name, press in presses.items():
            with self.subTest(name):
                bill_id = self.committed_bill(ref=f"PRESSED-{name}")
                self.check_refused_at_once(bill_id, lambda env, p=press, b=bill_id: p(env, b))

    def test_a_persons_send_that_avidxchange_stops_leaves_nothing_reserved(self):
        """AvidXchange is down: *Send now* says why, and its bill is neither
        left "being sent" nor rolled back to before the press; it waits for
        the next run, in the database, not only in the failed request."""
        bill_id = self.committed_bill(ref="PRESSED-DOWN")
        self.simulator.fail_next(10, status=503, path="/invoices", method="POST")
        with self.registry.cursor() as cr:  # the person's request, committing as outside tests
            env = api.Environment(cr, SUPERUSER_ID, {"avidxchange_commit_sends": True})
            link = env["account.move"].browse(bill_id).avidxchange_link_ids
            with (
                self.assertRaisesRegex(UserError, "unavailable"),
                self.assertLogs(LINK_LOGGER, "WARNING"),
            ):
                link.action_send_now()
            cr.rollback()  # as the request does on its error
        with self.registry.cursor() as cr:
            link = api.Environment(cr, SUPERUSER_ID, {})["avidxchange.invoice.link"].search(
                [("move_id", "=", bill_id)]
            )
            self.assertEqual((link.state, link.sending_since), ("pending", False))

    def check_refused_at_once(self, bill_id, press):
        submitted = self.simulator.count("POST", "/invoices")
        self.simulator.set_latency(self.LATENCY_MS)
        thread, errors = self.run_in_thread(press)
        self.wait_reserved(bill_id, errors)
        with self.registry.cursor() as cr:  # the clerk's request
            bill = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(bill_id)
            started = time.monotonic()
            with self.assertRaisesRegex(UserError, BEING_SENT):
                register_payment(bill)
            elapsed = time.monotonic() - started
            cr.rollback()
        self.assertLess(elapsed, self.LATENCY_MS / 1000 / 3, "refused at once, not blocked")
        self.assertTrue(thread.is_alive(), "AvidXchange had not answered yet")
        thread.join(60)
        self.assertFalse(errors)
        self.simulator.set_latency(0)
        with self.registry.cursor() as cr:
            bill = api.Environment(cr, SUPERUSER_ID, {})["account.move"].browse(bill_id)
            link = bill.avidxchange_link_ids
            self.assertEqual((link.state, link.sending_since), ("synced", False))
            with self.assertRaisesRegex(RedirectWarning, "AvidXchange holds"):
                register_payment(bill)  # sent: now the hold refuses it
            cr.rollback()
        self.assertEqual(self.simulator.count("POST", "/invoices"), submitted + 1, "sent once")
