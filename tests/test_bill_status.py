"""One AvidXchange status on every vendor bill, and Send for AvidXchange users."""

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import AP_CLERK_GROUPS, AvidxchangeCase

STATUS_OF = {
    "PendingApproval": "pending_approval",
    "Approved": "approved",
    "Scheduled": "scheduled",
    "Paid": "paid",
    "Rejected": "rejected",
    "Void": "void",
}


class BillStatusCase(AvidxchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.state = "active"
        cls.acme = cls.vendor()

    @classmethod
    def clerk(cls, login):
        return cls.company_user(login, *AP_CLERK_GROUPS)


@tagged("post_install", "-at_install")
class TestBillStatus(BillStatusCase):
    def status(self, bill):
        bill.invalidate_recordset(["avidxchange_sync_status"])
        return bill.avidxchange_sync_status

    def test_the_status_follows_the_bill_through_every_state(self):
        draft = self.bill(self.acme, 10.0, post=False)
        self.assertFalse(self.status(draft))
        outside = self.bill(self.vendor("Not marked", avidxchange_enabled=False), 20.0)
        self.assertEqual(self.status(outside), "not_in_scope")
        bill = self.bill(self.acme, 30.0)
        self.assertEqual(self.status(bill), "waiting", "linked when posted")
        self.run_stream("bill")
        self.assertEqual(self.status(bill), "sent")
        link = bill.avidxchange_link_ids
        for status, expected in STATUS_OF.items():
            with self.subTest(status):
                self.simulator.set_invoice_status(link.avidxchange_id, status)
                link._refresh_statuses(
                    self.backend, [self.simulator.get_invoice(link.avidxchange_id)]
                )
                self.assertEqual(self.status(bill), expected)
                label = "Pending approval" if status == "PendingApproval" else status
                self.assertIn(f"AvidXchange status: {label}.", bill.message_ids[0].body)
        self.simulator.set_invoice_status(link.avidxchange_id, "Approved")
        link._refresh_statuses(self.backend, [self.simulator.get_invoice(link.avidxchange_id)])
        self.release(bill)
        bill.button_draft()
        self.assertEqual(self.status(bill), "changed")
        refused = self.bill(self.acme, 40.0, ref="REFUSED")
        self.simulator.fail_next(1, status=422, path="/invoices", method="POST")
        self.run_stream("bill")
        self.assertEqual(self.status(refused), "error")
        Move = self.env["account.move"]
        self.assertEqual(Move.search([("avidxchange_sync_status", "=", "error")]), refused)
        groups = Move._read_group(
            [("id", "in", (outside | bill | refused).ids)], ["avidxchange_sync_status"]
        )
        self.assertEqual({status for (status,) in groups}, {"not_in_scope", "changed", "error"})

    def test_an_outage_leaves_the_bill_waiting_not_in_error(self):
        bill = self.bill(self.acme, 30.0)
        self.simulator.fail_next(10, status=503, path="/invoices", method="POST")
        with self.assertLogs("odoo.addons.account_avidxchange", "WARNING"):
            self.run_stream("bill")
        self.assertEqual(self.status(bill), "waiting")
        self.assertTrue(bill.avidxchange_error, "the last attempt's error is shown")
        self.assertFalse(
            self.env["account.move"].search([("avidxchange_sync_status", "=", "error")])
        )

    def test_a_clerk_sends_a_bill_and_is_told(self):
        clerk = self.clerk("avx_send_clerk")
        bill = self.bill(self.acme, 50.0)
        self.simulator.fail_next(1, status=422, path="/invoices", method="POST")
        self.run_stream("bill")
        self.assertEqual(self.status(bill), "error")
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("1 sent to AvidXchange", action["params"]["message"])
        self.assertEqual(self.status(bill), "sent")
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertIn("1 already in AvidXchange", action["params"]["message"])

    def test_send_says_why_a_bill_does_not_go_and_when_avidxchange_is_down(self):
        clerk = self.clerk("avx_send_clerk2")
        outside = self.bill(self.vendor("Not marked", avidxchange_enabled=False), 20.0)
        action = outside.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("not marked", action["params"]["message"])
        bill = self.bill(self.acme, 60.0)
        self.simulator.fail_next(10, status=503, path="/invoices", method="POST")
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("1 not sent", action["params"]["message"])

    def test_send_says_a_bill_is_being_sent_right_now(self):
        """A bill a run is sending is left to that run, and the clerk told."""
        clerk = self.clerk("avx_send_clerk4")
        bill = self.bill(self.acme, 40.0)
        bill.avidxchange_link_ids.sending_since = fields.Datetime.now()
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("1 being sent to AvidXchange right now", action["params"]["message"])
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_send_says_a_bill_left_the_scope_since_it_was_posted(self):
        """Linked when posted, a bill whose vendor was unmarked since is not
        sent (its link dropped): the clerk is told why, as for any bill out
        of scope."""
        clerk = self.clerk("avx_send_clerk5")
        bill = self.bill(self.acme, 45.0)
        self.assertTrue(bill.avidxchange_link_ids)
        self.acme.avidxchange_enabled = False
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("1 not in scope", action["params"]["message"])
        self.assertIn("not marked", action["params"]["message"])
        self.assertNotIn("already in AvidXchange", action["params"]["message"])
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_send_goes_through_active_connections_only(self):
        clerk = self.clerk("avx_send_clerk3")
        bill = self.bill(self.acme, 30.0)
        self.backend.state = "draft"
        action = bill.with_user(clerk).action_avidxchange_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("connection is not active", action["params"]["message"])
        self.assertNotIn("already in AvidXchange", action["params"]["message"])
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_the_list_action_sends_the_selected_bills(self):
        bills = self.bill(self.acme, 10.0, ref="L-1") | self.bill(self.acme, 11.0, ref="L-2")
        action = self.env.ref("account_avidxchange.action_avidxchange_send_bills")
        result = (
            action.with_user(self.clerk("avx_list_clerk"))
            .with_context(active_model="account.move", active_ids=bills.ids)
            .run()
        )
        self.assertIn("2 sent to AvidXchange", result["params"]["message"])
        self.assertEqual(set(bills.mapped("avidxchange_sync_status")), {"sent"})

    def test_only_avidxchange_users_send(self):
        accountant = new_test_user(
            self.env, login="avx_not_avx", groups="base.group_user,account.group_account_invoice"
        )
        bill = self.bill(self.acme, 10.0)
        with self.assertRaisesRegex(Exception, "Only AvidXchange users"):
            bill.with_user(accountant).action_avidxchange_send()

    def test_vendors_filter_by_their_avidxchange_state(self):
        self.bill(self.acme, 10.0)
        self.run_stream("bill")
        Partner = self.env["res.partner"]
        self.assertIn(self.acme, Partner.search([("avidxchange_state", "=", "synced")]))
        self.assertNotIn(self.acme, Partner.search([("avidxchange_state", "=", "error")]))
        self.assertNotIn(self.acme, Partner.search([("avidxchange_state", "=", False)]))


@tagged("post_install", "-at_install")
class TestClerkTour(BillStatusCase, HttpCase):
    """A clerk's path in the browser: the bills list, the filter "Error", a
    bill, why it is in error, Send, and what happened."""

    def test_clerk_tour(self):
        bill = self.bill(self.acme, 70.0, ref="TOUR-1")
        self.refuse_bills(1, "600000 is locked")
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_sync_status, "error")
        self.clerk("avx_tour_clerk")
        self.start_tour("/odoo/vendor-bills", "account_avidxchange_clerk", login="avx_tour_clerk")
        self.assertEqual(bill.avidxchange_sync_status, "sent")
