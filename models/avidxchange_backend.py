import logging
import time
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import config

from .. import const
from ..tools.avidxchange_client import AvidXchangeClient
from ..tools.exceptions import (
    AuthenticationError,
    AvidXchangeError,
    CredentialsRejectedError,
    InvalidResponseError,
    PermanentError,
    RetryableError,
)
from ..tools.secret_box import SecretBox, SecretBoxError, configured_keys

_logger = logging.getLogger(__name__)

MARK_OVERLAP = timedelta(minutes=10)
EXPORT_LINK_MODELS = {
    "vendor_export": "avidxchange.partner.link",
    "bill_export": "avidxchange.invoice.link",
}

MANAGER = "account_avidxchange.group_avidxchange_manager"
CRON_INTERVAL_FIELDS = {
    "account_avidxchange.ir_cron_avidxchange_export_vendors": "vendor_sync_interval",
    "account_avidxchange.ir_cron_avidxchange_export_bills": "bill_sync_interval",
    "account_avidxchange.ir_cron_avidxchange_import_payments": "payment_sync_interval",
}


class AvidxchangeBackend(models.Model):
    """The connection of one Odoo company to its AvidXchange company.

    Holds the settings (environment, credentials, journals, mappings, scope,
    schedule) and is the only place that builds a client: every sync goes
    through :meth:`_get_client`, which decrypts the secret and wires the audit
    trail in.
    """

    _name = "avidxchange.backend"
    _description = "AvidXchange Connection"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "company_id, id"

    name = fields.Char(required=True, default="AvidXchange", tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    state = fields.Selection(
        [("draft", "Not active"), ("active", "Active")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        help="Only active connections are synchronized by the scheduled actions.",
    )

    # === CONNECTION === #
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        default="sandbox",
        required=True,
        tracking=True,
    )
    base_url = fields.Char(
        string="API Base URL",
        compute="_compute_urls",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        tracking=True,
    )
    token_url = fields.Char(
        string="Token URL",
        compute="_compute_urls",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        tracking=True,
    )
    client_id = fields.Char(string="Client ID", groups=MANAGER, copy=False, tracking=True)
    client_secret = fields.Char(
        compute="_compute_client_secret",
        inverse="_inverse_client_secret",
        groups=MANAGER,
        exportable=False,
        help="Stored encrypted with the server's key; never shown again once saved.",
    )
    client_secret_encrypted = fields.Char(
        groups="base.group_system", copy=False, exportable=False, readonly=True
    )
    has_client_secret = fields.Boolean(string="Secret Saved", readonly=True, copy=False)
    encryption_ready = fields.Boolean(compute="_compute_encryption_ready")
    avidxchange_company_id = fields.Char(
        string="AvidXchange Company ID", groups=MANAGER, copy=False, tracking=True
    )
    page_size = fields.Integer(default=const.PAGE_SIZE_DEFAULT, required=True)
    connect_timeout = fields.Float(
        string="Connect Timeout (s)", default=const.DEFAULT_CONNECT_TIMEOUT, required=True
    )
    read_timeout = fields.Float(
        string="Read Timeout (s)", default=const.DEFAULT_READ_TIMEOUT, required=True
    )
    max_attempts = fields.Integer(
        string="Attempts per Request", default=const.DEFAULT_MAX_ATTEMPTS, required=True
    )
    connection_status = fields.Selection(
        [("unknown", "Not tested"), ("ok", "Connected"), ("failed", "Failed")],
        default="unknown",
        readonly=True,
        copy=False,
    )
    connection_message = fields.Char(readonly=True, copy=False)
    connection_checked_at = fields.Datetime(readonly=True, copy=False)

    # === ACCOUNTING === #
    journal_id = fields.Many2one(
        "account.journal",
        string="Payment Journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        tracking=True,
        help="AvidXchange payments are registered in this journal.",
    )
    gl_mapping_ids = fields.One2many(
        "avidxchange.gl.mapping", "backend_id", string="GL Posting Codes", copy=True
    )
    payment_method_mapping_ids = fields.One2many(
        "avidxchange.payment.method.mapping", "backend_id", string="Payment Methods", copy=True
    )

    # === SCOPE AND SCHEDULE === #
    vendor_scope = fields.Selection(
        [
            ("marked", "Vendors marked for AvidXchange"),
            ("billed", "Every vendor of an exported bill"),
        ],
        default="marked",
        required=True,
        help="Which vendors are exported. Vendors of exported bills always are.",
    )
    bill_date_from = fields.Date(
        string="Bills Dated From", help="Older bills are never exported. Empty: all bills."
    )
    vendor_sync_interval = fields.Integer(string="Vendors Every (min)", default=60, required=True)
    bill_sync_interval = fields.Integer(string="Bills Every (min)", default=30, required=True)
    payment_sync_interval = fields.Integer(string="Payments Every (min)", default=15, required=True)
    log_retention_days = fields.Integer(
        string="Keep Successful Exchanges (days)",
        default=30,
        required=True,
        help="Failed exchanges are kept until deleted by hand.",
    )
    exchange_log_count = fields.Integer(compute="_compute_exchange_log_count")
    payment_sync_mark = fields.Datetime(
        string="Payments Changed Since",
        copy=False,
        help="High-water mark: payments AvidXchange changed after this moment are fetched "
        "in the next import. Empty: since the connection was created.",
    )
    bill_sync_mark = fields.Datetime(
        string="Bills Changed Since",
        copy=False,
        help="High-water mark: bills written after this moment are looked at in the next "
        "export. Clear it to look at every bill again.",
    )
    vendor_sync_mark = fields.Datetime(
        string="Vendors Changed Since",
        copy=False,
        help="High-water mark: vendors written after this moment are looked at in the "
        "next export. Clear it to look at every vendor again.",
    )

    _company_uniq = models.Constraint(
        "UNIQUE(company_id)", "A company has one AvidXchange connection at most."
    )

    # === COMPUTE METHODS === #

    @api.depends("environment")
    def _compute_urls(self):
        for backend in self:
            base = (
                const.PRODUCTION_BASE_URL
                if backend.environment == "production"
                else const.SANDBOX_BASE_URL
            )
            backend.base_url = base
            backend.token_url = base + const.TOKEN_PATH

    def _compute_client_secret(self):
        # Write-only: the secret is never read back into a form.
        self.client_secret = False

    def _inverse_client_secret(self):
        for backend in self.filtered("client_secret"):
            try:
                ciphertext = self._secret_box().encrypt(backend.client_secret)
            except SecretBoxError as error:
                raise UserError(str(error)) from None
            backend.sudo().write({"client_secret_encrypted": ciphertext, "has_client_secret": True})
            backend.message_post(body=self.env._("The client secret was changed."))

    def _compute_encryption_ready(self):
        ready = bool(configured_keys(config))
        for backend in self:
            backend.encryption_ready = ready

    def _compute_exchange_log_count(self):
        counts = dict(
            self.env["avidxchange.exchange.log"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.exchange_log_count = counts.get(backend, 0)

    # === CONSTRAINT METHODS === #

    @api.constrains("page_size", "connect_timeout", "read_timeout", "max_attempts")
    def _check_limits(self):
        for backend in self:
            if not 1 <= backend.page_size <= const.PAGE_SIZE_MAX:
                raise ValidationError(
                    self.env._("The page size must be between 1 and %s.", const.PAGE_SIZE_MAX)
                )
            if backend.connect_timeout <= 0 or backend.read_timeout <= 0:
                raise ValidationError(self.env._("Timeouts must be positive."))
            if backend.max_attempts < 1:
                raise ValidationError(self.env._("At least one attempt per request is needed."))

    @api.constrains(
        "vendor_sync_interval", "bill_sync_interval", "payment_sync_interval", "log_retention_days"
    )
    def _check_intervals(self):
        for backend in self:
            intervals = (
                backend.vendor_sync_interval,
                backend.bill_sync_interval,
                backend.payment_sync_interval,
            )
            if min(intervals) < 1:
                raise ValidationError(self.env._("Sync intervals are whole minutes, at least 1."))
            if backend.log_retention_days < 1:
                raise ValidationError(self.env._("Keep successful exchanges for at least one day."))

    @api.constrains("environment", "base_url", "token_url")
    def _check_urls(self):
        for backend in self:
            for url in (backend.base_url, backend.token_url):
                if not url.startswith(("https://", "http://")):
                    raise ValidationError(self.env._("%s is not an http(s) URL.", url))
                if backend.environment == "production" and not url.startswith("https://"):
                    raise ValidationError(
                        self.env._("Production credentials only travel over https.")
                    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        self._sync_crons()
        return backends

    def write(self, vals):
        result = super().write(vals)
        if {"state", "active", *CRON_INTERVAL_FIELDS.values()} & set(vals):
            self._sync_crons()
        return result

    def unlink(self):
        result = super().unlink()
        self._sync_crons()
        return result

    # === ACTION METHODS === #

    def action_test_connection(self):
        """Fetch a token and call one cheap endpoint; answer in a clerk's words."""
        self.ensure_one()
        ok, message = self._check_connection()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("AvidXchange connection"),
                "message": message,
                "type": "success" if ok else "danger",
                "sticky": not ok,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_activate(self):
        for backend in self:
            missing = backend._missing_settings()
            if missing:
                raise UserError(self.env._("Before activating, fill in: %s.", ", ".join(missing)))
            ok, message = backend._check_connection()
            if not ok:
                raise UserError(message)
        self.state = "active"

    def action_deactivate(self):
        self.state = "draft"

    def action_open_exchange_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_avidxchange.avidxchange_exchange_log_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_reencrypt_secrets(self):
        """Re-encrypt every stored secret with the first configured key, after a
        key rotation. Records are checked first, so nothing is half-rotated.
        A server-wide operation: the server administrator's."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only the server administrator can re-encrypt secrets."))
        box = self._secret_box()
        backends = (
            self.sudo()
            .with_context(active_test=False)
            .search([("client_secret_encrypted", "!=", False)])
        )
        try:
            rotated = {b: box.rotate(b.client_secret_encrypted) for b in backends}
        except SecretBoxError as error:
            raise UserError(str(error)) from None
        for backend, ciphertext in rotated.items():
            backend.client_secret_encrypted = ciphertext
        return True

    # === CRON METHODS === #

    @api.model
    def _active_backends(self):
        return self.sudo().search([("state", "=", "active")])

    @api.model
    def _cron_export_vendors(self):
        self._run_cron_batches("_export_vendors")

    @api.model
    def _cron_export_bills(self):
        self._run_cron_batches("_export_bills")

    @api.model
    def _cron_import_payments(self):
        self._run_cron_batches("_import_payments")

    @api.model
    def _run_cron_batches(self, method_name):
        """Run ``method_name`` batch after batch for every active connection,
        committing after each batch, so that a crash loses at most the batch in
        flight (whose records are sent again, idempotently, next time)."""
        Cron = self.env["ir.cron"]
        remaining = 0
        for backend in self._active_backends():
            backend = backend.with_company(backend.company_id)
            while True:
                done, left = getattr(backend, method_name)()
                time_left = Cron._commit_progress(done)
                if not left or not done or time_left <= 0:
                    remaining += left
                    break
        Cron._commit_progress(remaining=remaining)

    # === BUSINESS METHODS === #

    def _export_vendors(self, batch_size=100):
        """One batch of the vendor export: queue what changed since the
        high-water mark, then send up to ``batch_size`` pending vendors."""
        self.ensure_one()
        self._queue_changed_vendors()
        return self._export_pending("vendor_export", batch_size)

    def _export_bills(self, batch_size=50):
        """One batch of the bill export, the same way."""
        self.ensure_one()
        self._queue_changed_bills()
        return self._export_pending("bill_export", batch_size)

    def _export_pending(self, operation, batch_size):
        """Send up to ``batch_size`` pending links; returns ``(sent, still_pending)``.

        When the connection itself fails, returns ``(0, 0)``: the cron stops
        there instead of hammering a service that is down, and the links wait,
        pending, for the next run.
        """
        Link = self.env[EXPORT_LINK_MODELS[operation]]
        domain = [("backend_id", "=", self.id), ("state", "=", "pending")]
        links = Link.search(domain, limit=batch_size).try_lock_for_update()
        if links and not self._send_links(links, operation):
            return 0, 0
        return len(links), Link.search_count(domain)

    def _send_links(self, links, operation):
        """Export ``links`` with one client; False when the connection failed."""
        try:
            with self._get_client(operation) as client:
                links._export(client)
        except (AuthenticationError, RetryableError, UserError) as error:
            _logger.warning("AvidXchange %s of %s stopped: %s", operation, self.name, error)
            self._note_connection_failure(error)
            return False
        return True

    def _export_now(self, links, operation):
        """Export ``links`` at a user's request: say why when it could not be done."""
        if not self._send_links(links, operation):
            raise UserError(self.connection_message)

    def _queue_changed_vendors(self):
        """Create or re-queue links for in-scope vendors written since the mark.

        ``write_date`` is the start of the writing transaction, and a long one
        commits late: look back ``MARK_OVERLAP`` before the mark. Vendors seen
        twice cost a hash, not a request.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        domain = _written_since(self._vendor_scope_domain(), self.vendor_sync_mark)
        Partner = self.env["res.partner"].with_company(self.company_id)
        partners = Partner.with_context(active_test=False).search(domain)  # archiving is news
        self._link_vendors(partners)._queue()
        self.sudo().vendor_sync_mark = now

    def _vendor_scope_domain(self):
        domain = [
            ("company_id", "in", [False, self.company_id.id]),
            "|",
            ("is_company", "=", True),
            ("parent_id", "=", False),
        ]
        if self.vendor_scope == "marked":
            domain.append(("avidxchange_enabled", "=", True))
        else:
            domain.append(("supplier_rank", ">", 0))
        return domain

    def _link_vendors(self, partners):
        """The links of ``partners`` (commercial entities), created as needed."""
        Link = self.env["avidxchange.partner.link"].sudo()
        partners = partners.commercial_partner_id
        links = Link.search([("backend_id", "=", self.id), ("partner_id", "in", partners.ids)])
        missing = partners - links.partner_id
        if missing:
            links |= Link.create(
                [{"backend_id": self.id, "partner_id": partner.id} for partner in missing]
            )
        return links.sudo(False)

    def _queue_changed_bills(self):
        """Link the in-scope bills written since the mark (see the vendors'
        twin for the overlap); a bill already exported is never queued again,
        one in error is when it changed since."""
        self.ensure_one()
        now = fields.Datetime.now()
        domain = _written_since(self._bill_scope_domain(), self.bill_sync_mark)
        bills = self.env["account.move"].with_company(self.company_id).search(domain)
        Link = self.env["avidxchange.invoice.link"].sudo()
        links = Link.search([("backend_id", "=", self.id), ("move_id", "in", bills.ids)])
        for link in links.filtered(lambda link: link.state == "error"):
            if link.move_id.write_date > link.last_export_at:
                link.state = "pending"
        new_bills = bills - links.move_id
        if new_bills:
            Link.create([{"backend_id": self.id, "move_id": bill.id} for bill in new_bills])
        self.sudo().bill_sync_mark = now

    def _bill_scope_domain(self):
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", "in_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        if self.bill_date_from:
            domain.append(("invoice_date", ">=", self.bill_date_from))
        if self.vendor_scope == "marked":
            domain.append(("partner_id.commercial_partner_id.avidxchange_enabled", "=", True))
        return domain

    def _import_payments(self, batch_size=50):
        """One slice of the payment import: read what AvidXchange changed
        since the mark, apply up to ``batch_size`` new or changed payment
        reports; returns ``(applied, more_to_apply)``.

        Registering a payment is costly (Odoo reconciles it), so a large
        window is applied in slices, one transaction each (the cron commits in
        between): a crash loses at most one slice, and reports applied before
        are recognised by their fingerprint when the window is read again. The
        mark moves only when a slice reaches the end of the window.
        """
        self.ensure_one()
        now = datetime.now(timezone.utc).replace(tzinfo=None)  # to the microsecond, unlike Odoo's
        since = (self.payment_sync_mark or self.create_date) - MARK_OVERLAP
        try:
            with self._get_client("payment_import", self) as client:
                self._refresh_invoice_statuses(list(client.iter_invoices(since, now)))
                reports = list(client.iter_payments(since, now))
        except (AvidXchangeError, UserError) as error:
            # The window was not read to its end: the mark stays, the next run reads it again.
            _logger.warning("AvidXchange payment import of %s stopped: %s", self.name, error)
            self._note_connection_failure(error)
            return 0, 0
        applied, more = self.env["avidxchange.payment"]._import_reports(self, reports, batch_size)
        if not more:
            self.sudo().payment_sync_mark = now
        return applied, int(more)

    def _refresh_invoice_statuses(self, invoices):
        """Bring the approval status of exported bills up to date (Approved,
        Rejected, Scheduled, Paid...), so AP sees it on the bill."""
        statuses = {
            invoice.get("Id"): invoice.get("Status")
            for invoice in invoices
            if invoice.get("Status") in const.INVOICE_STATUSES
        }
        links = (
            self.env["avidxchange.invoice.link"]
            .sudo()
            .search([("backend_id", "=", self.id), ("avidxchange_id", "in", list(statuses))])
        )
        for link in links:
            status = statuses[link.avidxchange_id]
            if link.avidxchange_status != status:
                link.avidxchange_status = status
                link.move_id._message_log(body=self.env._("AvidXchange status: %s.", status))

    def _replay(self, operation, record):
        """Run the normal sync of one record again (see the exchange log)."""
        self.ensure_one()
        if operation == "connection_test":
            self._check_connection()
        elif operation == "vendor_export":
            self._link_vendors(record).action_export_now()
        elif operation == "payment_import" and record._name == "avidxchange.payment":
            record.with_env(self.env).action_retry()
        elif operation == "payment_import":
            self._import_payments()
        elif operation == "bill_export":
            links = self.env["avidxchange.invoice.link"].search(
                [("backend_id", "=", self.id), ("move_id", "=", record.id)]
            )
            links.action_export_now()
        else:
            raise UserError(self.env._("Exchanges of this kind cannot be replayed yet."))

    def _note_connection_failure(self, error):
        self.sudo().write(
            {
                "connection_status": "failed",
                "connection_message": self._explain(error),
                "connection_checked_at": fields.Datetime.now(),
            }
        )

    def _check_connection(self):
        """Return ``(ok, message)`` and remember the outcome on the record."""
        self.ensure_one()
        started = time.monotonic()
        try:
            with self._get_client("connection_test", self) as client:
                client.check_connection()
        except (AvidXchangeError, UserError) as error:
            ok, message = False, self._explain(error)
        else:
            ok = True
            message = self.env._(
                "Connected to AvidXchange company %(company)s in %(ms)s ms.",
                company=self.sudo().avidxchange_company_id,
                ms=round((time.monotonic() - started) * 1000),
            )
        self.write(
            {
                "connection_status": "ok" if ok else "failed",
                "connection_message": message,
                "connection_checked_at": fields.Datetime.now(),
            }
        )
        return ok, message

    def _explain(self, error):
        """An error in words an AP clerk can act on."""
        if isinstance(error, UserError):
            return error.args[0]
        if isinstance(error, CredentialsRejectedError):
            return self.env._(
                "AvidXchange refused the client id and secret. Check them, and the "
                "environment (sandbox or production) they were issued for."
            )
        if isinstance(error, PermanentError) and error.status in (403, 404):
            return self.env._(
                "The credentials are valid, but AvidXchange company id %(company)s is not "
                "one this API client may use (HTTP %(status)s). Check the company id.",
                company=self.sudo().avidxchange_company_id,
                status=error.status,
            )
        if isinstance(error, RetryableError) and error.status is None:
            return self.env._(
                "AvidXchange could not be reached at %(url)s: %(error)s Check the URL and "
                "the server's network access.",
                url=self.base_url,
                error=str(error),
            )
        if isinstance(error, InvalidResponseError):
            return self.env._(
                "The server at %(url)s answered, but not as AvidXchange does: %(error)s",
                url=self.base_url,
                error=str(error),
            )
        return str(error)

    def _missing_settings(self):
        self.ensure_one()
        backend = self.sudo()
        missing = []
        if not backend.client_id:
            missing.append(self.env._("Client ID"))
        if not backend.has_client_secret:
            missing.append(self.env._("Client Secret"))
        if not backend.avidxchange_company_id:
            missing.append(self.env._("AvidXchange Company ID"))
        if not backend.journal_id:
            missing.append(self.env._("Payment Journal"))
        return missing

    def _get_client(self, operation, records=None):
        """A client for one cycle, recording every exchange against ``records``.

        Raises UserError when the connection is not configured enough to try.
        """
        self.ensure_one()
        backend = self.sudo()
        if not (backend.client_id and backend.client_secret_encrypted):
            raise UserError(self.env._("Enter the client id and secret first."))
        if not backend.avidxchange_company_id:
            raise UserError(self.env._("Enter the AvidXchange company id first."))
        try:
            secret = self._secret_box().decrypt(backend.client_secret_encrypted)
        except SecretBoxError as error:
            raise UserError(str(error)) from None
        Log = self.env["avidxchange.exchange.log"]
        return AvidXchangeClient(
            backend.base_url,
            backend.client_id,
            secret,
            backend.avidxchange_company_id,
            token_url=backend.token_url,
            connect_timeout=backend.connect_timeout,
            read_timeout=backend.read_timeout,
            max_attempts=backend.max_attempts,
            page_size=backend.page_size,
            recorder=Log._recorder(self, operation, records),
        )

    # === PRIVATE HELPERS === #

    def _secret_box(self):
        try:
            return SecretBox(configured_keys(config))
        except SecretBoxError as error:
            raise UserError(str(error)) from None

    @api.model
    def _sync_crons(self):
        """Crons run only while some connection is active, as often as the most
        eager active connection asks."""
        backends = self._active_backends()
        for xmlid, interval_field in CRON_INTERVAL_FIELDS.items():
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if not cron:
                continue  # during module install, before data/ir_cron.xml is loaded
            values = {"active": bool(backends)}
            if backends:
                values.update(
                    interval_number=min(backends.mapped(interval_field)),
                    interval_type="minutes",
                )
            changed = {key: value for key, value in values.items() if cron.sudo()[key] != value}
            if changed:
                cron.sudo().write(changed)


def _written_since(domain, mark):
    """``domain`` narrowed to records written since the high-water ``mark``,
    looking back ``MARK_OVERLAP`` (see ``_queue_changed_vendors``)."""
    if not mark:
        return domain
    return Domain.AND([domain, [("write_date", ">=", mark - MARK_OVERLAP)]])
