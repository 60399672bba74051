import json
from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare


class AvidxchangePayment(models.Model):
    """How a paid report becomes Odoo accounting, and how a void undoes it:
    one Odoo payment per AvidXchange payment, reconciled bill by bill; an
    undo that cancels, or reverses on the first open date. When each is done
    is decided in ``avidxchange_payment.py``."""

    _inherit = "avidxchange.payment"

    def _plan_registration(self, report, bills, conflicts, currency):
        """The Odoo payment a paid report calls for, checked but not yet
        created (``_post_registrations`` does, alone or with a slice's others):
        one payment for the AvidXchange payment (one check, one bank debit),
        always with its journal entry, relieving each bill of exactly what
        AvidXchange relieved it of (``AmountPaid + Discount``), discounts
        written off; once the bills are known, of one vendor, in the
        payment's currency, and nothing goes beyond what is due. ``bills``,
        ``conflicts`` and ``currency`` are what ``_match_bills`` and
        ``_find_currency`` found for the report."""
        if conflicts:
            raise UserError(
                self.env._(
                    "AvidXchange's invoice line %s names two different bills (by AvidXchange's "
                    "id and by ours): nothing registered. Check it in AvidXchange.",
                    ", ".join(conflicts),
                )
            )
        missing = [a.label for a in report.allocations if a not in bills]
        if missing:
            raise UserError(
                self.env._(
                    "AvidXchange paid invoice(s) %s, which no exported Odoo bill matches.",
                    ", ".join(missing),
                )
            )
        moves = self.env["account.move"].union(*bills.values())
        if len(moves.commercial_partner_id) > 1:
            raise UserError(
                self.env._(
                    "One AvidXchange payment pays bills of several vendors (%s): check it in "
                    "AvidXchange.",
                    ", ".join(moves.commercial_partner_id.mapped("display_name")),
                )
            )
        if len(moves) != len(report.allocations):
            raise UserError(self.env._("AvidXchange names one bill twice in one payment."))
        self._check_currency(currency, report.currency, moves)
        for allocation in report.allocations:
            self._check_allocation(bills[allocation], allocation, currency)
        values = self._prepare_payment_values(report, bills, currency)
        return Registration(self, report, bills, currency, values)

    @api.model
    def _post_registrations(self, registrations):
        """Create, post and reconcile the Odoo payments of ``registrations``
        together: one ``create`` per outstanding account, one ``action_post``,
        one reconciliation plan, one chatter batch, as Odoo's wizard pays many
        bills at once. Whoever calls it with several keeps them apart: no
        bill in two of them (each was checked against the bill as it is)."""
        Payment = self.env["account.payment"]
        by_account = defaultdict(list)
        for registration in registrations:
            by_account[registration.values["outstanding_account_id"]].append(registration)
        odoo_payments = {}
        for account_id, group in by_account.items():
            created = Payment.with_context(avidxchange_outstanding_account_id=account_id).create(
                [
                    {
                        **{k: v for k, v in r.values.items() if k != "outstanding_account_id"},
                        "avidxchange_payment_id": r.payment.id,
                        "invoice_ids": [Command.set(r.moves.ids)],
                    }
                    for r in group
                ]
            )
            odoo_payments.update(zip(group, created, strict=True))
        posted = Payment.union(*odoo_payments.values())
        posted.action_post()
        if not all(posted.mapped("move_id")):
            # never "registered" without its journal entry (see odoo19-notes §12)
            raise UserError(self.env._("Odoo made an AvidXchange payment without a journal entry."))
        self.env["account.move.line"]._reconcile_plan(
            [pair for r in registrations for pair in r.reconciliation_pairs(odoo_payments[r])]
        )
        bodies = {}
        for registration in registrations:
            registration.payment.sudo().write(
                {"state": "posted", "registered_terms": json.dumps(registration.report.terms())}
            )
            bodies.update(registration.chatter_bodies(odoo_payments[registration]))
        moves = self.env["account.move"].browse(list(bodies))
        moves._message_log_batch(bodies={move.id: bodies[move.id] for move in moves})
        self.env["avidxchange.attention"]._resolve(moves, self.env._("The payment went through."))

    def _check_allocation(self, bill, allocation, currency):
        """What AvidXchange did to one of our documents: paid a bill, or
        consumed a credit note (a negative ``AmountPaid``), within what is
        still open of it."""
        is_credit_note = bill.move_type == "in_refund"
        if allocation.is_credit != is_credit_note:
            raise UserError(
                self.env._(
                    "AvidXchange consumed a credit of %(amount)s on %(bill)s, which is a bill, "
                    "not a credit note: nothing registered. Check it in AvidXchange.",
                    amount=currency.format(-allocation.paid),
                    bill=bill.name,
                )
                if allocation.is_credit
                else self.env._(
                    "AvidXchange paid %(amount)s on credit note %(bill)s, which is consumed, "
                    "never paid: nothing registered. Check it in AvidXchange.",
                    amount=currency.format(allocation.paid),
                    bill=bill.name,
                )
            )
        if bill.payment_state in ("paid", "in_payment", "reversed"):
            raise UserError(
                self.env._("Bill %s is already paid in Odoo: nothing registered.", bill.name)
            )
        residual = bill.amount_residual
        if is_credit_note:
            if float_compare(-allocation.paid, residual, precision_rounding=currency.rounding) > 0:
                raise UserError(
                    self.env._(
                        "AvidXchange consumed %(credit)s of credit note %(bill)s, more than "
                        "the %(residual)s left of it.",
                        credit=currency.format(-allocation.paid),
                        bill=bill.name,
                        residual=currency.format(residual),
                    )
                )
            return
        if float_compare(allocation.relieved, residual, precision_rounding=currency.rounding) > 0:
            raise UserError(
                self.env._(
                    "AvidXchange paid %(paid)s (discount %(discount)s) on bill %(bill)s, more "
                    "than its %(residual)s still due.",
                    paid=currency.format(allocation.paid),
                    discount=currency.format(allocation.discount),
                    bill=bill.name,
                    residual=currency.format(residual),
                )
            )
        if allocation.discount and not self._discount_account():
            raise UserError(
                self.env._(
                    "AvidXchange took a discount on bill %s: set the company's cash discount "
                    "gain account (Accounting settings), then Retry.",
                    bill.name,
                )
            )

    def _prepare_payment_values(self, report, bills, currency):
        """The Odoo payment: the cash side is what AvidXchange paid out; the
        first bill's share is the payment's own counterpart line, every other
        bill's is a payable line of its own (so each bill is relieved of its
        own share, not of what reconciliation would pick), and the discounts
        are one write-off. A credit consumed is a payable line the other way,
        which the credit note is set against."""
        journal, outstanding_account = self._get_journal(report)
        method_line = self._get_method_line(journal)
        date = self.payment_date or fields.Date.context_today(self)
        first, *others = bills_first(report.allocations)
        partner = bills[first].commercial_partner_id

        def line(name, account, amount):
            return {
                "name": name,
                "account_id": account.id,
                "partner_id": partner.id,
                "currency_id": currency.id,
                "amount_currency": amount,
                "balance": currency._convert(
                    amount, self.company_id.currency_id, self.company_id, date
                ),
            }

        extra_lines = [line(bills[a].name, _payable_account(bills[a]), a.relieved) for a in others]
        discount = sum(a.discount for a in report.allocations)
        if discount:
            extra_lines.append(
                line(self.env._("AvidXchange discount"), self._discount_account(), -discount)
            )
        values = {
            "payment_type": "outbound",
            "partner_type": "supplier",
            "partner_id": partner.id,
            "amount": report.amount,
            "currency_id": currency.id,
            "date": date,
            "journal_id": journal.id,
            "payment_method_line_id": method_line.id,
            "outstanding_account_id": (
                outstanding_account
                or method_line.payment_account_id
                or self.env["account.payment"]
                .new({"company_id": self.company_id.id})
                ._get_outstanding_account("outbound")
            ).id,
            "destination_account_id": _payable_account(bills[first]).id,
            "memo": self._memo(),
        }
        if extra_lines:
            # Odoo then makes this payment's entry alone, at create; the
            # others' are made together when the batch is posted.
            values["write_off_line_vals"] = extra_lines
        return values

    def _undo(self):
        """Void or failed: undo what is live in Odoo, whatever the record's
        state says (a failed undo leaves it in error, and a retry must still
        undo). Each Odoo payment is cancelled when Odoo allows it, else (a
        locked period) its entry is reversed on the first open date; either
        way its bills are open again. Reports refused because these bills
        were paid are applied again: they may pass now."""
        live = self.odoo_payment_ids.filtered(
            lambda p: p.state != "canceled" and not p.move_id.reversal_move_ids
        )
        reopened = self.env["account.move"]
        for payment in live._avidxchange_unguarded():  # the import undoes what it made
            bills = payment.reconciled_bill_ids
            try:
                with self.env.cr.savepoint():
                    payment.action_cancel()
                done = self.env._("its Odoo payment %s was cancelled", payment.name)
            except AccessError:
                raise  # the sync's user lacks a right: not a locked period
            except UserError:
                reversal = self._reverse(payment)
                done = self.env._(
                    "the entry of its Odoo payment %(payment)s is in a locked period, so it was "
                    "reversed on %(date)s",
                    payment=payment.name,
                    date=reversal.date,
                )
            for bill in bills:
                bill._message_log(
                    body=self.env._(
                        "AvidXchange reported payment %(ref)s as %(status)s: %(done)s, and the "
                        "credit note is open again.",
                        ref=self.payment_ref,
                        status=self.status,
                        done=done,
                    )
                    if bill.move_type == "in_refund"
                    else self.env._(
                        "AvidXchange reported payment %(ref)s as %(status)s: %(done)s, and the "
                        "bill is open again.",
                        ref=self.payment_ref,
                        status=self.status,
                        done=done,
                    )
                )
            reopened |= bills
        self.sudo().state = "reversed"
        refused = self.search(
            [("id", "!=", self.id), ("state", "=", "error"), ("bill_ids", "in", reopened.ids)]
        )
        refused.sudo().to_apply = True

    def _reverse(self, payment):
        """Free the bills of ``payment`` and reverse its entry on the first
        date the books are open."""
        move = payment.move_id
        move.line_ids.remove_move_reconcile()
        date = move._get_accounting_date(fields.Date.context_today(self), has_tax=False)
        return move._reverse_moves(
            [{"date": date, "ref": self.env._("Reversal of %s: voided in AvidXchange", move.name)}],
            cancel=True,
        )


class Registration:
    """An Odoo payment to create for an AvidXchange payment: the record,
    its parsed report, ``{allocation: bill}``, the currency and the values of
    the ``account.payment`` (``_prepare_payment_values``)."""

    def __init__(self, payment, report, bills, currency, values):
        self.payment = payment
        self.report = report
        self.bills = bills
        self.currency = currency
        self.values = values

    @property
    def moves(self):
        return self.payment.env["account.move"].union(*self.bills.values())

    def reconciliation_pairs(self, odoo_payment):
        """Each bill's open payable lines with its own payable line of the
        payment: the first bill's is the payment's counterpart, every other's
        the line named after it."""
        payables = odoo_payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
        first, *others = bills_first(self.report.allocations)
        own_lines = {
            a: payables.filtered(lambda line, a=a: line.name == self.bills[a].name)[:1]
            for a in others
        }
        own_lines[first] = payables - odoo_payment.env["account.move.line"].union(
            *own_lines.values()
        )
        for allocation, payment_line in own_lines.items():
            bill_lines = self.bills[allocation].line_ids.filtered(
                lambda line, account=payment_line.account_id: (
                    line.account_id == account and not line.reconciled
                )
            )
            yield payment_line + bill_lines

    def chatter_bodies(self, odoo_payment):
        """``{bill id: what the bill's chatter says of the payment}``."""
        payment, env = self.payment, self.payment.env
        return {
            self.bills[allocation].id: env._(
                "Used by AvidXchange: %(memo)s consumed %(amount)s of this credit note "
                "(payment %(payment)s).",
                memo=payment._memo(),
                amount=self.currency.format(-allocation.relieved),
                payment=odoo_payment.name,
            )
            if allocation.is_credit
            else env._(
                "Paid through AvidXchange: %(memo)s, %(amount)s of this bill (payment "
                "%(payment)s).",
                memo=payment._memo(),
                amount=self.currency.format(allocation.relieved),
                payment=odoo_payment.name,
            )
            for allocation in self.report.allocations
        }


def bills_first(allocations):
    """The allocations, a bill's first: the first is the payment's own
    counterpart line, which pays (a credit consumed is never first)."""
    return sorted(allocations, key=lambda allocation: allocation.is_credit)


def _payable_account(bill):
    return bill.line_ids.filtered(lambda line: line.account_type == "liability_payable")[
        :1
    ].account_id
