"""While AvidXchange holds a bill (it will pay it), Odoo does not change or pay
it behind AvidXchange's back, unless an AvidXchange administrator releases it
with a reason; what then differs from what was sent shows on the bill."""

import logging

from odoo import Command
from odoo.exceptions import RedirectWarning, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .common import COMPANY_ID, AvidxchangeCase

HELD = "AvidXchange holds"


@tagged("post_install", "-at_install")
class TestBillGuards(AvidxchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.vendor()

    def setUp(self):
        super().setUp()
        self.clerk = self.ap_clerk("avx_guard_clerk")
        self.clerk.group_ids += self.env.ref("account.group_account_invoice")  # Billing

    def exported(self, amount=77.0):
        bill = self.bill(self.acme, amount)
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced")
        return bill

    def register_payment(self, bill):
        return (
            self.env["account.payment.register"]
            .with_user(bill.env.user)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({})
            ._create_payments()
        )

    def release_in_form(self, bill, reason="Vendor sent a corrected bill"):
        wizard = Form(
            self.env["avidxchange.bill.release"].with_context(
                active_model="account.move", active_ids=bill.ids
            )
        )
        wizard.reason = reason
        return wizard.save().action_release()

    def test_a_held_bill_cannot_be_reset_cancelled_or_paid_in_odoo(self):
        bill = self.exported().with_user(self.clerk)
        attempts = {
            "reset": bill.button_draft,
            "cancel": bill.button_cancel,
            "register": bill.action_register_payment,
            "register from lines": bill.line_ids.action_register_payment,
            "wizard": lambda: self.register_payment(bill),
        }
        for name, attempt in attempts.items():
            with self.subTest(name), self.assertRaisesRegex(UserError, HELD) as caught:
                attempt()
            self.assertNotIsInstance(caught.exception, RedirectWarning, "a clerk cannot release")
            self.assertIn("administrator", str(caught.exception))
        self.assertEqual((bill.state, bill.payment_state), ("posted", "not_paid"))

    def test_a_credit_note_cannot_be_set_against_a_held_bill(self):
        bill = self.exported()
        refund = self.bill(self.acme, 20.0, move_type="in_refund", ref="CREDIT-1")
        credit_line = refund.line_ids.filtered(
            lambda line: line.account_type == "liability_payable"
        )
        with self.assertRaisesRegex(RedirectWarning, HELD):  # from the bill
            bill.js_assign_outstanding_line(credit_line.id)
        bill_line = bill.line_ids.filtered(lambda line: line.account_type == "liability_payable")
        with self.assertRaisesRegex(RedirectWarning, HELD):  # from the credit note
            refund.js_assign_outstanding_line(bill_line.id)
        self.assertEqual(bill.amount_residual, 77.0)

    def test_an_administrator_is_offered_the_release(self):
        bill = self.exported()
        with self.assertRaisesRegex(RedirectWarning, HELD) as caught:
            bill.button_draft()
        _message, action, _button, _context = caught.exception.args
        self.assertEqual(action["res_model"], "avidxchange.bill.release")
        self.assertEqual(action["context"]["active_ids"], bill.ids)

    def test_released_with_a_reason_then_changed_shows_what_differs(self):
        bill = self.exported(77.0)
        with self.assertRaises(ValidationError):  # no reason, no release
            self.env["avidxchange.bill.release"].with_context(active_ids=bill.ids).create(
                {"reason": "  "}
            )
        with self.assertRaises(UserError):  # a clerk may not release
            self.env["avidxchange.bill.release"].with_user(self.clerk).with_context(
                active_ids=bill.ids
            ).create({"reason": "Please"}).action_release()
        self.release_in_form(bill)
        self.assertIn("Vendor sent a corrected bill", bill.message_ids[0].body)
        self.assertNotEqual(bill.avidxchange_sync_status, "changed", "released, not changed yet")
        bill.button_draft()
        self.assertEqual(bill.avidxchange_sync_status, "changed")
        self.assertIn("draft", bill.avidxchange_changes)
        bill.write(
            {
                "invoice_line_ids": [
                    Command.update(bill.invoice_line_ids.id, {"price_unit": 88.0})
                ],
                "invoice_date": "2026-11-21",
            }
        )
        bill.action_post()
        self.assertIn("77.00", bill.avidxchange_changes)
        self.assertIn("88.00", bill.avidxchange_changes)
        self.assertIn("date", bill.avidxchange_changes)
        changed = self.env["account.move"].search([("avidxchange_sync_status", "=", "changed")])
        self.assertEqual(changed, bill)
        self.assertEqual(self.run_stream("bill"), (0, 0), "never submitted twice")

    def test_a_rejected_bill_is_free_again(self):
        bill = self.exported()
        link = bill.avidxchange_link_ids
        self.simulator.reject_invoice(link.avidxchange_id)
        link._refresh_statuses(self.backend, [self.simulator.get_invoice(link.avidxchange_id)])
        self.assertEqual(bill.avidxchange_status, "Rejected")
        bill.with_user(self.clerk).button_draft()
        self.assertEqual(bill.state, "draft")

    def test_the_payment_import_still_pays_a_held_bill(self):
        bill = self.exported(50.0)
        self.simulator.pay({"invoice_id": bill.avidxchange_invoice_id, "amount": 50.0})
        self.run_stream("payment")
        self.assertEqual(bill.payment_state in ("paid", "in_payment"), True)

    def test_a_held_bill_cannot_be_reversed_and_created_again(self):
        """Reverse and Create Invoice would settle the bill and send a second
        one; a plain credit note (draft, set against nothing) is still made."""
        bill = self.exported().with_user(self.clerk)
        wizard = (
            self.env["account.move.reversal"]
            .with_user(self.clerk)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({"journal_id": bill.journal_id.id, "reason": "fix"})
        )
        with self.assertRaisesRegex(UserError, HELD):
            wizard.modify_moves()
        self.assertEqual(bill.payment_state, "not_paid")
        wizard.refund_moves()
        self.assertEqual(bill.reversal_move_ids.state, "draft")
        self.assertEqual(bill.payment_state, "not_paid")

    def test_an_avidxchange_payment_cannot_be_taken_off_its_bill(self):
        bill = self.exported(77.0)
        self.simulator.pay({"invoice_id": bill.avidxchange_invoice_id, "amount": 77.0})
        self.run_stream("payment")
        partial = bill.line_ids.matched_debit_ids
        with self.assertRaisesRegex(UserError, HELD):
            bill.with_user(self.clerk).js_remove_outstanding_partial(partial.id)
        self.release(bill)
        # the payment is guarded on its own (tests/test_payment_guards.py): its release is offered
        with self.assertRaisesRegex(RedirectWarning, "made through AvidXchange"):
            bill.js_remove_outstanding_partial(partial.id)
        self.assertEqual(bill.amount_residual, 0.0)

    def test_a_lost_answer_holds_the_bill_and_keeps_its_link(self):
        """Sent, and the answer lost: AvidXchange may have it. Odoo may not pay
        it meanwhile, and the link is never dropped."""
        bill = self.bill(self.acme, 100.0)
        self.simulator.drop_next(1, path="/invoices", method="POST", processed=True)
        self.simulator.drop_next(20, path="/invoices", method="POST")
        with self.assertLogs(level="WARNING"):
            self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.assertEqual((link.state, link.maybe_received), ("pending", True))
        with self.assertRaisesRegex(UserError, HELD):
            self.register_payment(bill.with_user(self.clerk))
        self.simulator.clear_faults()
        self.run_stream("bill")
        self.assertEqual(link.state, "synced")
        self.assertFalse(link.maybe_received)
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)

    def test_answers_that_cannot_be_read_end_in_error_after_three_runs(self):
        """A 409 whose invoice cannot be read is no reason to hammer
        AvidXchange: three runs, then a person looks it up (the bill held)."""
        bill = self.bill(self.acme, 80.0)
        self.simulator.malformed_next(1, path="/invoices", method="POST", processed=True)
        self.simulator.malformed_next(10, path="/invoices/", method="GET")
        runs = [self.run_stream("bill") for _run in range(4)]
        self.assertEqual(runs, [(0, 1), (0, 1), (1, 0), (0, 0)])
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "error")
        self.assertIn("Look up invoice", link.error_message)
        self.assertTrue(bill._avidxchange_held())
        self.assertEqual(self.simulator.count("POST", "/invoices"), 3)

    def test_no_reconciliation_of_a_held_bill_behind_the_forms(self):
        """Over RPC, or from a reconciliation screen: the same hold."""
        bill = self.exported()
        refund = self.bill(self.acme, 20.0, move_type="in_refund", ref="CREDIT-2")
        lines = (bill | refund).line_ids.filtered(
            lambda line: line.account_type == "liability_payable"
        )
        with self.assertRaisesRegex(UserError, HELD):
            lines.with_user(self.clerk).reconcile()
        self.assertEqual(bill.amount_residual, 77.0)


@tagged("post_install", "-at_install")
class TestRefusalsOverRpc(AvidxchangeCase, HttpCase):
    """The refusals as the web client meets them: the user's business, so
    the server log holds no ERROR and no traceback, and the administrator's
    dialog still offers the release."""

    def setUp(self):
        super().setUp()
        self.held = self.bill(self.vendor(), 77.0)
        self.run_stream("bill")
        self.assertTrue(self.held._avidxchange_held())

    def click(self, method, model="account.move", ids=None):
        """``method`` as a button of the bill calls it: the JSON-RPC error
        the web client gets, and what ``odoo.http`` logged meanwhile."""
        with self.assertLogs("odoo.http", logging.DEBUG) as logs:
            response = self.url_open(
                f"/web/dataset/call_button/{model}/{method}",
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": [ids or self.held.ids],
                        "kwargs": {},
                    },
                },
            )
            logging.getLogger("odoo.http").debug("done")  # so that there is a record
        self.assertEqual(response.status_code, 200)
        error = response.json()["error"]["data"]
        for record in logs.records:
            self.assertLess(record.levelno, logging.ERROR, record.getMessage())
            self.assertFalse(record.exc_info, f"a traceback with: {record.getMessage()}")
        refusals = [r for r in logs.records if HELD in r.getMessage()]
        self.assertEqual([r.levelname for r in refusals], ["WARNING"], "one line, as a UserError")
        return error

    def test_an_administrator_is_refused_quietly_and_offered_the_release(self):
        self.authenticate(self.env.user.login, self.env.user.login)
        for method in ("button_draft", "action_register_payment"):
            with self.subTest(method):
                error = self.click(method)
                # the name picks the web client's RedirectWarning dialog
                self.assertEqual(error["name"], "odoo.exceptions.RedirectWarning")
                message, action, button, _context = error["arguments"]
                self.assertIn(HELD, message)
                self.assertEqual(action["res_model"], "avidxchange.bill.release")
                self.assertEqual(action["context"]["active_ids"], self.held.ids)
                self.assertEqual(button, "Release with a reason")
        self.assertEqual((self.held.state, self.held.payment_state), ("posted", "not_paid"))

    def test_a_clerk_is_refused_quietly(self):
        clerk = self.ap_clerk("avx_rpc_clerk")
        clerk.group_ids += self.env.ref("account.group_account_invoice")
        clerk.password = clerk.login
        self.authenticate(clerk.login, clerk.login)
        for method in ("button_draft", "action_register_payment"):
            with self.subTest(method):
                error = self.click(method)
                self.assertEqual(error["name"], "odoo.exceptions.UserError")
                self.assertIn(HELD, error["message"])
        self.assertEqual(self.held.state, "posted")
