"""What scripts/scale_check.sh found with two servers' crons on one database.

A scheduled import commits what it applied (bills posted, payments
registered) before it calls AvidXchange again for what goes with them
(images, proofs, batches told imported): until it commits it holds the
journals' sequence numbers and the bills it paid, so a clerk posting a bill
waited on AvidXchange's answers (a bill posted in 6 s while the import
fetched images), and a slice posts a few bills only.

A bill send leaves alone the GL codes the GL code stream is sending right
now (reserved and committed, so not locked): it recorded them under that
run, whose own record then failed to serialize.
"""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import AvidxchangeCase, PaymentCase
from .test_captured_invoices import API, CapturedCase


def scheduled_run(case, kind, seen_at_commit):
    """One batch of ``kind`` as the cron runs it, its commits recorded, not
    made: what ``seen_at_commit()`` returned at each."""
    commits = []

    def commit(*_args, **_kwargs):
        commits.append(seen_at_commit())
        return float("inf")

    with patch.object(type(case.env["ir.cron"]), "_commit_progress", side_effect=commit):
        case.stream(kind).with_context(avidxchange_commit_sends=True)._run_batch()
    return commits


@tagged("post_install", "-at_install")
class TestImportCommits(CapturedCase):
    def test_captured_bills_are_committed_before_their_images_are_fetched(self):
        self.backend.captured_bill_state = "posted"
        invoice_id = self.capture("I-9", 60.0, image=True)
        guid = self.simulator.close_batch([invoice_id])
        image = f"{API}/invoices/{invoice_id}/image"
        commits = scheduled_run(
            self,
            "captured_invoice",
            lambda: (
                self.bill_of(invoice_id).state,
                self.simulator.count("GET", image),
                len(self.marks(guid)),
            ),
        )
        self.assertEqual(commits, [("posted", 0, 0)], "the bill committed, nothing asked since")
        self.assertTrue(self.bill_of(invoice_id).message_main_attachment_id)
        self.assertEqual(len(self.marks(guid)), 1, "then the batch is told imported")

    def test_captured_bills_are_posted_a_few_a_transaction(self):
        """Posted captured bills take the purchase journal's numbers, which a
        clerk posting a bill waits for until the slice commits: a slice
        makes a few bills (5: 110 captured at once made a clerk wait 6 s)."""
        self.backend.captured_bill_state = "posted"
        ids = [self.capture(f"I-2{n}", 10.0 + n) for n in range(7)]
        self.simulator.close_batch(ids)
        self.assertEqual(self.run_stream("captured_invoice"), (5, 2))
        self.assertEqual(self.run_stream("captured_invoice"), (2, 0))
        posted = [("avidxchange_captured_id.invoice_ref", "in", ids), ("state", "=", "posted")]
        self.assertEqual(self.env["account.move"].search_count(posted), 7)

    def test_a_run_at_a_user_request_keeps_its_one_transaction(self):
        invoice_id = self.capture("I-10", 60.0, image=True)
        self.simulator.close_batch([invoice_id])
        Cron = type(self.env["ir.cron"])
        with patch.object(Cron, "_commit_progress", autospec=True) as commit:
            self.run_stream("captured_invoice")
        commit.assert_not_called()
        self.assertTrue(self.bill_of(invoice_id))


@tagged("post_install", "-at_install")
class TestImportCommitsPayments(PaymentCase):
    def test_payments_are_committed_before_their_proofs_are_fetched(self):
        bill = self.exported_bill(75.0)
        report = self.pay((bill, 75.0), method="Check")
        self.run_stream("payment")
        self.simulator.clear_payment(report["PaymentId"])
        proof = f"/payments/{report['PaymentId']}/getclearedcheckimage"
        commits = scheduled_run(
            self,
            "payment",
            lambda: (self.imported(report).status_category, self.simulator.count("GET", proof)),
        )
        self.assertEqual(commits, [("cleared", 0)], "the report applied, its proof not asked yet")
        self.assertEqual(self.simulator.count("GET", proof), 1)


@tagged("post_install", "-at_install")
class TestBillSendLeavesReservedCodes(AvidxchangeCase):
    def test_a_code_being_sent_by_its_stream_holds_the_bill_back(self):
        bill = self.bill(self.vendor(), 100.0)
        account = bill.invoice_line_ids.account_id
        link = self.env["avidxchange.account.link"].create(
            {"backend_id": self.backend.id, "account_id": account.id}
        )
        since = fields.Datetime.now()
        link.sending_since = since  # the GL code stream's run is sending it
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("PUT", "/enterpriseCodes"), 0)
        self.assertEqual((link.state, link.sending_since), ("pending", since), "left to that run")
        self.assertEqual(bill.avidxchange_state, "pending", "the bill waits for its code")
        link.sending_since = False  # that run recorded its outcome
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("PUT", "/enterpriseCodes"), 1)
        self.assertEqual(bill.avidxchange_state, "synced")
