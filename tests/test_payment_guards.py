"""A payment the connector registered says what AvidXchange paid. Odoo does
not reset, cancel, delete, change or unreconcile it behind AvidXchange's
back, unless an AvidXchange administrator releases it with a reason; voiding
it in AvidXchange undoes it here, through the next payment import."""

import logging

from odoo.exceptions import RedirectWarning, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged
from odoo.tests.common import JsonRpcException

from .common import EnterpriseMode, PaymentCase

PAID = "was made through AvidXchange"


@tagged("post_install", "-at_install")
class TestPaymentGuards(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # an accountant (Accounting: Administrator) who is nothing in AvidXchange
        cls.accountant = cls.company_user("avx_payment_accountant", "account.group_account_manager")
        cls.cash_journal = cls.company_data["default_journal_cash"]
        cls.eur = cls.env.ref("base.EUR")

    # --- helpers -------------------------------------------------------------

    def paid(self, count=1):
        """``count`` bills, exported, each paid whole by an AvidXchange payment
        of its own, imported: their Odoo payments, in order."""
        bills = [self.bill(self.acme, 100.0 + n, ref=f"GUARD-{n}") for n in range(count)]
        while self.run_stream("bill")[1]:
            pass
        reports = []
        for bill in bills:
            self.assertEqual(bill.avidxchange_state, "synced")
            self.simulator.approve_invoice(bill.avidxchange_invoice_id)
            reports.append(self.pay((bill, bill.amount_total)))
        while self.run_stream("payment")[1]:
            pass
        payments = self.env["account.payment"].union(
            *(self.imported(report).odoo_payment_ids for report in reports)
        )
        self.assertEqual(len(payments), count)
        for payment, bill in zip(payments, bills, strict=True):
            self.assertEqual(payment.reconciled_bill_ids, bill)
            self.assertEqual(bill.amount_residual, 0.0)
        return payments

    def test_a_state_written_straight_on_the_entry_or_a_held_bill_is_refused(self):
        """``write({'state': ...})`` over RPC skips Reset to Draft and Cancel;
        it meets the same guard."""
        payment = self.paid()
        held = self.bill(self.acme, 42.0, ref="HELD-STATE")
        self.run_stream("bill")
        for record in (payment.move_id, held):
            for state in ("draft", "cancel"):
                with (
                    self.subTest(record=record.display_name, state=state),
                    self.assertRaises(UserError),
                ):
                    record.with_user(self.accountant).write({"state": state})
        self.assertEqual((payment.move_id.state, held.state), ("posted", "posted"))
        self.release(payment)
        payment.move_id.with_user(self.accountant).write({"state": "draft"})
        self.assertEqual(payment.move_id.state, "draft", "released: Odoo may")

    def release(self, records, reason="Paid twice by mistake, refunded by the vendor"):
        """An AvidXchange administrator releases bills, or payments, with a reason."""
        if records._name == "account.move":
            return super().release(records, reason)
        wizard = Form(
            self.env["avidxchange.payment.release"].with_context(
                active_model="account.payment", active_ids=records.ids
            )
        )
        wizard.reason = reason
        return wizard.save().action_release()

    def as_accountant(self, payment):
        return payment.with_user(self.accountant)

    def other_method_line(self, journal):
        """Another outgoing payment method of ``journal``."""
        return self.env["account.payment.method.line"].create(
            {
                "name": "By hand",
                "journal_id": journal.id,
                "payment_method_id": self.env.ref("account.account_payment_method_manual_out").id,
            }
        )

    def reverse_entry(self, payment):
        """The Reverse wizard on the payment's journal entry."""
        move = payment.move_id
        return (
            self.env["account.move.reversal"]
            .with_user(payment.env.user)
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"journal_id": move.journal_id.id, "reason": "Wrong payment"})
            .refund_moves()
        )

    def guarded_actions(self, payment):
        """What a client may call on ``payment``, its journal entry or its bill
        (as ``payment``'s user), each with how to tell it was done."""
        bill = payment.reconciled_bill_ids
        entry = payment.move_id
        partial = entry.line_ids.matched_credit_ids
        payables = entry.line_ids.filtered(lambda line: line.account_type == "liability_payable")
        return {
            "reset to draft": (payment.action_draft, lambda: payment.state == "draft"),
            "cancel": (payment.action_cancel, lambda: payment.state == "canceled"),
            "reject": (payment.action_reject, lambda: payment.state == "rejected"),
            # Odoo deletes a draft payment only: reset first (refused before that, released or not)
            "delete": (
                lambda: payment.action_draft() or payment.unlink(),
                lambda: not payment.exists(),
            ),
            "amount": (lambda: payment.write({"amount": 1.0}), lambda: payment.amount == 1.0),
            "partner": (
                lambda: payment.write({"partner_id": self.partner_a.id}),
                lambda: payment.partner_id == self.partner_a,
            ),
            "date": (
                lambda: payment.write({"date": "2026-12-24"}),
                lambda: payment.date.isoformat() == "2026-12-24",
            ),
            "journal": (
                lambda: payment.write({"journal_id": self.cash_journal.id}),
                lambda: payment.journal_id == self.cash_journal,
            ),
            "currency": (
                lambda: payment.write({"currency_id": self.eur.id}),
                lambda: payment.currency_id == self.eur,
            ),
            "payment method": (
                lambda: payment.write(
                    {"payment_method_line_id": self.other_method_line(payment.journal_id).id}
                ),
                lambda: payment.payment_method_line_id.name == "By hand",
            ),
            "status": (lambda: payment.write({"state": "draft"}), lambda: payment.state == "draft"),
            "entry to draft": (entry.button_draft, lambda: entry.state == "draft"),
            "entry cancelled": (entry.button_cancel, lambda: entry.state == "cancel"),
            "entry reversed": (
                lambda: self.reverse_entry(payment),
                lambda: entry.reversal_move_ids,
            ),
            "unreconcile its items": (
                entry.line_ids.remove_move_reconcile,
                lambda: bill.amount_residual,
            ),
            "unreconcile the bill's items": (
                bill.line_ids.remove_move_reconcile,
                lambda: bill.amount_residual,
            ),
            "unreconcile from the journal items list": (
                lambda: payables.with_context(
                    active_ids=payables.ids
                ).action_unreconcile_match_entries(),
                lambda: bill.amount_residual,
            ),
            "remove it from the bill": (
                lambda: bill.js_remove_outstanding_partial(partial.id),
                lambda: bill.amount_residual,
            ),
            "delete the reconciliation": (partial.unlink, lambda: bill.amount_residual),
        }

    def assertRefused(self, attempt, exception=UserError):
        with self.assertRaises(exception) as caught:
            attempt()
        message = caught.exception.args[0]
        self.assertIn(PAID, message)
        self.assertIn("void it in AvidXchange", message)
        return caught.exception

    # --- tests ---------------------------------------------------------------

    def test_an_accountant_cannot_change_what_avidxchange_paid(self):
        payment = self.paid()
        bill = payment.reconciled_bill_ids
        self.release(bill)  # AvidXchange's hold on the bill aside: the payment's own guard
        state, amount, date = payment.state, payment.amount, payment.date
        for name, (attempt, _done) in self.guarded_actions(self.as_accountant(payment)).items():
            with self.subTest(name):
                error = self.assertRefused(attempt)
                self.assertNotIsInstance(error, RedirectWarning, "an accountant cannot release")
                self.assertIn("An AvidXchange administrator may", error.args[0])
        mine = self.as_accountant(payment)
        for attempt, operation in (
            (mine.unlink, "Deleting it"),
            (mine.move_id.unlink, "Deleting its journal entry"),
            (
                lambda: mine.write({"amount": 1.0, "date": "2026-12-24"}),
                "Changing its Amount, Date",
            ),
        ):
            with self.subTest(operation):
                self.assertIn(operation, self.assertRefused(attempt).args[0])
        self.assertEqual((payment.state, payment.amount, payment.date), (state, amount, date))
        self.assertEqual(payment.move_id.state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertFalse(payment.avidxchange_released)

    def test_a_memo_is_harmless(self):
        payment = self.as_accountant(self.paid())
        payment.write({"memo": "Check sent on Monday"})
        self.assertEqual(payment.memo, "Check sent on Monday")
        payment.write({"amount": payment.amount, "partner_id": payment.partner_id.id})  # no change

    def test_only_the_release_releases(self):
        """Nobody marks a payment released, or unlinks it from AvidXchange, by
        writing it: the release wizard does, for administrators only."""
        payment = self.paid()
        for values in (
            {"avidxchange_released": True},
            {"avidxchange_release_reason": "Because"},
            {"avidxchange_payment_id": False},
        ):
            for user in (self.accountant, self.env.user):
                with self.subTest(values=values, user=user.login), self.assertRaises(UserError):
                    payment.with_user(user).write(values)
        with self.assertRaises(UserError):  # an accountant may not release
            self.env["avidxchange.payment.release"].with_user(self.accountant).with_context(
                active_model="account.payment", active_ids=payment.ids
            ).create({"reason": "Please"}).action_release()
        with self.assertRaises(ValidationError):  # no reason, no release
            self.env["avidxchange.payment.release"].with_context(
                active_model="account.payment", active_ids=payment.ids
            ).create({"reason": "  "})
        self.assertFalse(payment.avidxchange_released)

    def test_an_administrator_is_refused_too_and_offered_the_release(self):
        payment = self.paid()
        error = self.assertRefused(payment.action_draft, RedirectWarning)
        _message, action, button, _context = error.args
        self.assertEqual(button, "Release with a reason")
        self.assertEqual(action["res_model"], "avidxchange.payment.release")
        self.assertEqual(action["context"]["active_ids"], payment.ids)
        self.assertEqual(payment.state, "in_process")

    def test_released_with_a_reason_every_guarded_action_works(self):
        names = list(self.guarded_actions(self.env["account.payment"]))
        payments = self.paid(len(names))  # a payment of its own for each
        self.release(payments)
        self.release(payments.reconciled_bill_ids)  # the bill form's removal meets its hold too
        for name, payment in zip(names, payments, strict=True):
            attempt, done = self.guarded_actions(self.as_accountant(payment))[name]
            with self.subTest(name):
                attempt()
                self.assertTrue(done(), f"{name}: not done")

    def test_the_release_is_logged_on_the_payment_and_its_bill(self):
        payment = self.paid()
        bill = payment.reconciled_bill_ids
        self.release(payment, "The vendor returned the check")
        self.assertTrue(payment.avidxchange_released)
        self.assertEqual(payment.avidxchange_release_reason, "The vendor returned the check")
        for record in (payment, bill):
            body = record.message_ids[0].body
            self.assertIn("The vendor returned the check", body)
            self.assertIn(self.env.user.name, body)
        Payment = self.env["account.payment"]
        self.assertEqual(Payment.search([("avidxchange_released", "=", True)]), payment)
        # the demo's case, once released: reset to draft, then the amount edited
        payment = self.as_accountant(payment)
        payment.action_draft()
        payment.write({"amount": 10.0})
        self.assertEqual((payment.state, payment.amount), ("draft", 10.0))

    def test_the_import_still_undoes_a_guarded_payment(self):
        payment = self.paid()
        bill = payment.reconciled_bill_ids
        self.simulator.void_payment(payment.avidxchange_payment_id.payment_ref)
        self.run_stream("payment")
        self.assertEqual(payment.avidxchange_payment_id.state, "reversed")
        self.assertEqual(payment.state, "canceled")
        self.assertEqual((bill.payment_state, bill.amount_residual), ("not_paid", 100.0))
        # cancelled by the import, it stays as AvidXchange left it
        mine = self.as_accountant(payment)
        self.assertRefused(mine.action_draft)
        posted_again = self.assertRefused(lambda: mine.write({"state": "in_process"}))
        self.assertIn("Setting it to In Process", posted_again.args[0])
        self.assertEqual(payment.state, "canceled")

    def test_the_import_reverses_a_guarded_payment_in_a_locked_period(self):
        payment = self.paid()
        bill = payment.reconciled_bill_ids
        self.env.company.fiscalyear_lock_date = payment.date
        self.simulator.void_payment(payment.avidxchange_payment_id.payment_ref)
        self.run_stream("payment")
        self.assertEqual(payment.avidxchange_payment_id.state, "reversed")
        self.assertTrue(payment.move_id.reversal_move_ids)
        self.assertEqual(bill.amount_residual, bill.amount_total)

    def test_the_import_undoes_a_released_and_edited_payment(self):
        payment = self.paid()
        bill = payment.reconciled_bill_ids
        self.release(payment)
        self.as_accountant(payment).action_draft()
        self.as_accountant(payment).write({"amount": 10.0})
        self.simulator.void_payment(payment.avidxchange_payment_id.payment_ref)
        self.run_stream("payment")
        self.assertEqual(payment.state, "canceled")
        self.assertEqual(bill.amount_residual, bill.amount_total)

    def test_a_payment_not_made_by_the_connector_is_unaffected(self):
        bill = self.bill(self.partner_a, 60.0, ref="OUTSIDE-1")
        self.assertFalse(bill.avidxchange_link_ids)
        payment = (
            self.env["account.payment.register"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({})
            ._create_payments()
        )
        payment.write({"amount": 55.0, "date": "2026-12-24"})
        payment.action_draft()
        payment.write({"amount": 50.0, "partner_id": self.partner_b.id})
        payment.action_cancel()
        payment.unlink()
        self.assertFalse(payment.exists())
        self.assertEqual(bill.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestPaymentGuardsEnterprise(EnterpriseMode, TestPaymentGuards):
    """The same guards, with Enterprise's accounting installed."""


@tagged("post_install", "-at_install")
class TestPaymentGuardsOverRpc(PaymentCase, HttpCase):
    """Over Odoo's RPC route, as a client calls it: refused, even with the
    context the payment import passes its own guard with."""

    def call(self, payment, method, *args, context=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/account.payment/{method}",
            {
                "model": "account.payment",
                "method": method,
                "args": [payment.ids, *args],
                "kwargs": {"context": context or {}},
            },
        )

    def test_refused_over_rpc_until_released(self):
        accountant = self.company_user("avx_rpc_accountant", "account.group_account_manager")
        bill = self.exported_bill(90.0)
        report = self.pay((bill, 90.0))
        self.run_stream("payment")
        payment = self.imported(report).odoo_payment_ids
        self.authenticate(accountant.login, accountant.login)
        forged = {"avidxchange_unguarded": payment.ids}  # a list: JSON has no sets
        for method, args in (
            ("action_draft", ()),
            ("action_cancel", ()),
            ("unlink", ()),
            ("write", ({"amount": 1.0},)),
            ("write", ({"avidxchange_released": True},)),
        ):
            for context in ({}, forged):
                with (
                    self.subTest(method=method, args=args, context=context),
                    self.assertRaisesRegex(JsonRpcException, "UserError"),
                    self.assertLogs("odoo.http", "WARNING") as logs,
                ):
                    self.call(payment, method, *args, context=context)
                self.assertTrue(any("AvidXchange" in line for line in logs.output), logs.output)
        self.env.invalidate_all()  # the requests ran in an environment of their own
        self.assertEqual((payment.state, payment.amount), ("in_process", 90.0))
        self.assertEqual(bill.amount_residual, 0.0)
        self.env["avidxchange.payment.release"].with_context(
            active_model="account.payment", active_ids=payment.ids
        ).create({"reason": "Check lost, reissued by hand"}).action_release()
        self.call(payment, "action_draft")
        self.call(payment, "write", {"amount": 80.0})
        self.env.invalidate_all()
        self.assertEqual((payment.state, payment.amount), ("draft", 80.0))

    def test_an_administrator_is_refused_quietly_and_offered_the_release(self):
        bill = self.exported_bill(70.0)
        report = self.pay((bill, 70.0))
        self.run_stream("payment")
        payment = self.imported(report).odoo_payment_ids
        self.authenticate(self.env.user.login, self.env.user.login)
        with self.assertLogs("odoo.http", logging.DEBUG) as logs:
            with self.assertRaisesRegex(JsonRpcException, "RedirectWarning"):
                self.call(payment, "action_draft")
            logging.getLogger("odoo.http").debug("done")  # so that there is a record
        for record in logs.records:
            self.assertLess(record.levelno, logging.ERROR, record.getMessage())
            self.assertFalse(record.exc_info, f"a traceback with: {record.getMessage()}")
        self.assertNotEqual(payment.state, "draft")
