"""The payment import reads AvidXchange's changes window by window, on
AvidXchange's clock, and loses nothing while it pages."""

from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import PaymentCase


@tagged("post_install", "-at_install")
class TestPaymentWindow(PaymentCase):
    def run_to_the_end(self):
        """The payment stream, batch after batch as the cron runs it."""
        for _batch in range(20):
            _done, left = self.run_stream("payment")
            self.assertEqual(self.stream("payment").failure_count, 0)
            if not left:
                return
        self.fail("the payment stream never ended")

    def test_a_clock_behind_ours_loses_no_payment(self):
        self.simulator.set_clock_offset(-15 * 60)  # AvidXchange runs 15 minutes behind us
        first, second = (
            self.exported_bill(10.0, ref="FIRST"),
            self.exported_bill(20.0, ref="SECOND"),
        )
        self.pay((first, 10.0))
        self.run_to_the_end()
        self.pay((second, 20.0))  # stamped 15 minutes before our "now" of the last run
        self.run_to_the_end()
        self.assertEqual((first.amount_residual, second.amount_residual), (0.0, 0.0))

    def test_a_stamp_from_the_future_does_not_hide_later_payments(self):
        odd, later = self.exported_bill(10.0, ref="ODD"), self.exported_bill(20.0, ref="LATER")
        self.inject(self.report("FUTURE", (odd, 10.0), LastModifiedDate="2099-01-01T00:00:00Z"))
        self.run_to_the_end()
        mark = self.stream("payment").mark
        self.assertTrue(not mark or mark < datetime.now() + timedelta(days=2), mark)
        self.pay((later, 20.0))
        self.run_to_the_end()
        self.assertEqual(later.amount_residual, 0.0)

    def test_the_mark_follows_payments_not_invoices(self):
        self.exported_bill(10.0, ref="EXPORTED")  # an invoice stamped now
        self.run_to_the_end()
        self.assertFalse(self.stream("payment").mark, "no payment read: no payment stamp")

    def test_a_payment_that_changes_while_the_import_pages_is_not_skipped(self):
        self.backend.page_size = 5
        bills = [self.exported_bill(10.0 + n, ref=f"PAGE-{n}") for n in range(12)]
        reports = [self.pay((bill, bill.amount_total)) for bill in bills]
        # While the import reads the second page, payment 3 clears: it moves to the
        # end of the list, and what was the first item of page 2 becomes the last of page 1.
        self.simulator.call_before(
            lambda: self.simulator.clear_payment(reports[2]["PaymentId"]),
            path="/payments",
            method="GET",
            skip=1,
        )
        self.run_to_the_end()
        self.assertEqual([bill.amount_residual for bill in bills], [0.0] * 12)
        self.assertEqual(self.imported(reports[2]).status, "Cleared")

    def analyze(self):
        """Refresh PostgreSQL's statistics of the accounting tables: this
        transaction's own rows count, and a plan made for empty tables (nested
        loops) can keep one of Odoo's reconciliation queries busy for minutes
        once hundreds of bills are in them."""
        self.env.flush_all()
        self.env.cr.execute(
            "ANALYZE account_move, account_move_line, account_partial_reconcile, account_payment"
        )

    def exported_bills(self, count, prefix):
        """``count`` bills of 10.00 and more, posted in one go, exported in as
        few bill runs as it takes, and approved in AvidXchange."""
        bills = self.env["account.move"].create(
            [
                {
                    "move_type": "in_invoice",
                    "partner_id": self.acme.id,
                    "ref": f"{prefix}-{n}",
                    "invoice_date": "2026-11-20",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Steel",
                                "quantity": 1,
                                "price_unit": 10.0 + n,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for n in range(count)
            ]
        )
        bills.action_post()
        self.analyze()
        for _batch in range(count):
            if not self.run_stream("bill")[1]:
                break
        for bill in bills:
            self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        return bills

    def test_a_payment_run_sharing_one_stamp_is_registered_whole(self):
        """AvidXchange stamps a payment run in one second: 150 payments with a
        page size of 100, 7 with a page size of 1, each registered once."""
        for count, page_size in ((150, 100), (7, 1)):
            with self.subTest(count=count, page_size=page_size):
                self.backend.page_size = page_size
                bills = self.exported_bills(count, f"RUN{count}")
                run = self.simulator.pay_run(
                    [
                        {
                            "allocations": [
                                {"invoice_id": b.avidxchange_invoice_id, "amount": b.amount_total}
                            ]
                        }
                        for b in bills
                    ]
                )
                self.analyze()
                self.run_to_the_end()
                self.assertEqual([bill.amount_residual for bill in bills], [0.0] * count)
                registered = self.env["account.payment"].search(
                    [("avidxchange_payment_id.payment_ref", "in", [p["PaymentId"] for p in run])]
                )
                self.assertEqual(len(registered), count, "each registered once")

    def test_a_backlog_paged_while_a_payment_changes_amid_a_page_is_registered_whole(self):
        """A payment cleared while AvidXchange builds the first page shows its new,
        latest stamp among older ones: the import does not start its next read
        from it, and registers the whole backlog."""
        self.backend.page_size = 5
        bills = self.exported_bills(12, "AMID")
        reports = [self.pay((bill, bill.amount_total)) for bill in bills]
        self.simulator.call_amid(
            lambda: self.simulator.clear_payment(reports[4]["PaymentId"]),
            path="/payments",
            method="GET",
        )
        self.run_to_the_end()
        self.assertEqual([bill.amount_residual for bill in bills], [0.0] * 12)
        self.assertEqual(self.imported(reports[4]).status, "Cleared")

    def test_a_backlog_older_than_thirty_days_is_read_window_by_window(self):
        bill = self.exported_bill(55.0)
        self.pay((bill, 55.0))
        self.stream("payment").mark = datetime.now() - timedelta(days=65)
        self.run_to_the_end()  # the simulator refuses any range over 30 days
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertGreaterEqual(self.simulator.count("GET", "/payments"), 3)

    def test_a_large_window_is_read_once_and_applied_in_slices(self):
        bills = [self.exported_bill(10.0 + n, ref=f"S-{n}") for n in range(5)]
        for bill in bills:
            self.pay((bill, bill.amount_total))
        self.simulator.clear_requests()
        self.assertEqual(self.run_stream("payment", batch_size=2), (2, 3))
        self.assertEqual(self.run_stream("payment", batch_size=2), (2, 1))
        self.assertEqual(self.run_stream("payment", batch_size=2), (1, 0))
        self.assertEqual(self.simulator.count("GET", "/payments"), 1, "one read, three slices")
        self.assertEqual([len(bill.matched_payment_ids) for bill in bills], [1] * 5)
        self.assertEqual(self.run_stream("payment", batch_size=2), (0, 0))
