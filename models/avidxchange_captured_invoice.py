import json
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_round, split_every
from odoo.tools.misc import hmac
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools.captured_invoice import differences, invoice_id_of, parse_captured, tax_id_key
from ..tools.exceptions import AvidXchangeError
from ..tools.locks import lock_available
from ..tools.notify import notification
from ..tools.payment_report import ReportError
from ..tools.redaction import redacted_text, storable
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
CAPTURED_INVOICES = StreamKind(
    "captured_invoice",
    _lt("Captured Invoices"),
    order=45,  # after the bills go, before the payments that pay these come
    interval=30,
    # Posted captured bills take numbers of the purchase journal a clerk posts
    # in: a slice holds its sequence until it commits, so slices stay small.
    batch=5,
    cron="import",
    inbound=True,
)
ATTENTION_REASONS = [
    ("invalid", "Cannot be read"),
    ("vendor", "Vendor not found"),
    ("code", "Code not found"),
    ("currency", "Currency"),
    ("duplicate", "Already in Odoo"),
    ("total", "Total differs"),
    ("changed", "Changed after posting"),
    ("removed", "Removed after posting"),
    ("refused", "Refused by Odoo"),
]
# What a person fixes in AvidXchange's data or in Odoo before Retry; these
# two are fixed by the bill's update (action_update_bill).
BILL_UPDATES = ("changed", "removed")
# Batches whose invoices are read in one run (each is stored, not applied).
BATCHES_PER_RUN = 20
# Images fetched per run at most, and runs that try one before giving up.
IMAGES_PER_RUN = 20
IMAGE_ATTEMPTS = 3
# The characters of a tax id shown (and searched the vendors' with).
TAX_ID_HINT_CHARS = 4
# Context key: the update a person asked for (action_update_bill) may reset
# and cancel a bill AvidXchange holds.
UPDATING_CAPTURED_BILL = "avidxchange_updating_captured_bill"


class NeedsAttention(Exception):
    """What keeps a captured invoice from becoming a bill, for a person to fix."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


class AvidxchangeCapturedInvoice(models.Model):
    """An invoice captured in AvidXchange, and the bill it became in Odoo:
    read top to bottom.

    1. **Read** (``_read_closed_batches``): the stream lists the batches
       AvidXchange closed since its mark (days; the last one read again),
       then each new or re-closed batch's invoices
       (``avidxchange.captured.batch``), and stores each invoice as it came
       (redacted, capped) on its record, once per AvidXchange ``Id``.
    2. **Apply** (``_apply_reports``, in slices, a savepoint each invoice):
       the vendor from our code or the tax id, the lines from the
       distributions (accounts and analytic accounts from their codes), the
       purchase order from ``PONumber`` matched line by line as Odoo's own
       purchase matching does, a credit memo as a credit note; draft or
       posted as the connection says; linked by the AvidXchange ``Id``, as
       a sent bill is, so the payment import pays it. What cannot be done
       needs a person's attention, says why, and creates nothing; the
       record's buttons fix it and go on.
    3. **Changes**: a batch closed again updates a draft bill, cancels a
       draft whose invoice was removed; a posted bill needs attention, with
       what changed, and *Update the Bill*.
    4. **Image**: fetched once, after the bill is made, kept as its main
       attachment.

    Exactly once: one record per AvidXchange ``Id`` (a unique constraint),
    its bill created in the transaction that clears its ``to_apply``, and one
    link per ``Id`` (a unique constraint on the link's external id). A batch
    is told imported only once each of its invoices is a bill or needs
    attention (``avidxchange.captured.batch._mark_imported``).
    """

    _name = "avidxchange.captured.invoice"
    _inherit = [
        "avidxchange.connection.mixin",
        "avidxchange.inbox.mixin",
        "mail.thread",
        "mail.activity.mixin",
    ]
    _description = "AvidXchange Captured Invoice"
    _inbox_ref_field = "invoice_ref"
    _order = "id desc"
    _rec_name = "invoice_ref"
    _avidxchange_kind = CAPTURED_INVOICES

    invoice_ref = fields.Char(string="AvidXchange Invoice ID", required=True, readonly=True)
    number = fields.Char(string="Invoice Number", readonly=True)
    batch_id = fields.Many2one(
        "avidxchange.captured.batch", readonly=True, ondelete="set null", index=True
    )
    move_id = fields.Many2one(
        "account.move", string="Bill", readonly=True, ondelete="set null", index="btree_not_null"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor Picked",
        domain="[('parent_id', '=', False), ('company_id', 'in', (False, company_id))]",
        help="The vendor a person picked when Odoo found none for AvidXchange's.",
    )
    bill_partner_id = fields.Many2one(related="move_id.partner_id", string="Vendor")
    vendor_name = fields.Char(string="Vendor in AvidXchange", readonly=True)
    vendor_code = fields.Char(readonly=True)
    # A tax id may be a person's (a sole proprietor's SSN): kept as its last
    # characters and a keyed hash (the database secret's), to match the
    # vendors' tax ids with, never in clear (the stored report masks it too).
    vendor_tax_hint = fields.Char(string="Vendor Tax ID", readonly=True)
    vendor_tax_hash = fields.Char(readonly=True, copy=False)
    move_type = fields.Selection(
        [("in_invoice", "Invoice"), ("in_refund", "Credit Memo")], string="Type", readonly=True
    )
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    applied_report = fields.Text(
        readonly=True, copy=False, help="The invoice as its bill was last made or updated from."
    )
    removed = fields.Boolean(
        string="Removed from Its Batch",
        readonly=True,
        copy=False,
        help="AvidXchange closed its batch again without it.",
    )
    state = fields.Selection(
        [
            ("waiting", "To import"),
            ("done", "Bill created"),
            ("removed", "Removed"),
            ("error", "Needs attention"),
        ],
        default="waiting",
        required=True,
        readonly=True,
        index=True,
        string="In Odoo",
    )
    attention_reason = fields.Selection(ATTENTION_REASONS, string="Why", readonly=True)
    image_wanted = fields.Boolean(readonly=True, copy=False, index="btree_not_null")
    image_attempts = fields.Integer(readonly=True, copy=False)
    image_attachment_id = fields.Many2one("ir.attachment", string="Image", readonly=True)
    image_error = fields.Char(string="Image Not Fetched", readonly=True)

    _backend_ref_uniq = models.Constraint(
        "UNIQUE(backend_id, invoice_ref)", "An AvidXchange invoice is imported once."
    )

    # === CRUD METHODS === #

    def write(self, vals):
        """Only the import writes a captured invoice; a person picks its
        vendor (``partner_id``), nothing else."""
        if not self.env.su and set(vals) - {"partner_id"}:
            raise AccessError(self.env._("Only the import changes a captured invoice."))
        return super().write(vals)

    # === ACTION METHODS === #

    def action_use_vendor(self):
        """Use the vendor picked here for this invoice and for every other one
        of the same AvidXchange vendor that waits for one, and go on."""
        self.ensure_one()
        if not self.partner_id:
            raise UserError(self.env._("Pick the vendor (or create it) first."))
        siblings = self.sudo().search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("state", "=", "error"),
                ("attention_reason", "=", "vendor"),
                ("partner_id", "=", False),
                ("vendor_code", "=", self.vendor_code),
                ("vendor_tax_hash", "=", self.vendor_tax_hash),
                ("vendor_name", "=", self.vendor_name),
            ]
        )
        siblings.partner_id = self.partner_id
        return (self | siblings.sudo(False)).action_retry()

    def action_retry(self):
        """Import again the invoices that need attention, e.g. once the
        missing account exists or the currency is active."""
        self.check_access("write")
        to_retry = self.filtered(lambda r: r.state == "error" and r.last_report)
        for backend, records in to_retry.sudo().grouped("backend_id").items():
            records = records.with_user(backend._sync_user()).with_company(backend.company_id)
            records._apply_reports()
        still = to_retry.filtered(lambda r: r.state == "error")
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
        return notification(
            self.env._("Retry"), self.env._("%s imported.", len(to_retry)), "success"
        )

    def action_update_bill(self):
        """Bring a posted bill in line with AvidXchange when its invoice was
        changed or removed there after the bill was posted: reset it to draft,
        update or cancel it, and post it again. AvidXchange administrators
        only, and only while Odoo has paid nothing of it."""
        self.ensure_one()
        self.backend_id._check_admin_access()
        record = self.sudo()
        bill = record.move_id
        if record.attention_reason not in BILL_UPDATES or not bill:
            raise UserError(self.env._("Nothing to update: retry the invoice instead."))
        if bill.payment_state != "not_paid":
            raise UserError(
                self.env._(
                    "%s is paid, or partly: undo its payments in Odoo first.", bill.display_name
                )
            )
        bill = bill.with_context(**{UPDATING_CAPTURED_BILL: True})
        was_posted = bill.state == "posted"
        with self.env.cr.savepoint():
            if was_posted:
                bill.button_draft()
            record.with_context(**{UPDATING_CAPTURED_BILL: True})._apply_reports()
            if was_posted and bill.state == "draft":
                bill.action_post()
        return bill._get_records_action()

    def action_open_bill(self):
        self.ensure_one()
        return self.move_id._get_records_action()

    # === STREAM HOOKS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """One run of the captured invoices: list the batches closed since the
        mark when nothing waits, read the invoices of the batches to read,
        make up to ``batch_size`` bills, fetch their images, and tell
        AvidXchange which batches are imported. Returns ``(applied, still
        waiting)``. A connection whose bills start in Odoo only does nothing."""
        backend = stream.backend_id
        if not backend._imports_captured():
            return 0, 0
        # the import alone writes batches (as payments): the sync's user makes the bills
        Batch = self.env["avidxchange.captured.batch"].sudo()
        of_backend = [("backend_id", "=", backend.id)]
        waiting = [*of_backend, ("to_apply", "=", True)]
        to_read = [*of_backend, ("state", "=", "to_read")]
        backlog = False
        with backend._get_client() as client, client.recording(CAPTURED_INVOICES.name, stream):
            if not self.search_count(waiting, limit=1) and not Batch.search_count(to_read, limit=1):
                backlog = self._read_closed_batches(stream, client)
            Batch.search(to_read, limit=BATCHES_PER_RUN, order="date_closed, id")._read_invoices(
                client
            )
            records = lock_available(self.search(waiting, limit=batch_size, order="id"))
            records._apply_reports()
            self._commit_applied(stream)  # the bills made, before AvidXchange is called again
            self.search(
                [*of_backend, ("image_wanted", "=", True)], limit=IMAGES_PER_RUN
            )._fetch_image(client)
            Batch.search([*of_backend, ("state", "=", "importing")])._mark_imported(client)
        still = self.search_count(waiting) + Batch.search_count(to_read) + int(backlog)
        return len(records), still

    @api.model
    def _avidxchange_waiting_count(self, backend):
        return self.search_count([("backend_id", "=", backend.id), ("to_apply", "=", True)])

    # === BUSINESS METHODS - READ THE BATCHES === #

    @api.model
    def _read_closed_batches(self, stream, client):
        """List the batches closed from the mark's day (read again: a batch
        may close later that day) to ``MAX_CLOSE_WINDOW_DAYS`` later at most,
        keep them, and move the mark to the window's last day; returns
        whether later days wait to be read (a backlog, window by window)."""
        backend = stream.backend_id
        system_id = (
            backend.accounting_system_ref
            or backend._accounting_system(client)[const.ACCOUNTING_SYSTEM_ID_KEY]
        )
        today = self._utc_now().date()
        start = backend.captured_from or backend.create_date.date()
        since = max(stream.mark.date(), start) if stream.mark else start
        if since > today:
            return False
        until = min(since + timedelta(days=const.MAX_CLOSE_WINDOW_DAYS), today)
        Batch = self.env["avidxchange.captured.batch"]
        pages = client.iter_closed_batches(system_id, since, until)
        for page in split_every(backend.page_size, pages):
            Batch._store_listed(backend, page)
        stream.mark = fields.Datetime.to_datetime(until)
        return until < today

    @api.model
    def _store_batch_invoices(self, batch, items):
        """Keep a page of ``batch``'s invoices, each on its record (new or
        changed ones to apply); returns the ids of the invoices on the page.
        An invoice that comes back to a batch is to apply again."""
        backend = batch.backend_id
        self._store_reports(backend, items)
        refs = {invoice_id_of(item) for item in items} - {None}
        records = self.sudo().search(
            [("backend_id", "=", backend.id), ("invoice_ref", "in", list(refs))]
        )
        records.filtered(lambda r: r.batch_id != batch).batch_id = batch
        by_ref = {record.invoice_ref: record for record in records}
        for item in items:
            record = by_ref.get(invoice_id_of(item))
            vendor = item.get(const.INVOICE_VENDOR_KEY) if record else None
            key = (
                tax_id_key(vendor.get(const.VENDOR_TAX_ID_KEY))
                if isinstance(vendor, dict)
                else None
            )
            values = {
                "vendor_tax_hint": key and "…" + key[-TAX_ID_HINT_CHARS:],
                "vendor_tax_hash": key and self._tax_id_hash(key),
            }
            if record and any(record[field] != (value or False) for field, value in values.items()):
                record.write(values)
        records.filtered("removed").write({"removed": False, "to_apply": True})
        return refs

    def _set_removed(self):
        """No longer in the batch AvidXchange closed again: its bill is to cancel."""
        self.sudo().write({"removed": True, "to_apply": True})

    # === BUSINESS METHODS - APPLY THE REPORTS === #

    def _apply_reports_in_order(self):
        for record in self.sorted("id"):
            record._apply_one()

    def _apply_one(self):
        """Make, update or cancel this invoice's bill from its last report,
        in a savepoint: what needs attention makes nothing."""
        try:
            invoice = parse_captured(json.loads(self.last_report or "null"))
        except (ReportError, ValueError) as error:
            self._needs_attention(
                "invalid", self.env._("AvidXchange's invoice cannot be imported: %s", error)
            )
            return
        self.sudo().write(self._described(invoice))
        try:
            with self.env.cr.savepoint():
                self._apply_invoice(invoice)
        except NeedsAttention as attention:
            self._needs_attention(attention.reason, attention.message)
        except AccessError:
            raise  # the sync's user lacks a right: the whole slice waits
        except (UserError, ValidationError) as error:
            self._needs_attention(
                "refused",
                self.env._("Odoo refused the bill: %s", error.args[0] if error.args else error),
            )

    def _apply_invoice(self, invoice):
        if self.removed:
            self._apply_removal()
        elif self.move_id:
            self._apply_change(invoice)
        else:
            self._create_bill(invoice)

    def _create_bill(self, invoice):
        """A new bill for ``invoice``, or the bill already in Odoo for it."""
        vendor = self._find_vendor(invoice)
        currency = self._find_currency(invoice)
        existing = self._find_same_bill(invoice, vendor, currency)
        if existing:
            self._adopt(existing)
            return
        company = self.backend_id.company_id
        bill = (
            self.env["account.move"]
            .with_company(company)
            .create(self._bill_values(invoice, vendor, currency))
        )
        self._match_purchase_order(bill, invoice)
        self._check_total(bill, invoice)
        self._link(bill)
        if self.backend_id.captured_bill_state == "posted":
            bill.action_post()
        bill._message_log(
            body=self.env._(
                "Captured in AvidXchange as invoice %(id)s, imported from batch %(batch)s.",
                id=self.invoice_ref,
                batch=self.batch_id.name or self.batch_id.batch_guid or "-",
            )
        )
        self._set_done(bill, image_wanted=bool(invoice.image_url))

    def _apply_change(self, invoice):
        """The invoice changed in AvidXchange (a batch closed again): a draft
        bill is updated; a posted one needs attention, with what changed."""
        bill = self.move_id
        before = self._applied_invoice()
        changes = differences(before, invoice) if before else []
        if before == invoice and bill.state != "cancel":
            self._set_done(bill)
            return
        if bill.state == "posted" and before and not changes:
            self._set_done(bill)  # nothing the books see (a memo): left as posted
            return
        if bill.state == "posted":
            raise NeedsAttention(
                "changed",
                self.env._(
                    "Changed in AvidXchange after %(bill)s was posted: %(changes)s. An "
                    "AvidXchange administrator can update the bill (Update the Bill).",
                    bill=bill.display_name,
                    changes="; ".join(changes) or "-",
                ),
            )
        if bill.state == "cancel":
            bill.button_draft()
        vendor = self._find_vendor(invoice)
        currency = self._find_currency(invoice)
        values = self._bill_values(invoice, vendor, currency)
        values["invoice_line_ids"] = [Command.clear(), *values["invoice_line_ids"]]
        bill.write(values)
        self._match_purchase_order(bill, invoice)
        self._check_total(bill, invoice)
        bill._message_log(
            body=self.env._(
                "Changed in AvidXchange (%s): the bill is updated.",
                "; ".join(changes) or self.env._("details"),
            )
        )
        self._set_done(bill)

    def _apply_removal(self):
        """Removed from its batch in AvidXchange: a draft bill is cancelled; a
        posted one needs attention."""
        bill = self.move_id
        if bill.state == "posted":
            raise NeedsAttention(
                "removed",
                self.env._(
                    "Removed in AvidXchange from batch %(batch)s after %(bill)s was posted. An "
                    "AvidXchange administrator can cancel the bill (Update the Bill).",
                    batch=self.batch_id.name or "-",
                    bill=bill.display_name,
                ),
            )
        if bill.state == "draft":
            bill.button_cancel()
            bill._message_log(
                body=self.env._("Removed from its batch in AvidXchange: the bill is cancelled.")
            )
        self._update_state("removed", to_apply=False, applied_report=self.last_report)
        self.env["avidxchange.attention"]._resolve(self, self.env._("Removed in AvidXchange."))

    # === BUSINESS METHODS - WHAT THE INVOICE NAMES === #

    def _find_vendor(self, invoice):
        """The vendor: the one picked on this record, else the one we gave
        AvidXchange's vendor code, else the one with its tax id. Never a new
        partner, never a guess by name alone."""
        if self.partner_id:
            return self.partner_id.commercial_partner_id
        backend = self.backend_id
        if invoice.vendor_code:
            link = (
                self.env["avidxchange.partner.link"]
                .sudo()
                .search(
                    [("backend_id", "=", backend.id), ("external_code", "=", invoice.vendor_code)],
                    limit=1,
                )
            )
            if link.partner_id:
                return link.partner_id.commercial_partner_id.sudo(False)
        if self.vendor_tax_hash:
            candidates = (
                self.env["res.partner"]
                .search(
                    [
                        ("vat", "ilike", self.vendor_tax_hint[-TAX_ID_HINT_CHARS:]),
                        ("company_id", "in", [False, backend.company_id.id]),
                    ]
                )
                .filtered(lambda partner: self._tax_id_hash(partner.vat) == self.vendor_tax_hash)
                .commercial_partner_id
            )
            if len(candidates) == 1:
                return candidates
            if candidates:
                raise NeedsAttention(
                    "vendor",
                    self.env._(
                        "Several vendors in Odoo have tax id %(tax_id)s (%(names)s): pick the "
                        "vendor of AvidXchange's %(name)s, then Use This Vendor.",
                        tax_id=self.vendor_tax_hint,
                        names=", ".join(candidates.mapped("display_name")),
                        name=invoice.vendor_name or "-",
                    ),
                )
        raise NeedsAttention(
            "vendor",
            self.env._(
                "No vendor in Odoo is AvidXchange's %(name)s (vendor code %(code)s, tax id "
                "%(tax_id)s): pick or create the vendor, then Use This Vendor.",
                name=invoice.vendor_name or "-",
                code=invoice.vendor_code or "-",
                tax_id=self.vendor_tax_hint or "-",
            ),
        )

    def _find_currency(self, invoice):
        """The invoice's currency (the company's when AvidXchange names
        none): known to Odoo and active."""
        company = self.backend_id.company_id
        code = invoice.currency or company.currency_id.name
        currency = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)])
        )
        if not currency:
            raise NeedsAttention("currency", self.env._("Currency %s is not one Odoo knows.", code))
        if not currency.active:
            raise NeedsAttention(
                "currency",
                self.env._("Currency %s is not active in Odoo: activate it, then Retry.", code),
            )
        return currency

    def _bill_lines(self, invoice):
        """A bill line per distribution: its account and analytic accounts
        found by their codes (an unknown code needs attention), its
        description and quantity, and no tax (taxes coded in AvidXchange are
        distributions of their own)."""
        company = self.backend_id.company_id
        uncoded = [n for n, d in enumerate(invoice.distributions, 1) if not d.account_code]
        if uncoded:
            raise NeedsAttention(
                "code",
                self.env._(
                    "Distribution %s has no GL account code (Accounting Codes) in AvidXchange.",
                    ", ".join(map(str, uncoded)),
                ),
            )
        accounts = self._accounts_by_code({d.account_code for d in invoice.distributions})
        analytics = self._analytic_accounts(
            {code for d in invoice.distributions for code in d.dimensions}
        )
        digits = self.env["decimal.precision"].precision_get("Product Price")
        currency_rounding = company.currency_id
        lines = []
        for distribution in invoice.distributions:
            quantity = distribution.quantity or 1.0
            price = float_round(distribution.amount / quantity, precision_digits=digits)
            if currency_rounding.compare_amounts(price * quantity, distribution.amount):
                quantity, price = 1.0, distribution.amount  # not a price per unit
            analytic_ids = [str(analytics[code].id) for code in distribution.dimensions]
            lines.append(
                Command.create(
                    {
                        "name": distribution.description or invoice.number or "/",
                        "account_id": accounts[distribution.account_code].id,
                        "quantity": quantity,
                        "price_unit": price,
                        "tax_ids": [Command.clear()],
                        "analytic_distribution": {",".join(analytic_ids): 100}
                        if analytic_ids
                        else False,
                    }
                )
            )
        return lines

    def _accounts_by_code(self, codes):
        company = self.backend_id.company_id
        Account = self.env["account.account"].with_company(company)
        accounts = Account.search(
            [*Account._check_company_domain(company), ("code", "in", list(codes))]
        )
        found = {account.code: account for account in accounts}
        unknown = sorted(codes - set(found))
        if unknown:
            raise NeedsAttention(
                "code",
                self.env._(
                    "No account of %(company)s has the GL code %(codes)s that AvidXchange "
                    "coded the invoice with: create it (or correct the coding in "
                    "AvidXchange), then Retry.",
                    company=company.name,
                    codes=", ".join(unknown),
                ),
            )
        return found

    def _analytic_accounts(self, codes):
        """``{(group, code): analytic account}``: a group is an analytic plan
        (its top one), a code its account's reference, or else its name
        (as ``avidxchange.account.link._code_of_analytic`` sends them)."""
        company = self.backend_id.company_id
        # codes, not secrets: found whatever the sync's user may read of analytics
        Analytic = self.env["account.analytic.account"].sudo()
        found, unknown = {}, []
        for group, code in sorted(codes):
            plans = (
                self.env["account.analytic.plan"]
                .sudo()
                .search([("name", "=", group), ("parent_id", "=", False)])
            )
            accounts = Analytic.search(
                [
                    ("root_plan_id", "in", plans.ids),
                    ("company_id", "in", [False, company.id]),
                    "|",
                    ("code", "=", code),
                    ("name", "=", code),
                ]
            )
            if len(accounts) == 1:
                found[group, code] = accounts
            else:
                unknown.append(f"{group} {code}")
        if unknown:
            raise NeedsAttention(
                "code",
                self.env._(
                    "No analytic account of Odoo is %s, as AvidXchange coded the invoice: create "
                    "it (or correct the coding in AvidXchange), then Retry.",
                    ", ".join(unknown),
                ),
            )
        return found

    def _bill_values(self, invoice, vendor, currency):
        values = {
            "move_type": invoice.move_type,
            "company_id": self.backend_id.company_id.id,
            "partner_id": vendor.id,
            "ref": invoice.number,
            "invoice_date": invoice.invoice_date,
            "currency_id": currency.id,
            "narration": invoice.memo,
            "invoice_line_ids": self._bill_lines(invoice),
            "avidxchange_captured_id": self.id,
        }
        if invoice.due_date:
            values.update(invoice_payment_term_id=False, invoice_date_due=invoice.due_date)
        return values

    def _match_purchase_order(self, bill, invoice):
        """Link the bill's lines to the lines of the purchase order AvidXchange
        names, as Odoo's purchase matching of an electronic bill does (same
        unit price, enough quantity left to bill, the closest description):
        the PO's billed quantities, and the receipts' three-way matching,
        then count them. The bill keeps AvidXchange's lines and amounts."""
        if not invoice.po_number or bill.move_type != "in_invoice":
            return
        Order = self.env["purchase.order"]
        domain = [
            ("company_id", "=", bill.company_id.id),
            ("state", "=", "purchase"),
            ("partner_id", "child_of", bill.commercial_partner_id.id),
        ]
        orders = Order.search([*domain, ("name", "=", invoice.po_number)]) or Order.search(
            [*domain, ("partner_ref", "=", invoice.po_number)]
        )
        if not orders:
            bill._message_log(
                body=self.env._(
                    "Purchase order %s is not a confirmed order of this vendor in Odoo: the bill "
                    "is not matched to it.",
                    invoice.po_number,
                )
            )
            return
        po_lines = [
            line for line in orders.order_line if line.product_qty and not line.display_type
        ]
        _matched, pairs = bill._find_matching_po_and_inv_lines(
            po_lines, bill.invoice_line_ids, timeout=const.PO_MATCHING_TIMEOUT
        )
        PoLine = self.env["purchase.order.line"]
        for po_line_id, line in pairs:
            po_line = PoLine.browse(po_line_id)
            line.write(
                {
                    "purchase_line_id": po_line.id,
                    "product_id": po_line.product_id.id,
                    "product_uom_id": po_line.product_uom_id.id,
                    # AvidXchange's coding and amounts stay
                    "name": line.name,
                    "account_id": line.account_id.id,
                    "quantity": line.quantity,
                    "price_unit": line.price_unit,
                    "tax_ids": [Command.set(line.tax_ids.ids)],
                    "analytic_distribution": line.analytic_distribution,
                }
            )
        bill.invoice_origin = ",".join(orders.mapped("name"))
        unmatched = len(bill.invoice_line_ids) - len(pairs)
        if unmatched:
            bill._message_log(
                body=self.env._(
                    "%(count)s line(s) match no line of %(orders)s (unit price, quantity left "
                    "to bill): check them against the order.",
                    count=unmatched,
                    orders=bill.invoice_origin,
                )
            )

    def _check_total(self, bill, invoice):
        if bill.currency_id.compare_amounts(bill.amount_total, invoice.gross):
            raise NeedsAttention(
                "total",
                self.env._(
                    "The bill would come to %(total)s, not AvidXchange's %(gross)s.",
                    total=bill.amount_total,
                    gross=invoice.gross,
                ),
            )

    def _find_same_bill(self, invoice, vendor, currency):
        """A bill already in Odoo for ``invoice`` (same vendor and reference):
        None when there is none; with the same amount, it is the one; with
        another, that needs attention."""
        if not invoice.number:
            return None
        bills = self.env["account.move"].search(
            [
                ("company_id", "=", self.backend_id.company_id.id),
                ("move_type", "=", invoice.move_type),
                ("commercial_partner_id", "=", vendor.id),
                ("ref", "=", invoice.number),
                ("state", "!=", "cancel"),
            ]
        )
        if not bills:
            return None
        bill = bills[0]
        # sent from Odoo, or maybe (an answer lost): AvidXchange has it twice then
        theirs = bill.sudo().avidxchange_link_ids.filtered(
            lambda link: (
                link.backend_id == self.backend_id
                and (link.avidxchange_id or link.maybe_received or link.state == "synced")
            )
        )
        if (
            len(bills) > 1
            or bill.avidxchange_captured_id
            or theirs
            or bill.currency_id != currency
            or currency.compare_amounts(bill.amount_total, invoice.gross)
        ):
            raise NeedsAttention(
                "duplicate",
                self.env._(
                    "%(bill)s of this vendor has the same reference %(ref)s, for %(amount)s "
                    "%(currency)s%(where)s: AvidXchange's invoice (%(gross)s %(theirs)s) is not "
                    "imported twice. Correct one of them, then Retry.",
                    bill=bill.display_name,
                    ref=invoice.number,
                    amount=bill.amount_total,
                    currency=bill.currency_id.name,
                    where=self.env._(", already in AvidXchange") if theirs else "",
                    gross=invoice.gross,
                    theirs=currency.name,
                ),
            )
        return bill

    def _adopt(self, bill):
        """``bill``, keyed in Odoo and never sent, is this invoice's: it is
        linked to it and not sent (AvidXchange has it)."""
        bill.sudo().avidxchange_link_ids.filtered(
            lambda link: link.backend_id == self.backend_id
        ).unlink()
        bill.avidxchange_captured_id = self
        self._link(bill)
        bill._message_log(
            body=self.env._(
                "AvidXchange captured this bill as invoice %s: linked to it, not imported twice.",
                self.invoice_ref,
            )
        )
        self._set_done(bill)

    def _link(self, bill):
        """Link ``bill`` to this invoice's ``Id``, as a sent bill is: the
        payment import finds it, AvidXchange's hold applies once posted, and
        *Open in AvidXchange* works. The link's unique external id is the
        last guard of exactly once."""
        self.env["avidxchange.invoice.link"].sudo().create(
            {
                "backend_id": self.backend_id.id,
                "move_id": bill.id,
                "external_invoice_id": const.CAPTURED_EXTERNAL_ID_FORMAT.format(self.invoice_ref),
                "avidxchange_id": self.invoice_ref,
                "avidxchange_status": const.INVOICE_STATUS_APPROVED,
                "state": "synced",
            }
        )

    # === BUSINESS METHODS - THE IMAGE === #

    def _fetch_image(self, client):
        """Fetch each invoice's image, once, and keep it as its bill's main
        attachment; a failure is tried again on the next runs, then given up."""
        for record in self:
            invoice = record._applied_invoice()
            bill = record.move_id
            if not invoice or not invoice.image_url or not bill:
                record.sudo().image_wanted = False
                continue
            try:
                image = client.get_invoice_image(invoice.image_url)
            except AvidXchangeError as error:
                attempts = record.image_attempts + 1
                record.sudo().write(
                    {
                        "image_attempts": attempts,
                        "image_wanted": attempts < IMAGE_ATTEMPTS,
                        "image_error": storable(record.backend_id._explain(error), 500),
                    }
                )
                continue
            if image is None:
                record.sudo().write(
                    {
                        "image_wanted": False,
                        "image_error": self.env._("AvidXchange has no image of this invoice."),
                    }
                )
                continue
            name, mimetype, content = image
            attachment = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        "name": storable(name, 200) or "invoice.pdf",
                        "raw": content,
                        "mimetype": storable(mimetype, 100) or "application/octet-stream",
                        "res_model": "account.move",
                        "res_id": bill.id,
                    }
                )
            )
            bill.sudo().message_main_attachment_id = attachment
            record.sudo().write(
                {"image_wanted": False, "image_error": False, "image_attachment_id": attachment.id}
            )

    # === BUSINESS METHODS - STATES === #

    def _update_state(self, target_state, **values):
        """The one place a captured invoice's state is written."""
        self.sudo().write({"state": target_state, **values})

    def _set_done(self, bill, image_wanted=False):
        self._update_state(
            "done",
            move_id=bill.id,
            to_apply=False,
            applied_report=self.last_report,
            attention_reason=False,
            error_message=False,
            image_wanted=image_wanted and not self.image_attachment_id,
        )
        self.env["avidxchange.attention"]._resolve(self, self.env._("Imported."))

    def _set_error(self, message, **values):
        """Needs a person's attention, for ``message``."""
        self._update_state("error", error_message=message, **values)

    def _needs_attention(self, reason, message):
        self._set_error(message, attention_reason=reason, to_apply=False)
        self.env["avidxchange.attention"]._ask(
            self, self.backend_id, self.env._("Captured invoice needs attention"), message
        )

    # === INBOX HOOKS === #

    def _inbox_ref_of(self, item):
        return invoice_id_of(item)

    def _inbox_unusable(self, backend, item):
        self.env["avidxchange.exchange.log"].sudo().create(
            {
                "backend_id": backend.id,
                "operation": CAPTURED_INVOICES.name,
                "endpoint": self.env._("Captured invoice without an Id"),
                "response_body": redacted_text(item)
                if isinstance(item, dict | list | str)
                else repr(item)[:100],
                "state": "failed",
                "error_message": self.env._(
                    "AvidXchange listed an invoice this connector cannot read (no Id)."
                ),
            }
        )

    def _inbox_too_large(self, size):
        return self.env._(
            "AvidXchange sent an invoice of %(size)s characters, more than the %(limit)s kept: "
            "it was not imported. Look it up in AvidXchange.",
            size=size,
            limit=const.REPORT_MAX_CHARS,
        )

    # === PRIVATE HELPERS === #

    def _described(self, invoice):
        """What the list shows of the invoice, from its last report."""
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search(
                [("name", "=", invoice.currency or self.backend_id.company_id.currency_id.name)],
                limit=1,
            )
        )
        return {
            "number": invoice.number,
            "move_type": invoice.move_type,
            "amount": invoice.gross,
            "currency_id": currency.id,
            "vendor_name": invoice.vendor_name,
            "vendor_code": invoice.vendor_code,
        }

    @api.model
    def _tax_id_hash(self, tax_id):
        """A tax id as kept: keyed with the database secret (a plain hash of
        nine digits is undone in seconds)."""
        key = tax_id_key(tax_id)
        return key and hmac(self.env(su=True), "avidxchange-vendor-tax-id", key)

    def _applied_invoice(self):
        """The invoice as its bill was last made from, or None."""
        try:
            return parse_captured(json.loads(self.applied_report)) if self.applied_report else None
        except (ReportError, ValueError):
            return None
