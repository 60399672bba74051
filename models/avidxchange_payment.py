import json
import logging

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools.notify import notification
from ..tools.payment_report import ReportError, describe_terms, parse_report
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

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
    _inherit = ["avidxchange.stream.handler"]
    _description = "AvidXchange Payment"
    _check_company_auto = True
    _order = "payment_date desc, id desc"
    _rec_name = "payment_ref"
    _avidxchange_kind = StreamKind(
        "payment", _lt("Payments"), order=50, interval=15, batch=50, cron="import", inbound=True
    )

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
    registered_terms = fields.Text(
        readonly=True,
        copy=False,
        help="What AvidXchange said the payment paid when it was registered.",
    )
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
        string="In Odoo",
    )
    error_message = fields.Text(readonly=True)
    failure_reasons = fields.Char(
        string="Why AvidXchange Could Not Pay",
        readonly=True,
        help="AvidXchange's reasons for a payment in Error (e.g. Missing bank account).",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        compute="_compute_partner_id",
        store=True,
        index="btree_not_null",
    )
    odoo_payment_ids = fields.One2many(
        "account.payment", "avidxchange_payment_id", string="Odoo Payments", readonly=True
    )
    bill_ids = fields.Many2many(
        "account.move", string="Bills", readonly=True, help="The exported bills it pays."
    )

    exchange_count = fields.Integer(compute="_compute_exchange_count")

    @api.depends("bill_ids.commercial_partner_id")
    def _compute_partner_id(self):
        for payment in self:
            payment.partner_id = payment.bill_ids.commercial_partner_id[:1]

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
        self.backend_id._check_admin_access()  # administrators of its company only
        to_retry = self.filtered(lambda p: p.state == "error" and p.last_report)
        for backend, payments in to_retry.grouped("backend_id").items():
            payments.with_company(backend.company_id)._apply_reports()
        still = to_retry.filtered(lambda p: p.state == "error")
        if still:
            return notification(
                self.env._("Retry"),
                self.env._(
                    "%(count)s still need attention: %(reason)s",
                    count=len(still),
                    reason=still[0].error_message,
                ),
                "danger",
            )
        return notification(self.env._("Retry"), self.env._("%s applied.", len(to_retry)))

    # === BUSINESS METHODS === #

    def _avidxchange_replay(self):
        """The audit trail's replay of a payment report: apply it again."""
        return self.action_retry()

    @api.model
    def _avidxchange_waiting_count(self, backend):
        """How many of ``backend``'s payment reports wait to be applied."""
        return self.search_count([("backend_id", "=", backend.id), ("to_apply", "=", True)])

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Nothing to queue: a payment in error is retried from its own record,
        and its report comes again whenever AvidXchange changes it."""

    def _apply_reports(self):
        """Apply the stored reports (``last_report``) of these payments: a
        slice of the import.

        Each report is checked and decided alone, in the order given (an undo
        frees its bills before a later payment is registered on them). The
        Odoo payments they call for are then registered together
        (``_post_registrations``), unless two of them pay one bill: the later
        waits for the batch, to be checked against what the former left due.
        Should the batch fail, each is registered alone, so that only the
        culprit needs attention. What no report can be blamed for (the sync's
        user lacks a right, a conflict with another transaction) undoes the
        whole slice: its reports stay waiting, to apply on the next run."""
        with self.env.cr.savepoint():
            self._apply_reports_in_order()

    def _apply_reports_in_order(self):
        batch, after = [], []
        planned_bills = self.env["account.move"]
        for payment in self:
            item = json.loads(payment.last_report)
            registration = payment._apply_report(item, batch=True)
            if not registration:
                continue
            if registration.moves & planned_bills:
                after.append(payment)
            else:
                batch.append((registration, item))
            planned_bills |= registration.moves
        if batch:
            self._post_batch(batch)
        for payment in after:
            payment._apply_report(json.loads(payment.last_report))

    @api.model
    def _post_batch(self, batch):
        """Register ``[(registration, report item)]`` together; should that
        fail, apply each report alone, so that only the culprit needs
        attention (and says why)."""
        try:
            with self.env.cr.savepoint():
                self._post_registrations([registration for registration, _item in batch])
        except (psycopg2.OperationalError, AccessError):
            raise
        except Exception:  # noqa: BLE001 - one by one, the culprit alone says what failed
            _logger.info("AvidXchange: a batch of %s payments failed, one by one now", len(batch))
            for registration, item in batch:
                registration.payment._apply_report(item)
        else:
            for registration, item in batch:
                self.env["avidxchange.exchange.log"]._log_report(registration.payment, item)

    def _apply_report(self, item, batch=False):
        """Apply a stored report (``last_report``, as ``_store_reports`` kept it).

        Whatever goes wrong with one report stays on that report: a check it
        fails, or an error nobody foresaw (then its kind is said and the
        server log has the details); only a conflict with another transaction
        goes up, for the whole batch to be tried again. With ``batch``, a
        registration the report calls for is returned, checked but not
        posted, for ``_apply_reports`` to post with others (and log)."""
        self.ensure_one()
        payment = self.sudo()  # read-only to users: the import alone writes it
        registration = None
        try:
            with self.env.cr.savepoint():
                report = parse_report(item)
                # what the report names in Odoo, looked up once for the record and the posting
                bills, conflicts = self._match_bills(report.allocations)
                currency = self._find_currency(report.currency)
                payment.write({"to_apply": False, **self._prepare_values(report, bills, currency)})
                try:
                    with self.env.cr.savepoint():
                        registration = self._apply(report, bills, conflicts, currency)
                        if registration and not batch:
                            self._post_registrations([registration])
                        payment.error_message = False
                except AccessError:
                    raise  # the sync's user lacks a right: every report alike, the stream says
                except UserError as error:
                    registration = None
                    payment.write({"state": "error", "error_message": error.args[0]})
        except ReportError as error:
            payment.write({"to_apply": False, "state": "error", "error_message": str(error)})
        except (psycopg2.OperationalError, AccessError):
            raise
        except Exception as error:
            registration = None
            _logger.exception("AvidXchange payment %s could not be applied", self.payment_ref)
            payment.write(
                {
                    "to_apply": False,
                    "state": "error",
                    "error_message": self.env._(
                        "An unexpected error (%s) stopped this report; the server log has "
                        "the details.",
                        type(error).__name__,
                    ),
                }
            )
        if batch and registration:
            return registration
        Attention = self.env["avidxchange.attention"]
        if self.state == "error":
            _logger.info(
                "AvidXchange payment %s needs attention: %s", self.payment_ref, self.error_message
            )
            Attention._ask(
                self.sudo().bill_ids or self.backend_id,
                self.backend_id,
                self.env._("AvidXchange payment %s needs attention", self.payment_ref),
                self.env._(
                    "AvidXchange payment %(ref)s needs attention: %(reason)s",
                    ref=self.payment_ref,
                    reason=self.error_message,
                ),
            )
        elif self.state in ("posted", "waiting"):
            Attention._resolve(self.sudo().bill_ids, self.env._("The payment went through."))
        self.env["avidxchange.exchange.log"]._log_report(self, item, self.error_message)
        return None

    def _apply(self, report, bills, conflicts, currency):
        """What ``report``'s status means, given what is live in Odoo (never
        the record's state, which may say "needs attention" over a posted
        payment): paid with nothing live, the registration to post; paid with
        a live payment, check AvidXchange still says what was registered;
        undone, undo."""
        payment = self.sudo()
        live = self._live_payments()
        if report.category == const.PAYMENT_UNDONE:
            self._undo()  # nothing to undo when nothing is live
            if report.reasons:  # AvidXchange could not pay: somebody must act
                self.env["avidxchange.attention"]._ask(
                    self.sudo().bill_ids,
                    self.backend_id,
                    self.env._("AvidXchange could not pay"),
                    self.env._(
                        "AvidXchange could not pay it (payment %(ref)s, %(status)s): %(reasons)s",
                        ref=self.payment_ref,
                        status=report.status,
                        reasons="; ".join(report.reasons),
                    ),
                )
        elif report.category in PAID_CATEGORIES and not live:
            return self._plan_registration(report, bills, conflicts, currency)
        elif live:
            self._check_terms_unchanged(report)
            payment.state = "posted"
        else:
            payment.state = "waiting"  # not paid yet
        return None

    def _live_payments(self):
        """The Odoo payments this payment made that still count."""
        return self.odoo_payment_ids.filtered(
            lambda p: p.state != "canceled" and not p.move_id.reversal_move_ids
        )

    def _check_terms_unchanged(self, report):
        """A paid report after registration must say what was registered."""
        if report.category not in PAID_CATEGORIES:
            raise UserError(
                self.env._(
                    "AvidXchange reports payment %(ref)s as %(status)s after it was registered "
                    "in Odoo: check it in AvidXchange.",
                    ref=self.payment_ref,
                    status=report.status,
                )
            )
        registered = json.loads(self.registered_terms or "null")
        now = report.terms()
        if registered is not None and registered != now:
            raise UserError(
                self.env._(
                    "AvidXchange changed payment %(ref)s after it was registered in Odoo: it "
                    "said %(before)s, it now says %(after)s. Nothing was changed in Odoo: check "
                    "the payment in AvidXchange and correct the Odoo payment by hand.",
                    ref=self.payment_ref,
                    before=describe_terms(registered),
                    after=describe_terms(now),
                )
            )

    # === PRIVATE HELPERS === #

    def _prepare_values(self, report, bills, currency):
        """What the record shows of a sound ``report`` (``bills``: what its
        allocations name, ``currency``: Odoo's of its code, if any)."""
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
            "failure_reasons": "; ".join(report.reasons) or False,
            # a cleared check's image, fetched once (see avidxchange_payment_proof.py)
            "proof_wanted": report.has_check_image
            and report.category == const.PAYMENT_CLEARED
            and not self.check_image_id,
            "bill_ids": [Command.set([bill.id for bill in bills.values()])],
        }
