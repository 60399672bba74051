import time

from odoo import SUPERUSER_ID, Command, api, fields, models, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config, format_datetime

from .. import const
from ..tools import rate_budget
from ..tools.avidxchange_client import AvidXchangeClient
from ..tools.company_scope import covering_company_id, scope_company_ids
from ..tools.exceptions import AvidXchangeError, clerk_message
from ..tools.groups import INTEGRATION_USER, MANAGER_GROUP
from ..tools.health import HEALTH_STATES, STREAM_ROW_FIELDS, StreamState, connection_health
from ..tools.hosts import url_refusal
from ..tools.identity import database_prefix, looks_like_copy, new_prefix
from ..tools.locks import lock_available
from ..tools.notify import notification
from ..tools.secret_box import SecretBoxError, configured_keys
from ..tools.states import BILL_STATUSES_IN_AVIDXCHANGE

# Change one and the stored secret would go elsewhere, or be someone else's.
WHERE_THE_SECRET_GOES = frozenset({"environment", "base_url", "token_url", "client_id"})
# Set on the cursor's cache while a dry run plans: the list its clients keep
# their writes in, instead of sending them.
DRY_RUN_PLAN = "account_avidxchange.dry_run_plan"
# Who the connection is at AvidXchange, and where it goes: on an active
# connection they change only through the *Change credentials* step, which
# tests them before they replace the saved ones.
CREDENTIAL_FIELDS = WHERE_THE_SECRET_GOES | {"client_secret", "avidxchange_company_id"}
TESTED_CREDENTIALS = "avidxchange_credentials_tested"  # context key of that step's write
# Change one and records the streams passed over may now be in scope.
SCOPE_FIELDS = frozenset({"vendor_scope", "bill_date_from", "bills_origin"})


class AvidxchangeBackend(models.Model):
    """The connection of one Odoo company to its AvidXchange company.

    Holds the settings (environment, credentials, journals, mappings, scope)
    and is the only place that builds a client: every sync goes through
    :meth:`_get_client`, which decrypts the secret and wires the audit trail
    in. What is synchronized, how often and how far is the business of its
    streams (``avidxchange.stream``).

    The credentials' fields come from ``avidxchange.credentials.mixin``; the
    secret is kept encrypted with a key of the server configuration, never
    the database's, and changes on an active connection only through the
    *Change credentials* step, which tests it first. Activating is a step of
    its own (``avidxchange.activation``). What needs no ORM is in ``tools/``:
    company scope, health, database identity, the secret box, the hosts.
    """

    _name = "avidxchange.backend"
    _description = "AvidXchange Connection"
    _inherit = ["avidxchange.credentials.mixin", "mail.thread", "mail.activity.mixin"]
    _check_company_auto = True
    _order = "company_id, id"

    name = fields.Char(required=True, default="AvidXchange", tracking=True)
    active = fields.Boolean(default=True)
    state = fields.Selection(
        [("draft", "Not active"), ("active", "Active")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        help="Only active connections are synchronized by the scheduled actions.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )

    # === CONNECTION === #
    # The credentials (avidxchange.credentials.mixin), as the connection keeps
    # them: tracked, seen by AvidXchange administrators only, never copied.
    environment = fields.Selection(tracking=True)
    base_url = fields.Char(tracking=True)
    token_url = fields.Char(tracking=True)
    client_id = fields.Char(groups=MANAGER_GROUP, copy=False, tracking=True)
    avidxchange_company_id = fields.Char(groups=MANAGER_GROUP, copy=False, tracking=True)
    client_secret = fields.Char(
        groups=MANAGER_GROUP,
        help="Stored encrypted with the server's key; never shown again once saved.",
    )
    has_client_secret = fields.Boolean(string="Secret Saved", readonly=True, copy=False)
    encryption_ready = fields.Boolean(compute="_compute_encryption_ready")
    page_size = fields.Integer(default=const.PAGE_SIZE_DEFAULT, required=True)
    connect_timeout = fields.Float(
        string="Connect Timeout (s)", default=const.DEFAULT_CONNECT_TIMEOUT, required=True
    )
    read_timeout = fields.Float(
        string="Read Timeout (s)", default=const.DEFAULT_READ_TIMEOUT, required=True
    )
    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self._default_responsible(),
        domain=[("share", "=", False)],
        tracking=True,
        help="Who is told when something fails: an activity on the bill, vendor or "
        "connection in trouble, done when it recovers. An active internal user; never "
        "OdooBot, whom nobody reads.",
    )
    sync_user_id = fields.Many2one(
        "res.users",
        string="Sync Runs As",
        default=lambda self: self.env.ref(INTEGRATION_USER, raise_if_not_found=False),
        domain=[("share", "=", False)],
        context={"active_test": False},
        tracking=True,
        help="The scheduled sync runs with this user's access rights and record rules. "
        "By default the archived user AvidXchange Integration, which has the least the "
        "sync needs (see the README).",
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
    clearing_account_id = fields.Many2one(
        "account.account",
        check_company=True,
        domain="[('account_type', '=', 'asset_current'), ('reconcile', '=', True)]",
        tracking=True,
        help="Where an AvidXchange payment waits until the bank statement shows its debit, "
        "unless its GL posting code maps to another account. Made at activation when empty.",
    )
    require_gl_mapping = fields.Boolean(
        string="GL Posting Codes Must Be Mapped",
        help="A payment whose GL posting codes no mapping names needs attention, instead of "
        "going to the payment journal and the clearing account.",
    )
    require_method_mapping = fields.Boolean(
        string="Payment Methods Must Be Mapped",
        help="A payment by a method no mapping names needs attention, instead of going by "
        "the journal's manual payment method.",
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
    rescan_count = fields.Integer(
        readonly=True, copy=False, help="Rescans asked for (the scope grew): see _request_rescan."
    )
    log_retention_days = fields.Integer(
        string="Keep Successful Exchanges (days)",
        default=30,
        required=True,
        help="Failed exchanges are kept for good: the trail is read-only.",
    )
    # === INVOICES CAPTURED IN AVIDXCHANGE === #
    bills_origin = fields.Selection(
        [
            ("odoo", "In Odoo"),
            ("avidxchange", "In AvidXchange"),
            ("both", "Both"),
        ],
        string="Bills Start",
        default="odoo",
        required=True,
        tracking=True,
        help="In Odoo: bills keyed in Odoo are sent to AvidXchange. In AvidXchange: invoices "
        "AvidXchange captured and approved come back as bills, from the batches it closes for "
        "the accounting system below; bills keyed in Odoo are not sent. Both: both ways. A bill "
        "that came from AvidXchange is never sent back to it.",
    )
    accounting_system_name = fields.Char(
        string="Accounting System",
        tracking=True,
        help="The accounting system of the AvidXchange company whose closed batches this "
        "connection imports, by its name in AvidXchange (Look Up lists them).",
    )
    accounting_system_ref = fields.Integer(
        string="Accounting System ID",
        readonly=True,
        copy=False,
        help="AvidXchange's id of the accounting system, looked up by its name.",
    )
    captured_from = fields.Date(
        string="Batches Closed From",
        help="Batches AvidXchange closed before this day are not imported. Empty: from the "
        "day the connection was created.",
    )
    captured_bill_state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted")],
        string="Captured Bills Arrive",
        default="draft",
        required=True,
        help="Draft: an AP clerk checks and posts each bill. Posted: AvidXchange's approval "
        "is enough.",
    )
    exchange_log_count = fields.Integer(compute="_compute_exchange_log_count")
    stream_ids = fields.One2many("avidxchange.stream", "backend_id", string="Streams")
    failing_stream_count = fields.Integer(
        compute="_compute_failing_stream_count",
        help="Streams whose last run failed: their last error says why.",
    )

    # === HEALTH === #

    sync_health = fields.Selection(
        HEALTH_STATES,
        compute="_compute_sync_health",
        help="What the streams say, not the last Test Connection: down when every stream "
        "fails, degraded when some fail or are late, healthy otherwise.",
    )
    sync_health_message = fields.Char(string="Sync", compute="_compute_sync_health")
    bill_waiting_count = fields.Integer(compute="_compute_bill_counts")
    bill_sent_count = fields.Integer(compute="_compute_bill_counts")
    bill_rejected_count = fields.Integer(compute="_compute_bill_counts")
    bill_error_count = fields.Integer(compute="_compute_bill_counts")
    bill_changed_count = fields.Integer(compute="_compute_bill_counts")
    bill_paid_count = fields.Integer(compute="_compute_bill_counts")
    payment_attention_count = fields.Integer(compute="_compute_bill_counts")
    captured_attention_count = fields.Integer(compute="_compute_bill_counts")

    # === DATABASE IDENTITY === #
    # The database this connection speaks for, noted when it is made (or
    # reconnected): a copy of it shows as another one, and sends nothing
    # until an administrator reconnects it (see tools/identity.py).
    identity_database_uuid = fields.Char(
        string="Set Up in Database (UUID)",
        readonly=True,
        copy=False,
        groups=MANAGER_GROUP,
        help="The database.uuid of the database this connection was set up in.",
    )
    identity_database_name = fields.Char(string="Set Up in Database", readonly=True, copy=False)
    identity_base_url = fields.Char(
        string="Set Up at Address",
        readonly=True,
        copy=False,
        help="The database's web address then: it names the original in words, and is never "
        "compared (Odoo changes it whenever an administrator logs in at another address).",
    )
    external_id_prefix = fields.Char(
        string="External ID Prefix",
        readonly=True,
        copy=False,
        help="The part of the vendor codes and bill ids sent from this connection that tells "
        "databases apart: the start of the database's uuid, or one of its own for a copy "
        "reconnected as a new database.",
    )
    is_database_copy = fields.Boolean(
        compute="_compute_is_database_copy",
        help="This database is not the one the connection was set up in: it sends nothing "
        "until an administrator reconnects it.",
    )

    # === SHARED RATE LIMIT (tools/rate_budget.py) === #

    requests_per_minute = fields.Integer(
        string="Requests per Minute",
        default=const.DEFAULT_REQUESTS_PER_MINUTE,
        help="At most this many requests a minute to AvidXchange, every Odoo worker and "
        "server together (0: no limit of Odoo's own). A 429 AvidXchange answers to one of "
        "them pauses them all.",
    )
    parallel_requests = fields.Integer(
        string="Requests at a Time",
        default=const.DEFAULT_PARALLEL_REQUESTS,
        help="How many bills (and their images) one run sends to AvidXchange at a time, "
        "within the requests per minute. 1: one after another.",
    )

    _company_uniq = models.Constraint(
        "UNIQUE(company_id)", "A company has one AvidXchange connection at most."
    )

    # === COMPUTE METHODS === #

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

    @api.depends("stream_ids.failure_count")
    def _compute_failing_stream_count(self):
        for backend in self:
            backend.failing_stream_count = len(backend.stream_ids.filtered("failure_count"))

    @api.depends_context("tz")
    def _compute_sync_health(self):
        now = fields.Datetime.now()
        labels = dict(self._fields["sync_health"]._description_selection(self.env))
        kinds = dict(
            self.env["avidxchange.stream"]._fields["kind"]._description_selection(self.env)
        )
        inbound = self.env["avidxchange.stream.handler"]._avidxchange_inbound_kinds()
        for backend in self:
            streams = backend.sudo().stream_ids
            health = connection_health(
                [
                    StreamState(
                        name=kinds[stream.kind],
                        interval_minutes=stream.interval,
                        polls=stream.kind in inbound,
                        **{name: stream[name] for name in STREAM_ROW_FIELDS},
                    )
                    for stream in streams
                ],
                now,
                active=backend.state == "active",
            )
            backend.sync_health = health.state
            backend.sync_health_message = backend._health_words(health, labels, now)

    def _health_words(self, health, labels, now):
        """One line for a person: what is wrong and since when, or how fresh."""
        label = labels[health.state]
        if health.state in ("inactive", "new"):
            return label
        if health.failing:
            return self.env._(
                "%(state)s since %(since)s (%(ago)s): %(streams)s failing. %(error)s",
                state=label,
                since=format_datetime(self.env, health.since),
                ago=self._ago(health.since, now),
                streams=", ".join(health.failing),
                error=health.error or "",
            )
        if health.late:
            return self.env._(
                "%(state)s: %(streams)s not synced since %(since)s (%(ago)s). Are the "
                "AvidXchange scheduled actions running?",
                state=label,
                streams=", ".join(health.late),
                since=format_datetime(self.env, health.since),
                ago=self._ago(health.since, now),
            )
        oldest = health.oldest_success
        return self.env._(
            "%(state)s: every stream succeeded on its last run; the least recent, %(stream)s, "
            "%(ago)s.",
            state=label,
            stream=oldest.name,
            ago=self._ago(oldest.last_success_at, now),
        )

    def _ago(self, moment, now):
        seconds = max(0, int((now - moment).total_seconds()))
        if seconds < 60:
            return self.env._("just now")
        if seconds < 3600:
            return self.env._("%s min ago", seconds // 60)
        if seconds < 2 * 86400:
            return self.env._("%s h ago", seconds // 3600)
        return self.env._("%s days ago", seconds // 86400)

    def _compute_bill_counts(self):
        Move = self.env["account.move"].sudo()
        Payment = self.env["avidxchange.payment"].sudo()
        Captured = self.env["avidxchange.captured.invoice"].sudo()
        for backend in self:
            counts = dict(
                Move._read_group(
                    [("avidxchange_link_ids.backend_id", "=", backend.id)],
                    ["avidxchange_sync_status"],
                    ["__count"],
                )
            )
            backend.bill_waiting_count = counts.get("waiting", 0)
            backend.bill_sent_count = sum(counts.get(s, 0) for s in BILL_STATUSES_IN_AVIDXCHANGE)
            backend.bill_rejected_count = counts.get("rejected", 0)
            backend.bill_error_count = counts.get("error", 0)
            backend.bill_changed_count = counts.get("changed", 0)
            backend.bill_paid_count = counts.get("paid", 0)
            backend.payment_attention_count = Payment.search_count(
                [("backend_id", "=", backend.id), ("state", "=", "error")]
            )
            backend.captured_attention_count = Captured.search_count(
                [("backend_id", "=", backend.id), ("state", "=", "error")]
            )

    @api.depends("identity_database_uuid", "identity_database_name")
    def _compute_is_database_copy(self):
        for backend in self:
            backend.is_database_copy = backend._is_database_copy()

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

    @api.constrains("log_retention_days")
    def _check_log_retention(self):
        if any(backend.log_retention_days < 1 for backend in self):
            raise ValidationError(self.env._("Keep successful exchanges for at least one day."))

    @api.constrains("responsible_user_id")
    def _check_responsible(self):
        for backend in self:
            if backend.responsible_user_id and not _is_a_person(backend.responsible_user_id):
                raise ValidationError(
                    self.env._(
                        "The Responsible is told when something fails: name an active internal "
                        "user, not %s.",
                        backend.responsible_user_id.name,
                    )
                )

    @api.constrains("environment", "base_url", "token_url")
    def _check_urls(self):
        for backend in self:
            backend._check_hosts(ValidationError)

    # === CRUD METHODS === #

    def write(self, vals):
        """An active connection's credentials change only through the
        *Change credentials* step, which tests them first: a form saves what
        was typed before its button runs, so a candidate secret typed on the
        form and tested there replaced the working one.

        Where the secret goes, or whose it is, changes: the stored secret
        is forgotten unless a new one comes in the same write. Else whoever
        may edit the URLs could send the saved secret anywhere.

        The scope changes: the streams look at every record again, so the
        bills (and vendors) that now fall in it go, however old."""
        if not self.env.context.get(TESTED_CREDENTIALS):
            self._check_credentials_kept(vals)
        guard_secret = not vals.get("client_secret") and WHERE_THE_SECRET_GOES.intersection(vals)
        before = (
            {backend: backend._secret_destination() for backend in self} if guard_secret else {}
        )
        if "accounting_system_name" in vals:
            vals = {**vals, "accounting_system_ref": False}  # looked up again by its new name
        result = super().write(vals)
        if SCOPE_FIELDS.intersection(vals):
            self._request_rescan()
        moved = self.filtered(
            lambda b: b in before and b.has_client_secret and before[b] != b._secret_destination()
        )
        if moved:
            moved._forget_secret()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._note_database_identity()
        backends._grant_integration_user_companies()
        Stream = self.env["avidxchange.stream"].sudo()
        Stream.create(
            [values for backend in backends for values in Stream._default_values(backend)]
        )
        return backends

    # === ACTION METHODS === #

    def action_look_up_accounting_system(self):
        """Find the accounting system named on the connection in AvidXchange's
        list, and keep its id; with no name and one system only, take it."""
        self.ensure_one()
        self._check_admin_access()
        try:
            with self._get_client() as client, client.recording("captured_invoice", self):
                system = self._accounting_system(client)
        except AvidXchangeError as error:
            raise UserError(self._explain(error)) from None
        return notification(
            self.env._("Accounting System"),
            self.env._(
                "Batches closed for %(name)s (id %(id)s) are imported.",
                name=system[const.ACCOUNTING_SYSTEM_NAME_KEY],
                id=system[const.ACCOUNTING_SYSTEM_ID_KEY],
            ),
            "success",
        )

    def action_change_credentials(self):
        """The step that tests new credentials before they replace the saved
        ones (``avidxchange.credentials.change``)."""
        self.ensure_one()
        self._check_admin_access()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Change Credentials"),
            "res_model": "avidxchange.credentials.change",
            "view_mode": "form",
            "target": "new",
            "context": {"default_backend_id": self.id},
        }

    def action_test_connection(self):
        """Fetch a token and call one cheap endpoint; answer in a clerk's words."""
        self.ensure_one()
        self._check_admin_access()
        ok, message = self.with_company(self.company_id)._check_connection()
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
        """Check, set up and activate (the step ``avidxchange.activation``)."""
        self._check_admin_access()
        Activation = self.env["avidxchange.activation"]
        return Activation.create({"backend_ids": [Command.set(self.ids)]}).action_activate()

    def action_deactivate(self):
        self._check_admin_access()
        self.state = "draft"

    def action_reconnect_as_new_database(self):
        """This database is a copy of the one the connection was set up in:
        give it an identity of its own, so that it never sends under the
        original's vendor codes and bill ids.

        Its links (vendors, bills, codes, orders) are the original's, with
        the original's ids and AvidXchange's answers to it: they are
        forgotten, and the copy's records go again under the new prefix when
        in scope. Bills from today only, as at a first activation (Bills Dated
        From moves earlier to send older ones): the original's open bills are
        not entered twice in AvidXchange. The connection is left inactive,
        for an administrator to check where it points (a staging copy belongs
        in the sandbox) before activating it again."""
        self._check_admin_access()
        for backend in self:
            backend._check_is_copy()
            original = backend._identity_words()
            backend._forget_links()
            taken = {backend.sudo().external_id_prefix, backend._database_prefix()}
            backend._note_database_identity(prefix=new_prefix(taken))
            backend.sudo().write(
                {
                    "state": "draft",
                    "bill_date_from": fields.Date.context_today(backend),
                    "connection_status": "unknown",
                    "connection_message": False,
                }
            )
            backend._request_rescan()
            feedback = self.env._(
                "%(user)s reconnected this copy of %(original)s as a new database: it has "
                "its own identity (external id prefix %(prefix)s). The original's vendors, "
                "bills, codes and orders were forgotten here; those in scope go again under "
                "the new identity, bills dated from today. Check the environment and the "
                "credentials, then activate the connection.",
                user=self.env.user.name,
                original=original,
                prefix=backend.sudo().external_id_prefix,
            )
            backend._restart_streams(feedback)
            backend.message_post(body=feedback)
        return notification(
            self.env._("AvidXchange connection"),
            self.env._("Reconnected as a new database: check the settings, then activate."),
        )

    def action_keep_database_identity(self):
        """This database is the one the connection was set up in, moved to
        another server or renamed, and the original runs no more: it goes on
        as itself, under the same vendor codes and bill ids."""
        self._check_admin_access()
        for backend in self:
            backend._check_is_copy()
            original = backend._identity_words()
            backend._note_database_identity()
            feedback = self.env._(
                "%(user)s confirmed this database is the one the connection was set up in "
                "(%(original)s), moved or renamed: the sync goes on under the same identity.",
                user=self.env.user.name,
                original=original,
            )
            backend._restart_streams(feedback)
            backend.message_post(body=feedback)
        return notification(
            self.env._("AvidXchange connection"), self.env._("The sync goes on as before.")
        )

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

    def action_open_exchange_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_avidxchange.avidxchange_exchange_log_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_open_avidxchange_bills(self):
        """The connection's bills in the status the context names
        (``avidxchange_sync_status``, or those still in AvidXchange's hands)."""
        self.ensure_one()
        status = self.env.context.get("avidxchange_sync_status")
        statuses = BILL_STATUSES_IN_AVIDXCHANGE if status == "in_avidxchange" else (status,)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_in_invoice_type"
        )
        action["domain"] = [
            ("avidxchange_link_ids.backend_id", "=", self.id),
            ("avidxchange_sync_status", "in", list(statuses)),
        ]
        action["context"] = {"default_move_type": "in_invoice", "create": False}
        return action

    def action_open_payments_needing_attention(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_avidxchange.avidxchange_payment_action"
        )
        action["domain"] = [("backend_id", "=", self.id), ("state", "=", "error")]
        action["context"] = {}
        return action

    def action_open_captured_needing_attention(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_avidxchange.avidxchange_captured_invoice_action"
        )
        action["domain"] = [("backend_id", "=", self.id), ("state", "=", "error")]
        action["context"] = {}
        return action

    # === BUSINESS METHODS - CLIENT AND CREDENTIALS === #

    def _get_client(self):
        """A client for one cycle, recording every exchange in the audit
        trail (say what they are about with ``client.recording``).

        Raises UserError when the connection is not configured enough to try.
        """
        self.ensure_one()
        self._check_hosts()  # the server administrator's list may have changed
        backend = self.sudo()
        if not (backend.client_id and backend.client_secret_encrypted):
            raise UserError(self.env._("Enter the client id and secret first."))
        if not backend.avidxchange_company_id:
            raise UserError(self.env._("Enter the AvidXchange company id first."))
        return self._make_client(
            {**self._saved_credentials(), "client_secret": self._decrypted_secret()}
        )

    def _make_client(self, credentials):
        """The client of this connection for ``credentials`` (the saved ones,
        or new ones being tested): every client is made here, never in a
        copy of the database that has not been reconnected."""
        self._check_database_identity()
        backend = self.sudo()
        Log = self.env["avidxchange.exchange.log"]
        # A dry run (wizard/avidxchange_dry_run.py) keeps the writes instead of sending them.
        planned = self.env.cr.cache.get(DRY_RUN_PLAN)
        return AvidXchangeClient(
            credentials["base_url"],
            credentials["client_id"],
            credentials["client_secret"],
            credentials["avidxchange_company_id"],
            token_url=credentials["token_url"],
            connect_timeout=backend.connect_timeout,
            read_timeout=backend.read_timeout,
            max_attempts=backend.max_attempts,
            page_size=backend.page_size,
            recorder=Log._recorder(self),
            planned=planned,
            budget=self._rate_budget(),
        )

    def _saved_credentials(self):
        """The saved credentials but the secret (``_decrypted_secret``)."""
        self.ensure_one()
        backend = self.sudo()
        return {
            "environment": backend.environment,
            "base_url": backend.base_url,
            "token_url": backend.token_url,
            "client_id": backend.client_id,
            "avidxchange_company_id": backend.avidxchange_company_id,
        }

    def _decrypted_secret(self):
        """The client secret, for the client of one cycle; UserError when no
        configured key opens it."""
        self.ensure_one()
        try:
            return self._secret_box().decrypt(self.sudo().client_secret_encrypted)
        except SecretBoxError as error:
            raise UserError(str(error)) from None

    def _check_hosts(self, error=UserError):
        """Raise ``error`` unless both URLs may receive the credentials."""
        for url in (self.base_url, self.token_url):
            refusal = url_refusal(self.env, url, production=self.environment == "production")
            if refusal:
                raise error(refusal)

    def _avidxchange_replay(self):
        """The audit trail's replay of a connection test: test again."""
        return self._check_connection()

    def _check_connection(self):
        """Return ``(ok, message)`` and remember the outcome on the record."""
        self.ensure_one()
        backend = self.sudo()
        ok, message = self._try_connection(
            self._get_client, backend.base_url, backend.avidxchange_company_id, record=self
        )
        self.write(
            {
                "connection_status": "ok" if ok else "failed",
                "connection_message": message,
                "connection_checked_at": fields.Datetime.now(),
            }
        )
        return ok, message

    def _test_credentials(self, credentials):
        """``(ok, message)`` for ``credentials`` not saved yet (the keys of
        ``_saved_credentials`` and ``client_secret``), tested as *Test
        Connection* tests the saved ones. The connection, its saved settings
        and its status stay as they are: the sync goes on with them."""
        self.ensure_one()
        production = credentials["environment"] == "production"
        for url in (credentials["base_url"], credentials["token_url"]):
            refusal = url_refusal(self.env, url, production=production)
            if refusal:
                return False, refusal
        return self._try_connection(
            lambda: self._make_client(credentials),
            credentials["base_url"],
            credentials["avidxchange_company_id"],
        )

    def _try_connection(self, make_client, base_url, company, record=None):
        """``(ok, message)``: a token and the cheapest call with the client
        ``make_client()`` builds, recorded in the trail about ``record``."""
        started = time.monotonic()
        try:
            with make_client() as client, client.recording("connection_test", record):
                client.check_connection()
        except (AvidXchangeError, UserError) as error:
            return False, clerk_message(error, self.env, base_url=base_url, company=company)
        return True, self.env._(
            "Connected to AvidXchange company %(company)s in %(ms)s ms.",
            company=company,
            ms=round((time.monotonic() - started) * 1000),
        )

    def _apply_credentials(self, changes, message):
        """Save ``changes`` (credential fields: the secret only when a new one
        was typed) that ``_test_credentials`` just accepted, with ``message``
        as the connection's status."""
        self.ensure_one()
        self.with_context(**{TESTED_CREDENTIALS: True}).write(
            {
                **changes,
                "connection_status": "ok",
                "connection_message": message,
                "connection_checked_at": fields.Datetime.now(),
            }
        )
        if changes:
            labels = self.fields_get(list(changes), ["string"])
            self.message_post(
                body=self.env._(
                    "The credentials were changed (%(fields)s) after AvidXchange accepted "
                    "them: %(message)s",
                    fields=", ".join(labels[name]["string"] for name in changes),
                    message=message,
                )
            )

    def _check_credentials_kept(self, vals):
        """Refuse ``vals`` when they change an active connection's credentials
        (see ``write``)."""
        changed = CREDENTIAL_FIELDS.intersection(vals)
        if not changed:
            return
        for backend in self.sudo().filtered(lambda b: b.state == "active"):
            if vals.get("client_secret") or any(
                (backend[name] or False) != (vals[name] or False)
                for name in changed - {"client_secret"}
            ):
                raise UserError(
                    self.env._(
                        "%s is active: its credentials change through Change Credentials, "
                        "which tests them with AvidXchange before they replace the saved ones.",
                        backend.name,
                    )
                )

    def _secret_destination(self, values=None):
        """Where the saved secret goes, or would with ``values`` (a dict of
        credentials, as ``_saved_credentials`` gives)."""
        source = self.sudo() if values is None else values
        return tuple(source[field] for field in sorted(WHERE_THE_SECRET_GOES))

    def _forget_secret(self):
        self.sudo().write(
            {
                "client_secret_encrypted": False,
                "has_client_secret": False,
                "connection_status": "unknown",
            }
        )
        for backend in self:
            backend.message_post(
                body=self.env._(
                    "The client secret was forgotten: the environment, URLs or client id "
                    "changed. Enter the secret again."
                )
            )

    def _explain(self, error):
        """``error`` in words an AP clerk can act on (see ``clerk_message``)."""
        return clerk_message(
            error,
            self.env,
            base_url=self.base_url,
            company=self.sudo().avidxchange_company_id,
        )

    # === BUSINESS METHODS - USERS AND COMPANY SCOPE === #

    def _check_admin_access(self):
        """Who may act on these connections (test, activate, send, replay):
        an AvidXchange administrator working in their company. Checked before
        anything reads a setting with ``sudo()`` or calls AvidXchange."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only AvidXchange administrators can act on the connection.")
            )
        self.check_access("write")  # the company's record rule, for the current companies

    @api.model
    def _default_responsible(self):
        """Whoever makes the connection, when that is a person: a script or a
        cron runs as OdooBot, and an activity for OdooBot is read by nobody."""
        return self.env.user if _is_a_person(self.env.user) else False

    def _sync_user(self):
        """The user the scheduled sync of this connection runs as."""
        return self.sync_user_id or self.env.ref(INTEGRATION_USER, raise_if_not_found=False)

    def _grant_integration_user_companies(self):
        """The dedicated integration user works in every company with a
        connection that uses it (another user's companies are theirs to set)."""
        dedicated = self.env.ref(INTEGRATION_USER, raise_if_not_found=False)
        for backend in self.filtered(lambda b: b.sync_user_id and b.sync_user_id == dedicated):
            if backend.company_id not in dedicated.sudo().company_ids:
                dedicated.sudo().company_ids += backend.company_id

    def _scope_companies(self):
        """The companies whose vendors and bills this connection sends: its
        company and its branches, but for a branch with a connection of its
        own (and that branch's branches): see ``tools/company_scope.py``."""
        self.ensure_one()
        Company = self.env["res.company"].sudo()
        companies = Company.search([("id", "child_of", self.company_id.id)])
        connected = self._everywhere().search([("company_id", "in", companies.ids)])
        paths = {company.id: company.parent_path for company in companies}
        return Company.browse(
            scope_company_ids(self.company_id.id, paths, connected.company_id.ids)
        )

    @api.model
    def _covering(self, company):
        """The connection that sends ``company``'s bills: its own, else the
        nearest parent company's (see ``_scope_companies``)."""
        company = company.sudo()
        connections = self._everywhere().search([("company_id", "in", company.parent_ids.ids)])
        covering = covering_company_id(company.parent_path, connections.company_id.ids)
        return connections.filtered(lambda backend: backend.company_id.id == covering)

    def _everywhere(self):
        """Every connection, active or not, whoever reads."""
        return self.sudo().with_context(active_test=False)

    def _in_scope(self, model, companies=None):
        """``model`` as this connection's sync reads it: in its company, its
        branches allowed too (their records' rules pass); ``companies``:
        ``_scope_companies()`` when the caller has it already."""
        user_companies = self.env.user.company_ids if not self.env.su else None
        companies = self._scope_companies() if companies is None else companies
        if user_companies is not None:
            companies &= user_companies
        return self.env[model].with_context(allowed_company_ids=(self.company_id | companies).ids)

    # === BUSINESS METHODS - DATABASE IDENTITY === #

    def _external_id(self, record_id):
        """The id AvidXchange knows one of this connection's records by (see
        ``const.EXTERNAL_ID_FORMAT``): with the prefix of the database the
        connection speaks for (``external_id_prefix``)."""
        self.ensure_one()
        return const.EXTERNAL_ID_FORMAT.format(
            database=self.sudo().external_id_prefix or self._database_prefix(),
            company=self.company_id.id,
            record=record_id,
        )

    def _database_prefix(self):
        """The external id prefix of this database's own ``database.uuid``."""
        return database_prefix(self.env["ir.config_parameter"].sudo().get_param("database.uuid"))

    def _current_database(self):
        """``(database.uuid, name)`` of the database running now (see ``tools/identity.py``)."""
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid") or ""
        return uuid, self.env.cr.dbname

    def _is_database_copy(self):
        self.ensure_one()
        backend = self.sudo()
        noted = (backend.identity_database_uuid, backend.identity_database_name)
        return looks_like_copy(noted, self._current_database())

    def _note_database_identity(self, prefix=None):
        """Note the running database as the one these connections speak for;
        external ids go on with ``prefix``, else with the one they have, else
        the database's own."""
        uuid, name = self._current_database()
        address = self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        for backend in self.sudo():
            backend.write(
                {
                    "identity_database_uuid": uuid,
                    "identity_database_name": name,
                    "identity_base_url": address,
                    "external_id_prefix": prefix
                    or backend.external_id_prefix
                    or database_prefix(uuid),
                }
            )

    def _check_database_identity(self):
        """Refuse to build a client in a copy of the database this connection
        was set up in: a copy sends nothing, reads nothing, until it is
        reconnected. A connection older than this check notes the running
        database instead (unless another transaction holds it: next time)."""
        self.ensure_one()
        backend = self.sudo()
        if not backend.identity_database_uuid:
            lock_available(backend)._note_database_identity()
        elif self._is_database_copy():
            raise UserError(self._copy_message())

    def _check_is_copy(self):
        if not self._is_database_copy():
            raise UserError(
                self.env._(
                    "%s was set up in this very database: it is not a copy, there is nothing "
                    "to reconnect.",
                    self.name,
                )
            )

    def _copy_message(self):
        return self.env._(
            "This database looks like a copy of %(original)s, where connection %(name)s was "
            "set up: it sends nothing to AvidXchange, lest it overwrite the original's vendors "
            "and bills, until an administrator reconnects it on the connection's form "
            "(Reconnect as a New Database; or This Is the Original, if the database was only "
            "moved or renamed).",
            original=self._identity_words(),
            name=self.name,
        )

    def _identity_words(self):
        """The database the connection was set up in, in words: its name and address."""
        backend = self.sudo()
        if backend.identity_base_url:
            return f"{backend.identity_database_name} ({backend.identity_base_url})"
        return backend.identity_database_name or "?"

    def _forget_links(self):
        """Forget every link of these connections (see
        ``action_reconnect_as_new_database``)."""
        Mixin = "avidxchange.link.mixin"
        for name in self.env.registry.descendants([Mixin], "_inherit"):
            if name != Mixin and not self.env[name]._abstract:
                self.env[name].sudo().search([("backend_id", "in", self.ids)]).unlink()

    def _restart_streams(self, feedback):
        """The streams run again at their next tick, their failures of the
        copy forgotten (those another transaction holds recover on their own
        next run); whoever was told the sync fails is told why it resumes."""
        streams = lock_available(self.sudo().stream_ids)
        streams.write({"failure_count": 0, "last_error": False})
        self.env["avidxchange.attention"]._resolve(self, feedback)

    # === BUSINESS METHODS - INVOICES CAPTURED IN AVIDXCHANGE === #

    def _imports_captured(self):
        """Whether bills start in AvidXchange for this connection (too)."""
        self.ensure_one()
        return self.bills_origin in ("avidxchange", "both")

    def _accounting_system(self, client):
        """The accounting system this connection imports for, ``{ID, Name}``,
        found by its name in AvidXchange's list (its id is never typed): kept
        on the connection. A name AvidXchange does not know is refused with
        the names it does know."""
        self.ensure_one()
        systems = client.get_accounting_systems()
        wanted = (self.accounting_system_name or "").strip().casefold()
        found = [
            system
            for system in systems
            if (system[const.ACCOUNTING_SYSTEM_NAME_KEY].strip().casefold() == wanted)
            or (not wanted and len(systems) == 1)
        ]
        if len(found) != 1:
            names = ", ".join(s[const.ACCOUNTING_SYSTEM_NAME_KEY] for s in systems)
            raise UserError(
                self.env._(
                    "AvidXchange has no accounting system named %(name)s. Its accounting "
                    "systems: %(names)s.",
                    name=self.accounting_system_name or "-",
                    names=names or "-",
                )
                if wanted or not systems
                else self.env._(
                    "Name the accounting system this connection imports for. AvidXchange's "
                    "accounting systems: %s.",
                    names,
                )
            )
        system = found[0]
        backend = self.sudo()
        if backend.accounting_system_name != system[const.ACCOUNTING_SYSTEM_NAME_KEY]:
            backend.accounting_system_name = system[const.ACCOUNTING_SYSTEM_NAME_KEY]
        if backend.accounting_system_ref != system[const.ACCOUNTING_SYSTEM_ID_KEY]:
            backend.accounting_system_ref = system[const.ACCOUNTING_SYSTEM_ID_KEY]
        return system

    # === BUSINESS METHODS - STREAMS === #

    def _stream(self, kind):
        """This connection's stream of ``kind`` (see avidxchange.stream.handler)."""
        self.ensure_one()
        return self.stream_ids.filtered(lambda stream: stream.kind == kind)

    def _request_rescan(self):
        """The scope grew: the vendor and bill streams look at every record
        again on their next run (see ``avidxchange.stream._take_rescan``)."""
        for backend in self.sudo():
            backend.rescan_count += 1

    # === BUSINESS METHODS - SHARED RATE LIMIT === #

    def init(self):
        """The budgets' table (tools/rate_budget.py), written only by short
        transactions of their own, never by the ORM."""
        self.env.cr.execute(rate_budget.CREATE_TABLE)
        return super().init()

    def _rate_budget(self):
        """This connection's requests-per-minute budget, shared by every
        worker and host through PostgreSQL, for its clients."""
        self.ensure_one()
        # a connection of its own, even where the registry's cursors share a
        # test's transaction: the budget is never part of another transaction
        database = sql_db.db_connect(self.env.cr.dbname)
        return rate_budget.SharedBudget(
            database.cursor,
            self.id,
            self.sudo().requests_per_minute,
            max_pause=const.THROTTLE_PAUSE_MAX_SECONDS,
        )


def _is_a_person(user):
    """An active internal user other than OdooBot: someone who reads activities."""
    return bool(user) and user.active and not user.share and user.id != SUPERUSER_ID
