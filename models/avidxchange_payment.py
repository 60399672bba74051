import json
import logging
from collections import defaultdict
from contextlib import nullcontext

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, split_every
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools import payment_plan
from ..tools.exceptions import AvidXchangeError
from ..tools.notify import notification
from ..tools.payment_report import (
    ReportError,
    describe_terms,
    parse_history_item,
    parse_report,
    payment_id_of,
)
from ..tools.redaction import storable
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
PAYMENTS = StreamKind(
    "payment", _lt("Payments"), order=50, interval=15, batch=50, cron="import", inbound=True
)

_logger = logging.getLogger(__name__)

STATUS_CATEGORIES = [
    (const.PAYMENT_NOT_PAID_YET, "Not paid yet"),
    (const.PAYMENT_PAID, "Paid"),
    (const.PAYMENT_CLEARED, "Cleared"),
    (const.PAYMENT_UNDONE, "Void or failed"),
]
# Fetched per payment stream batch at most: each is a request.
PROOFS_PER_BATCH = 20
# Runs that try a proof before it is given up (Proof of Payment tries again).
PROOF_ATTEMPTS = 3


class AvidxchangePayment(models.Model):
    """A payment AvidXchange made, and what it did in Odoo: what happens to a
    paid invoice, read top to bottom.

    1. **Read** (``_ingest``, the inbox's: ``avidxchange_inbox_mixin.py``):
       the payment stream reads a window of changes after its mark, and
       stores each report as it came (``_store_reports``: bank details
       masked, capped) in the same transaction as the mark.
    2. **Apply** (``_apply_reports``): the stored reports are applied in
       slices. AvidXchange reports a payment again whenever it changes
       (Issued, then Cleared, or Void), and may report the same thing twice.
       Each report goes through :meth:`_apply_report`: it is checked first
       (``parse_report``, then its bills, currency and vendor here), and a
       report that fails a check needs a person's attention, says why, and
       posts nothing. Otherwise the status's category and what is already
       posted decide (``payment_plan.decide``):

       - paid or cleared, nothing posted yet: register one native Odoo
         payment per paid bill, reconciled with it (discounts written off);
       - void or failed after posting: cancel those payments, which frees
         the bills;
       - anything else, or the same report again: nothing to post.
    3. **Proof**: a cleared check's image and the status history, fetched once.
    4. **Undo** (``_undo``): a void or failed payment undoes what is live.

    What needs no ORM (what a report says, what it calls for, where the read
    goes next) is plain Python in ``tools/payment_report.py`` and
    ``tools/payment_plan.py``. The state moves through the ``_set_*`` methods
    only. Imported payments are read-only to every user: only the import
    writes them.
    """

    _name = "avidxchange.payment"
    _inherit = ["avidxchange.connection.mixin", "avidxchange.inbox.mixin"]
    _description = "AvidXchange Payment"
    _inbox_ref_field = "payment_ref"
    _order = "payment_date desc, id desc"
    _rec_name = "payment_ref"
    _avidxchange_kind = PAYMENTS

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
    registered_terms = fields.Text(
        readonly=True,
        copy=False,
        help="What AvidXchange said the payment paid when it was registered.",
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
    # Proof of payment: the status history as AvidXchange tells it, and a
    # cleared check's image, attached to the Odoo payment once the check clears.
    history_ids = fields.One2many(
        "avidxchange.payment.event", "payment_id", string="Status History", readonly=True
    )
    check_image_id = fields.Many2one("ir.attachment", string="Cleared Check", readonly=True)
    proof_error = fields.Char(
        string="Proof Not Fetched",
        readonly=True,
        help="Why AvidXchange's proof of payment could not be read the last time.",
    )
    proof_attempts = fields.Integer(readonly=True, copy=False)
    proof_wanted = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        help="The check cleared and AvidXchange has its image: the next payment run fetches it.",
    )

    exchange_count = fields.Integer(compute="_compute_exchange_count")

    _backend_ref_uniq = models.Constraint(
        "UNIQUE(backend_id, payment_ref)", "An AvidXchange payment is imported once."
    )

    # === COMPUTE METHODS === #

    @api.depends("bill_ids.commercial_partner_id")
    def _compute_partner_id(self):
        for payment in self:
            payment.partner_id = payment.bill_ids.commercial_partner_id[:1]

    def _compute_exchange_count(self):
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self)
        for payment in self:
            payment.exchange_count = counts.get(payment.id, 0)

    # === ACTION METHODS === #

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

    def action_fetch_proof(self):
        """Read the payment's status history (and its cleared check's image),
        for an AvidXchange user, and say what was found."""
        self.ensure_one()
        self.check_access("read")  # AvidXchange users only
        payment = self.sudo()
        backend = payment.backend_id
        try:
            with backend._get_client() as client:
                payment._fetch_proof(client)
        except (AvidXchangeError, UserError) as error:
            raise UserError(backend._explain(error)) from None
        message = self.env._("%s status changes.", len(payment.history_ids))
        if payment.check_image_id:
            message += " " + self.env._("The cleared check is attached to the Odoo payment.")
        return notification(
            self.env._("Proof of payment %s", payment.payment_ref), message, "success"
        )

    def action_open_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self)

    # === STREAM HOOKS === #

    def _avidxchange_replay(self):
        """The audit trail's replay of a payment report: apply it again."""
        return self.action_retry()

    # === BUSINESS METHODS - READ THE REPORTS === #
    # The window, its mark and the stored reports are the inbox's
    # (avidxchange_inbox_mixin.py); what is payments' own is here.

    def _inbox_read(self, client, since, until):
        return client.iter_payments(since, until)

    def _inbox_ref_of(self, item):
        return payment_id_of(item)

    def _inbox_before_window(self, backend, client, since, until):
        """Bring the bills' approval statuses up to date, page by page (the
        cache emptied after each: memory stays flat however large the
        window). An invoice's stamp says nothing of payments: it moves no mark."""
        Link = self.env["avidxchange.invoice.link"]
        for invoices in split_every(backend.page_size, client.iter_invoices(since, until)):
            Link._refresh_statuses(backend, invoices)
            self.env.invalidate_all(flush=True)

    def _inbox_after_batch(self, backend):
        self._fetch_wanted_proofs(backend)

    def _inbox_unusable(self, backend, item):
        self.env["avidxchange.exchange.log"]._log_unusable_report(backend, item)

    def _inbox_too_large(self, size):
        return self.env._(
            "AvidXchange sent a report of %(size)s characters for this payment, "
            "more than the %(limit)s kept: it was not applied. Look the payment "
            "up in AvidXchange.",
            size=size,
            limit=const.REPORT_MAX_CHARS,
        )

    # === BUSINESS METHODS - APPLY THE REPORTS === #

    def _apply_reports_in_order(self):
        """Apply the stored reports (``last_report``) of these payments: a
        slice of the import (``_apply_reports``, in one savepoint).

        Each report is checked and decided alone, in the order given (an undo
        frees its bills before a later payment is registered on them). The
        Odoo payments they call for are then registered together
        (``_post_registrations``), unless two of them pay one bill: the later
        waits for the batch, to be checked against what the former left due.
        Should the batch fail, each is registered alone, so that only the
        culprit needs attention. What no report can be blamed for (the sync's
        user lacks a right, a conflict with another transaction) undoes the
        whole slice: its reports stay waiting, to apply on the next run."""
        known = self._look_up_slice()
        batch, after = payment_plan.batch_order(self._plan_slice(known))
        if batch:
            self._post_batch(batch)
        for registration, _item in after:
            payment = registration.payment
            payment._apply_report(json.loads(payment.last_report))

    def _plan_slice(self, known):
        """``[((registration, report item), bill ids)]``: each report of the
        slice checked and decided, in order (``_apply_report`` in a batch).

        Reports are planned together in one savepoint, not one each: what a
        report can be blamed for (a check it fails, a report that cannot be
        read) is said on it and planning goes on. Should an error nobody
        foresaw stop one, the slice's planning is undone and done again one
        report at a time, each in its own savepoint, so that only the
        culprit says it (as ``_post_batch`` does for the registrations)."""
        try:
            with self.env.cr.savepoint():
                return self._plan_each(known, guarded=False)
        except (psycopg2.OperationalError, AccessError):
            raise
        except Exception:
            _logger.info(
                "AvidXchange: planning %s payment reports failed, one by one now",
                len(self),
                exc_info=True,  # should the one-by-one run not meet it again
            )
            return self._plan_each(known, guarded=True)

    def _plan_each(self, known, guarded):
        """``_plan_slice``'s work: each report checked and decided in order,
        in a savepoint of its own when ``guarded``."""
        planned = []
        for payment in self:
            item = json.loads(payment.last_report)
            registration = payment._apply_report(item, batch=True, known=known, guarded=guarded)
            if registration:
                planned.append(((registration, item), registration.moves.ids))
        return planned

    def _look_up_slice(self):
        """What the reports of these payments name in Odoo (their bills'
        links, their currencies), read in two searches for the slice rather
        than three per report (see ``SliceLookup``), their bills and the
        bills they recorded, read in one query each; None for payments of
        several connections (each report then looks its own up)."""
        backend = self.backend_id
        if len(backend) != 1:
            return None
        # their bills as recorded, read together: each report sets its own
        self.sudo().fetch(["bill_ids"])
        reports = [report for report in map(_parsed_report, self) if report]
        allocations = [a for report in reports for a in report.allocations]
        links = self._search_links(backend, allocations)
        # reading a field of the bills reads their columns, the slice's at
        # once: each report reads its own from the cache
        links.move_id.mapped("commercial_partner_id")
        currencies = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "in", list({report.currency for report in reports}))])
        )
        return SliceLookup(links, {currency.name: currency for currency in currencies})

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
            self.env["avidxchange.exchange.log"]._log_reports(
                [(registration.payment, item, None) for registration, item in batch]
            )

    def _apply_report(self, item, batch=False, known=None, guarded=True):
        """Apply a stored report (``last_report``, as ``_store_reports`` kept it).

        Whatever goes wrong with one report stays on that report: a check it
        fails, or an error nobody foresaw (then its kind is said and the
        server log has the details); only a conflict with another transaction
        goes up, for the whole batch to be tried again. With ``batch``, a
        registration the report calls for is returned, checked but not
        posted, for ``_apply_reports`` to post with others (and log);
        ``known``, what the slice's reports name (``_look_up_slice``). Not
        ``guarded``: no savepoint of its own, and an error nobody foresaw
        goes up, for the caller's savepoint to undo (``_plan_slice``)."""
        self.ensure_one()
        payment = self.sudo()  # read-only to users: the import alone writes it
        registration = None
        try:
            with self.env.cr.savepoint() if guarded else nullcontext():
                report = parse_report(item)
                # what the report names in Odoo, looked up once for the record and the posting
                bills, conflicts = self._match_bills(report.allocations, known)
                currency = self._find_currency(report.currency, known)
                payment.write({"to_apply": False, **self._prepare_values(report, bills, currency)})
                try:
                    if batch and self._only_plans(report):
                        # Planning reads and checks, and writes nothing: a
                        # refusal has nothing to undo, no savepoint is needed.
                        registration = self._apply(report, bills, conflicts, currency, known)
                    else:
                        with self.env.cr.savepoint():
                            registration = self._apply(report, bills, conflicts, currency, known)
                            if registration and not batch:
                                self._post_registrations([registration])
                    payment.error_message = False
                except AccessError:
                    raise  # the sync's user lacks a right: every report alike, the stream says
                except UserError as error:
                    registration = None
                    payment._set_error(error.args[0])
        except ReportError as error:
            payment._set_error(str(error), to_apply=False)
        except (psycopg2.OperationalError, AccessError):
            raise
        except Exception as error:
            if not guarded:
                raise
            registration = None
            _logger.exception("AvidXchange payment %s could not be applied", self.payment_ref)
            payment._set_error(
                self.env._(
                    "An unexpected error (%s) stopped this report; the server log has the details.",
                    type(error).__name__,
                ),
                to_apply=False,
            )
        if batch and registration:
            return registration
        if self.state == "error":
            _logger.info(
                "AvidXchange payment %s needs attention: %s", self.payment_ref, self.error_message
            )
            self._ask_attention(
                self.sudo().bill_ids or self.backend_id,
                self.env._("AvidXchange payment %s needs attention", self.payment_ref),
                self.env._(
                    "AvidXchange payment %(ref)s needs attention: %(reason)s",
                    ref=self.payment_ref,
                    reason=self.error_message,
                ),
            )
        elif self.state in ("posted", "waiting"):
            self.env["avidxchange.attention"]._resolve(
                self.sudo().bill_ids, self.env._("The payment went through.")
            )
        self.env["avidxchange.exchange.log"]._log_report(self, item, self.error_message)
        return None

    def _apply(self, report, bills, conflicts, currency, known=None):
        """What ``report``'s status means, given what is live in Odoo
        (``payment_plan.decide``): paid with nothing live, the registration
        to post; paid with a live payment, check AvidXchange still says what
        was registered; undone, undo."""
        action = payment_plan.decide(report.category, bool(self._live_payments()))
        if action == payment_plan.UNDO:
            self._undo()  # nothing to undo when nothing is live
            if report.reasons:  # AvidXchange could not pay: somebody must act
                self._ask_attention(
                    self.sudo().bill_ids,
                    self.env._("AvidXchange could not pay"),
                    self.env._(
                        "AvidXchange could not pay it (payment %(ref)s, %(status)s): %(reasons)s",
                        ref=self.payment_ref,
                        status=report.status,
                        reasons="; ".join(report.reasons),
                    ),
                )
        elif action == payment_plan.REGISTER:
            return self._plan_registration(report, bills, conflicts, currency, known)
        elif action == payment_plan.CHECK:
            self._check_terms_unchanged(report)
            self._set_posted()
        else:
            self._set_waiting()  # not paid yet
        return None

    def _only_plans(self, report):
        """Whether ``_apply`` only plans a registration for ``report`` (paid,
        nothing live yet): it then reads and checks, and writes nothing."""
        action = payment_plan.decide(report.category, bool(self._live_payments()))
        return action == payment_plan.REGISTER

    # === BUSINESS METHODS - FIND AND CHECK THE BILLS === #

    def _match_bills(self, allocations, known=None):
        """``({allocation: bill}, [labels of allocations whose two ids name two
        different bills])``; ``known``: the slice's links, read once."""
        if known is None:
            known = SliceLookup(self._search_links(self.backend_id, allocations), {})
        found, conflicts = {}, []
        for allocation in allocations:
            by_theirs = known.by_id.get(allocation.invoice_id)
            by_ours = known.by_external_id.get(allocation.external_id)
            if by_theirs and by_ours and by_theirs != by_ours:
                conflicts.append(allocation.label)
            elif by_theirs or by_ours:
                found[allocation] = (by_theirs or by_ours).sudo(False)
        return found, conflicts

    def _search_links(self, backend, allocations):
        """``backend``'s links of the bills ``allocations`` name, by either id."""
        return (
            self.env["avidxchange.invoice.link"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    "|",
                    ("avidxchange_id", "in", [a.invoice_id for a in allocations if a.invoice_id]),
                    (
                        "external_invoice_id",
                        "in",
                        [a.external_id for a in allocations if a.external_id],
                    ),
                ]
            )
        )

    def _find_currency(self, code, known=None):
        """Odoo's currency of ISO ``code``, active or not (empty when unknown);
        ``known``: the slice's currencies, read once."""
        if known is not None and code in known.currencies:
            return known.currencies[code]
        return (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )

    def _check_currency(self, currency, code, bills):
        """The payment's ``currency`` (found for ``code``) must be known,
        active, and the bills' own: nothing is converted, AvidXchange pays a
        bill in its currency."""
        if not currency:
            raise UserError(
                self.env._("AvidXchange paid in %s, a currency Odoo does not know.", code)
            )
        if not currency.active:
            raise UserError(
                self.env._(
                    "AvidXchange paid in %(code)s, but %(code)s is not active in Odoo: activate "
                    "it (Accounting > Configuration > Currencies), then Retry.",
                    code=code,
                )
            )
        for bill in bills.filtered(lambda bill: bill.currency_id != currency):
            raise UserError(
                self.env._(
                    "AvidXchange paid in %(paid)s, but bill %(bill)s is in %(bill_currency)s: "
                    "nothing registered. Check the payment in AvidXchange.",
                    paid=code,
                    bill=bill.name,
                    bill_currency=bill.currency_id.name,
                )
            )

    def _check_allocation(self, bill, allocation, currency):
        """What AvidXchange did to one of our documents: paid a bill, or
        consumed a credit note (a negative ``AmountPaid``), within what is
        still open of it."""
        is_credit_note = bill.move_type == "in_refund"
        if allocation.is_credit != is_credit_note:
            # a credit consumed is said by what it consumed, a payment by what it paid
            shown = {
                "amount": currency.format(
                    -allocation.paid if allocation.is_credit else allocation.paid
                ),
                "bill": bill.name,
            }
            if allocation.is_credit:
                raise UserError(
                    self.env._(
                        "AvidXchange consumed a credit of %(amount)s on %(bill)s, which is a "
                        "bill, not a credit note: nothing registered. Check it in AvidXchange.",
                        **shown,
                    )
                )
            raise UserError(
                self.env._(
                    "AvidXchange paid %(amount)s on credit note %(bill)s, which is consumed, "
                    "never paid: nothing registered. Check it in AvidXchange.",
                    **shown,
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

    def _check_terms_unchanged(self, report):
        """A paid report after registration must say what was registered."""
        if report.category not in payment_plan.PAID_CATEGORIES:
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
        if payment_plan.terms_changed(registered, now):
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

    # === BUSINESS METHODS - POST THE PAYMENT AND RECONCILE === #

    def _plan_registration(self, report, bills, conflicts, currency, known=None):
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
        values = self._prepare_payment_values(report, bills, currency, known)
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
            registration.payment._set_posted(registration.report.terms())
            bodies.update(registration.chatter_bodies(odoo_payments[registration]))
        moves = self.env["account.move"].browse(list(bodies))
        moves._message_log_batch(bodies={move.id: bodies[move.id] for move in moves})
        self.env["avidxchange.attention"]._resolve(moves, self.env._("The payment went through."))

    # === BUSINESS METHODS - PROOF OF PAYMENT === #

    @api.model
    def _fetch_wanted_proofs(self, backend):
        """The images of checks that cleared since the last run (see
        ``proof_wanted``), a few per batch; one that fails is tried again."""
        wanted = self.sudo().search(
            [("backend_id", "=", backend.id), ("proof_wanted", "=", True)], limit=PROOFS_PER_BATCH
        )
        if not wanted:
            return
        try:
            with backend._get_client() as client:
                for payment in wanted:
                    payment._fetch_proof_safely(client)
        except (AvidXchangeError, UserError) as error:  # no client: the next run tries again
            _logger.info("AvidXchange proofs of payment not fetched: %s", error)

    def _fetch_proof_safely(self, client):
        """A proof is a courtesy: whatever goes wrong stays on this payment
        (said in ``proof_error``, given up after ``PROOF_ATTEMPTS``), never
        on the payment import that runs it."""
        try:
            with self.env.cr.savepoint():
                self._fetch_proof(client)
        except Exception as error:  # noqa: BLE001 - the import must go on
            _logger.info("AvidXchange proof of payment %s: %s", self.payment_ref, error)
            attempts = self.proof_attempts + 1
            self.write(
                {
                    "proof_attempts": attempts,
                    "proof_wanted": attempts < PROOF_ATTEMPTS,
                    "proof_error": str(error)[:500]
                    if isinstance(error, AvidXchangeError | UserError)
                    else self.env._("An unexpected error (%s).", type(error).__name__),
                }
            )

    def _fetch_proof(self, client):
        """Replace the status history with AvidXchange's, and attach the
        cleared check's image to the Odoo payment, once."""
        self.ensure_one()
        with client.recording("payment", self):
            items = client.get_payment_history(self.payment_ref)
            events = [event for event in map(parse_history_item, items) if event]
            self.history_ids.unlink()
            self.write({"history_ids": [fields.Command.create(event) for event in events]})
            if self.status_category == const.PAYMENT_CLEARED and not self.check_image_id:
                image = client.get_cleared_check_image(self.payment_ref)
                if image:
                    self._attach_check_image(*image)
        self.write({"proof_wanted": False, "proof_attempts": 0, "proof_error": False})

    def _attach_check_image(self, name, mimetype, content):
        odoo_payment = self._live_payments()[:1]
        if not odoo_payment:
            return
        attachment = self.env["ir.attachment"].create(
            {
                "name": storable(name, 200) or "check.pdf",
                "raw": content,
                "mimetype": storable(mimetype, 100) or "application/octet-stream",
                "res_model": "account.payment",
                "res_id": odoo_payment.id,
            }
        )
        self.check_image_id = attachment
        odoo_payment.message_post(
            body=self.env._("The cleared check of AvidXchange payment %s.", self.payment_ref),
            attachment_ids=attachment.ids,
        )

    # === BUSINESS METHODS - UNDO A VOID OR A REVERSAL === #

    def _undo(self):
        """Void or failed: undo what is live in Odoo, whatever the record's
        state says (a failed undo leaves it in error, and a retry must still
        undo). Each Odoo payment is cancelled when Odoo allows it, else (a
        locked period) its entry is reversed on the first open date; either
        way its bills are open again. Reports refused because these bills
        were paid are applied again: they may pass now."""
        reopened = self.env["account.move"]
        # the import undoes what it made: no guard
        for payment in self._live_payments()._avidxchange_unguarded():
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
                bill._message_log(body=self._undone_message(bill, done))
            reopened |= bills
        self._set_reversed()
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

    # === STATE METHODS === #

    def _update_state(self, target_state, **values):
        """Move these payments to ``target_state``, with ``values`` written
        alongside: the one place their state is written.

        Unlike ``payment.transaction._update_state``, no source state is
        refused: AvidXchange's report and what is live in Odoo decide, never
        the record's state (a payment in error may be posted in Odoo, a
        registered one may be voided, a retry may undo again)."""
        self.sudo().write({"state": target_state, **values})

    def _set_waiting(self):
        """Not paid yet, and nothing live in Odoo."""
        self._update_state("waiting")

    def _set_posted(self, registered_terms=None):
        """Registered in Odoo; with ``registered_terms`` (``report.terms()``),
        what AvidXchange said it paid, when it is registered now."""
        if registered_terms is None:
            self._update_state("posted")
        else:
            self._update_state("posted", registered_terms=json.dumps(registered_terms))

    def _set_reversed(self):
        """Voided or failed in AvidXchange: what it made in Odoo is undone."""
        self._update_state("reversed")

    def _set_error(self, message, **values):
        """Needs a person's attention, for ``message``."""
        self._update_state("error", error_message=message, **values)

    # === PRIVATE HELPERS === #

    def _live_payments(self):
        """The Odoo payments this payment made that still count."""
        return self.odoo_payment_ids.filtered(
            lambda p: p.state != "canceled" and not p.move_id.reversal_move_ids
        )

    def _ask_attention(self, records, summary, reason):
        """Ask the connection's responsible user to look at ``records``."""
        self.env["avidxchange.attention"]._ask(records, self.backend_id, summary, reason)

    def _undone_message(self, bill, done):
        """What ``bill``'s chatter says once its payment is undone (``done``: how)."""
        shown = {"ref": self.payment_ref, "status": self.status, "done": done}
        if bill.move_type == "in_refund":
            return self.env._(
                "AvidXchange reported payment %(ref)s as %(status)s: %(done)s, and the "
                "credit note is open again.",
                **shown,
            )
        return self.env._(
            "AvidXchange reported payment %(ref)s as %(status)s: %(done)s, and the "
            "bill is open again.",
            **shown,
        )

    def _prepare_values(self, report, bills, currency):
        """What the record shows of a sound ``report`` (``bills``: what its
        allocations name, ``currency``: Odoo's of its code, if any)."""
        return {
            **payment_plan.record_values(report),
            "currency_id": currency.id,
            # a cleared check's image, fetched once (see _fetch_wanted_proofs)
            "proof_wanted": payment_plan.wants_proof(report, bool(self.check_image_id)),
            "bill_ids": [Command.set([bill.id for bill in bills.values()])],
        }

    def _prepare_payment_values(self, report, bills, currency, known=None):
        """The Odoo payment: the cash side is what AvidXchange paid out; the
        first bill's share is the payment's own counterpart line, every other
        bill's is a payable line of its own (so each bill is relieved of its
        own share, not of what reconciliation would pick), and the discounts
        are one write-off. A credit consumed is a payable line the other way,
        which the credit note is set against."""
        journal, outstanding_account = self._get_journal(report)
        method_line = self._get_method_line(journal)
        date = self.payment_date or fields.Date.context_today(self)
        first, *others = payment_plan.bills_first(report.allocations)
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
        discount = payment_plan.discount_of(report.allocations)
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
                or self._default_outstanding_account(known)
            ).id,
            "destination_account_id": _payable_account(bills[first]).id,
            "memo": self._memo(),
        }
        if extra_lines:
            # Odoo then makes this payment's entry alone, at create; the
            # others' are made together when the batch is posted.
            values["write_off_line_vals"] = extra_lines
        return values

    def _get_journal(self, report):
        """The journal and outstanding account of the first GL posting code
        mapped; else the connection's journal and clearing account (none: the
        payment method's, else the company's outstanding payments account),
        unless the connection requires the codes to be mapped."""
        backend = self.backend_id
        for group, code in report.gl_codes:
            mapping = backend.gl_mapping_ids.filtered(
                lambda m, group=group, code=code: m.code == code and m.group_name == group
            )[:1]
            if mapping:
                return mapping.journal_id or backend.journal_id, mapping.account_id
        if backend.require_gl_mapping:
            codes = ", ".join(f"{group} / {code}" for group, code in report.gl_codes)
            raise UserError(
                self.env._(
                    "AvidXchange posted this payment to GL posting code %s, which no mapping "
                    "of the connection names, and the connection requires one: map it "
                    "(connection, Accounting tab), then Retry.",
                    codes or self.env._("(none)"),
                )
            )
        if not backend.journal_id:
            raise UserError(self.env._("Set the payment journal of the AvidXchange connection."))
        return backend.journal_id, backend.clearing_account_id

    def _get_method_line(self, journal):
        mapping = self.backend_id.payment_method_mapping_ids.filtered(
            lambda m: (
                m.avidxchange_method == self.method
                and m.payment_method_line_id.journal_id == journal
            )
        )[:1]
        if mapping:
            return mapping.payment_method_line_id
        if self.backend_id.require_method_mapping:
            raise UserError(
                self.env._(
                    "AvidXchange paid by %(method)s, a method no mapping names for journal "
                    "%(journal)s, and the connection requires one: map it (connection, "
                    "Accounting tab), then Retry.",
                    method=const.PAYMENT_METHODS.get(self.method, self.method or "?"),
                    journal=journal.display_name,
                )
            )
        lines = journal.outbound_payment_method_line_ids
        line = lines.filtered(lambda line: line.code == "manual")[:1] or lines[:1]
        if not line:
            raise UserError(
                self.env._("Journal %s has no outgoing payment method.", journal.display_name)
            )
        return line

    def _default_outstanding_account(self, known=None):
        """The company's outstanding payments account, Odoo's default;
        ``known``: the slice's lookup, which keeps it once found."""
        if known is not None and self.company_id in known.outstanding_accounts:
            return known.outstanding_accounts[self.company_id]
        account = (
            self.env["account.payment"]
            .new({"company_id": self.company_id.id})
            ._get_outstanding_account("outbound")
        )
        if known is not None:
            known.outstanding_accounts[self.company_id] = account
        return account

    def _discount_account(self):
        """Where discounts AvidXchange takes are written off."""
        return self.company_id.account_journal_early_pay_discount_gain_account_id

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


class SliceLookup:
    """What a slice's reports name in Odoo, read once for the slice: their
    bills' links by AvidXchange's id and by ours (the last link of each id
    wins, in the links' order, as with one search per report: every link of
    an id a report names is among the slice's), and ``{ISO code: currency}``
    (a code not in it is searched alone)."""

    def __init__(self, links, currencies):
        self.by_id = {link.avidxchange_id: link.move_id for link in links}
        self.by_external_id = {link.external_invoice_id: link.move_id for link in links}
        self.currencies = currencies
        self.outstanding_accounts = {}  # {company: Odoo's default}, found once


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
        first, *others = payment_plan.bills_first(self.report.allocations)
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


def _parsed_report(payment):
    """The stored report of ``payment``, parsed; None when it does not parse
    (``_apply_report`` says why)."""
    try:
        return parse_report(json.loads(payment.last_report))
    except Exception:  # noqa: BLE001 - said by _apply_report, report by report
        return None


def _payable_account(bill):
    return bill.line_ids.filtered(lambda line: line.account_type == "liability_payable")[
        :1
    ].account_id
