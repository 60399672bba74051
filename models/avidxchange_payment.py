import json
import logging
from datetime import datetime, timedelta, timezone

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from .. import const
from ..tools.payload import fingerprint

_logger = logging.getLogger(__name__)

PAYMENT_STATUSES = [
    (const.PAYMENT_STATUS_PENDING, "Pending"),
    (const.PAYMENT_STATUS_ISSUED, "Issued"),
    (const.PAYMENT_STATUS_CLEARED, "Cleared"),
    (const.PAYMENT_STATUS_VOID, "Void"),
    (const.PAYMENT_STATUS_ERROR, "Error"),
]
# AvidXchange stamps payments with its own clock: read a little before the mark.
WINDOW_OVERLAP = timedelta(minutes=10)
PAID_STATUSES = {const.PAYMENT_STATUS_ISSUED, const.PAYMENT_STATUS_CLEARED}
UNDONE_STATUSES = {const.PAYMENT_STATUS_VOID, const.PAYMENT_STATUS_ERROR}


class AvidxchangePayment(models.Model):
    """A payment AvidXchange made, and what it did in Odoo.

    AvidXchange reports a payment again whenever it changes (Issued, then
    Cleared, or Void), and may report the same thing twice. Each report goes
    through :meth:`_apply_report`, which decides from the reported status and
    what is already posted:

    - Issued or Cleared, nothing posted yet: register one native Odoo payment
      per paid bill, reconciled with it (discounts written off);
    - Void or Error after posting: cancel those payments, which frees the bills;
    - anything else, or the same report again: nothing to post.
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
    status = fields.Selection(PAYMENT_STATUSES, readonly=True)
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
    last_report = fields.Text(readonly=True, help="The last report, as AvidXchange sent it.")
    report_hash = fields.Char(readonly=True, copy=False)
    state = fields.Selection(
        [
            ("waiting", "Not paid yet"),
            ("posted", "Registered"),
            ("reversed", "Cancelled"),
            ("error", "Error"),
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
        for payment in self.filtered(lambda p: p.state == "error"):
            payment._apply_report(json.loads(payment.last_report))
        return True

    # === BUSINESS METHODS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """One slice of the payment import: read what AvidXchange changed
        since the mark, apply up to ``batch_size`` new or changed payment
        reports; returns ``(applied, more_to_apply)``.

        Registering a payment is costly (Odoo reconciles it), so a large
        window is applied in slices, one transaction each (the cron commits in
        between): a crash loses at most one slice, and reports applied before
        are recognised by their fingerprint when the window is read again. The
        mark moves only when a slice reaches the end of the window; when the
        window cannot be read to its end, the error stops the stream and the
        mark stays.
        """
        backend = stream.backend_id
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # to the microsecond, unlike Odoo's
        since = (stream.mark or backend.create_date) - WINDOW_OVERLAP
        with backend._get_client() as client, client.recording("payment_import", stream):
            invoices = list(client.iter_invoices(since, now))
            self.env["avidxchange.invoice.link"]._refresh_statuses(backend, invoices)
            reports = list(client.iter_payments(since, now))
        applied, more = self._import_reports(backend, reports, batch_size)
        if not more:
            stream.mark = now
        return applied, int(more)

    def _avidxchange_replay(self):
        """The audit trail's replay of a payment report: apply it again."""
        return self.action_retry()

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Nothing to queue: a payment in error is retried from its own record,
        and its report comes again whenever AvidXchange changes it."""

    @api.model
    def _import_reports(self, backend, reports, limit):
        """Store and apply up to ``limit`` reports that are new or changed; a
        report seen before (same fingerprint) is skipped. Returns
        ``(applied, more)``, ``more`` when reports were left for another slice."""
        refs = [report.get("PaymentId") for report in reports if report.get("PaymentId")]
        known = {
            payment.payment_ref: payment
            for payment in self.search(
                [("backend_id", "=", backend.id), ("payment_ref", "in", refs)]
            )
        }
        applied = 0
        for report in reports:
            ref = report.get("PaymentId")
            if not ref:
                _logger.warning("AvidXchange sent a payment report without PaymentId: skipped.")
                continue
            payment = known.get(ref)
            if payment and payment.report_hash == fingerprint(report):
                continue  # the same report again
            if applied == limit:
                return applied, True
            if not payment:
                payment = known[ref] = self.create({"backend_id": backend.id, "payment_ref": ref})
            payment._apply_report(report)
            applied += 1
        return applied, False

    def _apply_report(self, report):
        self.ensure_one()
        digest = fingerprint(report)
        self.write(self._prepare_values(report))
        status = self.status
        try:
            with self.env.cr.savepoint():
                if status in PAID_STATUSES and self.state in ("waiting", "error"):
                    self._register_payments(report)
                elif status in UNDONE_STATUSES and self.state == "posted":
                    self._cancel_payments()
                elif status in UNDONE_STATUSES:
                    self.state = "reversed"  # nothing was posted: nothing to undo
                self.error_message = False
        except UserError as error:
            self.write({"state": "error", "error_message": error.args[0]})
            _logger.info("AvidXchange payment %s not registered: %s", self.payment_ref, error)
        self.report_hash = digest
        self.env["avidxchange.exchange.log"]._log_report(self, report, self.error_message)

    def _register_payments(self, report):
        """One Odoo payment per paid bill, reconciled with it."""
        allocations = report.get("Invoices") or []
        if not allocations:
            raise UserError(self.env._("The payment names no invoice."))
        bills = self._find_bills(allocations)
        missing = [
            a.get("Id") or a.get("ExternalInvoiceId")
            for a in allocations
            if a.get("Id") not in bills
        ]
        if missing:
            raise UserError(
                self.env._(
                    "AvidXchange paid invoice(s) %s, which no exported Odoo bill matches.",
                    ", ".join(str(m) for m in missing),
                )
            )
        journal, outstanding_account = self._get_journal(report)
        method_line = self._get_method_line(journal)
        currency = self.currency_id or journal.currency_id or self.company_id.currency_id
        payments = self.env["account.payment"]
        for allocation in allocations:
            bill = bills[allocation["Id"]]
            payments |= self._register_allocation(
                bill, allocation, journal, method_line, currency, outstanding_account
            )
        payments.avidxchange_payment_id = self
        self.state = "posted"
        for payment in payments:
            for bill in payment.reconciled_bill_ids:
                bill._message_log(
                    body=self.env._(
                        "Paid through AvidXchange: %(memo)s, %(amount)s (payment %(payment)s).",
                        memo=self._memo(),
                        amount=payment.currency_id.format(payment.amount),
                        payment=payment.name,
                    )
                )

    def _register_allocation(self, bill, allocation, journal, method_line, currency, account):
        paid = float(allocation.get("AmountPaid") or 0.0)
        discount = float(allocation.get("Discount") or 0.0)
        if bill.payment_state in ("paid", "in_payment", "reversed"):
            raise UserError(
                self.env._("Bill %s is already paid in Odoo: nothing registered.", bill.name)
            )
        residual = bill.amount_residual
        if float_compare(paid + discount, residual, precision_rounding=currency.rounding) > 0:
            raise UserError(
                self.env._(
                    "AvidXchange paid %(paid)s (discount %(discount)s) on bill %(bill)s, more "
                    "than its %(residual)s still due.",
                    paid=paid,
                    discount=discount,
                    bill=bill.name,
                    residual=residual,
                )
            )
        values = {
            "amount": paid,
            "payment_date": self.payment_date or fields.Date.context_today(self),
            "journal_id": journal.id,
            "payment_method_line_id": method_line.id,
            "currency_id": currency.id,
            "communication": self._memo(),
        }
        if not float_is_zero(discount, precision_rounding=currency.rounding):
            closes = not float_compare(
                paid + discount, residual, precision_rounding=currency.rounding
            )
            discount_account = self.company_id.account_journal_early_pay_discount_gain_account_id
            if not closes or not discount_account:
                raise UserError(
                    self.env._(
                        "A discount that does not settle bill %s, or a company without a cash "
                        "discount gain account, cannot be registered automatically.",
                        bill.name,
                    )
                )
            values.update(
                payment_difference_handling="reconcile",
                writeoff_account_id=discount_account.id,
                writeoff_label=self.env._("AvidXchange discount"),
            )
        wizard = (
            self.env["account.payment.register"]
            .with_context(
                active_model="account.move",
                active_ids=bill.ids,
                avidxchange_outstanding_account_id=account.id,
            )
            .create(values)
        )
        return wizard._create_payments()

    def _cancel_payments(self):
        """Void or Error after posting: undo what the earlier report posted."""
        payments = self.odoo_payment_ids.filtered(lambda p: p.state != "canceled")
        bills = payments.reconciled_bill_ids
        payments.action_cancel()
        self.state = "reversed"
        for bill in bills:
            bill._message_log(
                body=self.env._(
                    "AvidXchange reported payment %(ref)s as %(status)s: its Odoo payment was "
                    "cancelled and the bill is open again.",
                    ref=self.payment_ref,
                    status=self.status,
                )
            )

    # === PRIVATE HELPERS === #

    def _prepare_values(self, report):
        method = (report.get("PaymentMethod") or {}).get("Description")
        status = (report.get("Status") or {}).get("Description")
        currency = self.env["res.currency"].search([("name", "=", report.get("Currency"))])
        codes = [p.get("EnterpriseCodeValue") for p in report.get("GLPostings") or []]
        allocations = report.get("Invoices") or []
        return {
            "status": status if status in dict(PAYMENT_STATUSES) else False,
            "method": method if method in const.PAYMENT_METHODS else False,
            "check_number": report.get("CheckNumber") or False,
            "trace_number": report.get("TraceNumber") or False,
            "amount": report.get("Amount") or 0.0,
            "currency_id": currency.id,
            "payment_date": report.get("PaymentDate") or False,
            "cleared_date": report.get("ClearedDate") or False,
            "gl_posting_codes": ", ".join(c for c in codes if c) or False,
            "bill_ids": [Command.set([b.id for b in self._find_bills(allocations).values()])],
            "last_report": json.dumps(report, indent=1, sort_keys=True),
        }

    def _find_bills(self, allocations):
        """``{AvidXchange invoice id: bill}`` for the allocations we exported."""
        Link = self.env["avidxchange.invoice.link"].sudo()
        ids = [a.get("Id") for a in allocations if a.get("Id")]
        links = Link.search(
            [("backend_id", "=", self.backend_id.id), ("avidxchange_id", "in", ids)]
        )
        return {link.avidxchange_id: link.move_id.sudo(False) for link in links}

    def _get_journal(self, report):
        """The journal (and outstanding account) the GL posting codes map to."""
        backend = self.backend_id
        for posting in report.get("GLPostings") or []:
            mapping = backend.gl_mapping_ids.filtered(
                lambda m, p=posting: (
                    m.code == p.get("EnterpriseCodeValue")
                    and m.group_name == (p.get("GroupName") or const.GL_ACCOUNT_CODE_GROUP)
                )
            )[:1]
            if mapping:
                return mapping.journal_id or backend.journal_id, mapping.account_id
        if not backend.journal_id:
            raise UserError(self.env._("Set the payment journal of the AvidXchange connection."))
        return backend.journal_id, self.env["account.account"]

    def _get_method_line(self, journal):
        mapping = self.backend_id.payment_method_mapping_ids.filtered(
            lambda m: (
                m.avidxchange_method == self.method
                and m.payment_method_line_id.journal_id == journal
            )
        )[:1]
        if mapping:
            return mapping.payment_method_line_id
        lines = journal.outbound_payment_method_line_ids
        line = lines.filtered(lambda line: line.code == "manual")[:1] or lines[:1]
        if not line:
            raise UserError(
                self.env._("Journal %s has no outgoing payment method.", journal.display_name)
            )
        return line

    def _memo(self):
        """E.g. "AvidXchange PAY-88 Check 100001" or "AvidXchange PAY-89 ACH trace 0910…"."""
        label = const.PAYMENT_METHODS.get(self.method, self.method or "")
        if self.check_number:
            number = self.check_number
        elif self.trace_number:
            number = self.env._("trace %s", self.trace_number)
        else:
            number = ""
        return " ".join(w for w in ("AvidXchange", self.payment_ref, label, number) if w)
