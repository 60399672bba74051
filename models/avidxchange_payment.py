import json
import logging

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from .. import const
from ..tools.payment_report import ReportError, parse_report

_logger = logging.getLogger(__name__)

STATUS_CATEGORIES = [
    (const.PAYMENT_NOT_PAID_YET, "Not paid yet"),
    (const.PAYMENT_PAID, "Paid"),
    (const.PAYMENT_CLEARED, "Cleared"),
    (const.PAYMENT_UNDONE, "Void or failed"),
]
PAID_CATEGORIES = {const.PAYMENT_PAID, const.PAYMENT_CLEARED}


class AvidxchangePayment(models.Model):
    """A payment AvidXchange made, and what it did in Odoo.

    AvidXchange reports a payment again whenever it changes (Issued, then
    Cleared, or Void), and may report the same thing twice. Each report goes
    through :meth:`_apply_report`: it is checked first (``parse_report``, then
    its currency, bills and vendor here), and a report that fails a check
    needs a person's attention, says why, and posts nothing. Otherwise the
    status's category and what is already posted decide:

    - paid or cleared, nothing posted yet: register one native Odoo payment
      per paid bill, reconciled with it (discounts written off);
    - void or failed after posting: cancel those payments, which frees the bills;
    - anything else, or the same report again: nothing to post.

    Imported payments are read-only to every user: only the import writes them.
    """

    _name = "avidxchange.payment"
    _description = "AvidXchange Payment"
    _check_company_auto = True
    _order = "payment_date desc, id desc"
    _rec_name = "payment_ref"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    payment_ref = fields.Char(string="AvidXchange Payment ID", required=True, readonly=True)
    status = fields.Char(string="AvidXchange Status", readonly=True)
    status_category = fields.Selection(STATUS_CATEGORIES, string="Meaning", readonly=True)
    method = fields.Selection(
        list(const.PAYMENT_METHODS.items()), string="Payment Method", readonly=True
    )
    check_number = fields.Char(readonly=True)
    trace_number = fields.Char(readonly=True)
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    payment_date = fields.Date(readonly=True)
    cleared_date = fields.Date(readonly=True)
    gl_posting_codes = fields.Char(string="GL Posting Codes", readonly=True)
    last_report = fields.Text(
        readonly=True, help="The last report, as AvidXchange sent it (bank details masked)."
    )
    report_hash = fields.Char(readonly=True, copy=False)
    to_apply = fields.Boolean(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Its last report waits to be applied.",
    )
    state = fields.Selection(
        [
            ("waiting", "Not paid yet"),
            ("posted", "Registered"),
            ("reversed", "Cancelled"),
            ("error", "Needs attention"),
        ],
        default="waiting",
        required=True,
        readonly=True,
        index=True,
    )
    error_message = fields.Text(readonly=True)
    odoo_payment_ids = fields.One2many(
        "account.payment", "avidxchange_payment_id", string="Odoo Payments", readonly=True
    )
    bill_ids = fields.Many2many(
        "account.move", string="Bills", readonly=True, help="The exported bills it pays."
    )

    exchange_count = fields.Integer(compute="_compute_exchange_count")

    _backend_ref_uniq = models.Constraint(
        "UNIQUE(backend_id, payment_ref)", "An AvidXchange payment is imported once."
    )

    # === COMPUTE METHODS === #

    def _compute_exchange_count(self):
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self)
        for payment in self:
            payment.exchange_count = counts.get(payment.id, 0)

    # === ACTION METHODS === #

    def action_open_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self)

    def action_retry(self):
        """Apply the last report again, e.g. after fixing a mapping."""
        for payment in self.filtered(lambda p: p.state == "error" and p.last_report):
            payment._apply_report(json.loads(payment.last_report))
        return True

    # === BUSINESS METHODS === #

    def _avidxchange_replay(self):
        """The audit trail's replay of a payment report: apply it again."""
        return self.action_retry()

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Nothing to queue: a payment in error is retried from its own record,
        and its report comes again whenever AvidXchange changes it."""

    def _apply_report(self, item):
        """Apply a stored report (``last_report``, as ``_store_reports`` kept it)."""
        self.ensure_one()
        payment = self.sudo()  # read-only to users: the import alone writes it
        values = {"to_apply": False}
        try:
            report = parse_report(item)
        except ReportError as error:
            payment.write({**values, "state": "error", "error_message": str(error)})
        else:
            payment.write({**values, **self._prepare_values(report)})
            try:
                with self.env.cr.savepoint():
                    self._apply(report)
                    payment.error_message = False
            except UserError as error:
                payment.write({"state": "error", "error_message": error.args[0]})
        if self.state == "error":
            _logger.info(
                "AvidXchange payment %s needs attention: %s", self.payment_ref, self.error_message
            )
        self.env["avidxchange.exchange.log"]._log_report(self, item, self.error_message)

    def _apply(self, report):
        """What ``report``'s status means, given what is posted already."""
        payment = self.sudo()
        if report.category in PAID_CATEGORIES and self.state in ("waiting", "error"):
            self._register_payments(report)
        elif report.category == const.PAYMENT_UNDONE:
            self._undo()  # from what is live in Odoo, nothing when nothing was posted
        elif self.state == "error":
            payment.state = "waiting"  # a sound report after a wrong one: not paid yet

    def _register_payments(self, report):
        """One Odoo payment for the AvidXchange payment (one check, one bank
        debit), always with its journal entry, reconciled bill by bill with
        exactly what AvidXchange relieved each bill of (``AmountPaid +
        Discount``), discounts written off: once the bills are known, of one
        vendor, in the payment's currency, and nothing goes beyond what is due."""
        bills = self._find_bills(report.allocations)
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
        currency = self._get_currency(report.currency, moves)
        for allocation in report.allocations:
            self._check_allocation(bills[allocation], allocation, currency)
        values = self._prepare_payment_values(report, bills, currency)
        payment = (
            self.env["account.payment"]
            .with_context(avidxchange_outstanding_account_id=values.pop("outstanding_account_id"))
            .create(values)
        )
        payment.action_post()
        self._reconcile_bills(payment, report, bills)
        payment.sudo().avidxchange_payment_id = self
        self.sudo().state = "posted"
        for allocation in report.allocations:
            bills[allocation]._message_log(
                body=self.env._(
                    "Paid through AvidXchange: %(memo)s, %(amount)s of this bill (payment "
                    "%(payment)s).",
                    memo=self._memo(),
                    amount=currency.format(allocation.relieved),
                    payment=payment.name,
                )
            )

    def _check_allocation(self, bill, allocation, currency):
        if bill.payment_state in ("paid", "in_payment", "reversed"):
            raise UserError(
                self.env._("Bill %s is already paid in Odoo: nothing registered.", bill.name)
            )
        residual = bill.amount_residual
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
        are one write-off."""
        journal, outstanding_account = self._get_journal(report)
        method_line = self._get_method_line(journal)
        date = self.payment_date or fields.Date.context_today(self)
        first, *others = report.allocations
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
        return {
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
            "write_off_line_vals": extra_lines,
        }

    def _reconcile_bills(self, payment, report, bills):
        """Each bill with its own payable line of the payment."""
        payables = payment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == "liability_payable"
        )
        first, *others = report.allocations
        own_lines = {
            a: payables.filtered(lambda line, a=a: line.name == bills[a].name)[:1] for a in others
        }
        own_lines[first] = payables - self.env["account.move.line"].union(*own_lines.values())
        for allocation, payment_line in own_lines.items():
            bill = bills[allocation]
            bill_lines = bill.line_ids.filtered(
                lambda line, account=payment_line.account_id: (
                    line.account_id == account and not line.reconciled
                )
            )
            (payment_line + bill_lines).reconcile()
            bill.matched_payment_ids += payment

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
        for payment in live:
            bills = payment.reconciled_bill_ids
            try:
                with self.env.cr.savepoint():
                    payment.action_cancel()
                done = self.env._("its Odoo payment %s was cancelled", payment.name)
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

    # === PRIVATE HELPERS === #

    def _prepare_values(self, report):
        """What the record shows of a sound ``report``."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", report.currency)], limit=1)
        )
        bills = self._find_bills(report.allocations).values()
        return {
            "status": report.status,
            "status_category": report.category,
            "method": report.method,
            "check_number": report.check_number,
            "trace_number": report.trace_number,
            "amount": report.amount,
            "currency_id": currency.id,
            "payment_date": report.payment_date,
            "cleared_date": report.cleared_date,
            "gl_posting_codes": ", ".join(code for _group, code in report.gl_codes) or False,
            "bill_ids": [Command.set([bill.id for bill in bills])],
        }


def _payable_account(bill):
    return bill.line_ids.filtered(lambda line: line.account_type == "liability_payable")[
        :1
    ].account_id
