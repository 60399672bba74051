import logging
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL

from .. import const
from ..tools.exceptions import AvidXchangeError
from ..tools.locks import lock_available
from ..tools.notify import notification
from ..tools.payload import fingerprint
from ..tools.states import LINK_STATES

_logger = logging.getLogger(__name__)

# ``write_date`` is the start of the writing transaction, and a long one
# commits late: a stream's mark never passes the start of a transaction still
# open (see ``_avidxchange_mark_moment``), and it looks back this far besides,
# for one that commits between the run's snapshot and that look.
MARK_OVERLAP = timedelta(minutes=10)


class AvidxchangeLinkMixin(models.AbstractModel):
    """What every record Odoo sends to AvidXchange shares: the binding to one
    connection, the export state, the last error and the hash of what was
    last attempted, "export now", and the replay hook of the audit trail.

    A link model names the Odoo record it binds (``_avidxchange_record_field``),
    and the field that keeps the id AvidXchange knows it by, if it has one
    (``_avidxchange_external_id_field``, filled when the link is created). It
    implements the hooks, all prefixed ``_avidxchange_``: ``_payload()`` (the
    body AvidXchange gets), ``_send_with(client)`` (send these links, marking
    each with ``_mark_synced`` or ``_mark_error``, and return those it had
    to leave waiting) and ``_stream_batch(stream, batch_size)`` (its
    stream's "what changed" and "send it").

    Two streams may want the same link at once (a bill's export sends its
    vendor while the vendor stream runs): a link is written only by the
    transaction that could lock it; the other one leaves it for later.

    A scheduled send reserves, calls, records: it marks its links "being
    sent" (``sending_since``) and commits, calls AvidXchange with no lock on
    them, then records each outcome (see ``_avidxchange_send_waiting``).
    """

    _name = "avidxchange.link.mixin"
    _inherit = ["avidxchange.connection.mixin", "avidxchange.stream.handler"]
    _description = "AvidXchange Link"
    _order = "id desc"
    _avidxchange_record_field = None
    _avidxchange_external_id_field = None

    state = fields.Selection(LINK_STATES, default="pending", required=True, index=True)
    error_message = fields.Text(readonly=True)
    payload_hash = fields.Char(readonly=True, copy=False)
    last_export_at = fields.Datetime(string="Last Attempt", readonly=True, copy=False)
    sending_since = fields.Datetime(
        "Being Sent Since",
        copy=False,
        readonly=True,
        help="A scheduled run reserved it and is sending it to AvidXchange right now. A "
        "reservation older than a few minutes was left by a run that stopped: the next run "
        "sends it again, and AvidXchange says whether it has it already.",
    )

    # The waiting links of a connection (``_avidxchange_waiting_domain``) and
    # its failed ones (``_avidxchange_requeue_failed``).
    _backend_state_idx = models.Index("(backend_id, state)")

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        """A link gets the id AvidXchange will know its record by, once."""
        field = self._avidxchange_external_id_field
        for vals in vals_list if field else ():
            if not vals.get(field):
                backend = self.env["avidxchange.backend"].browse(vals["backend_id"])
                vals[field] = backend._external_id(vals[self._avidxchange_record_field])
        return super().create(vals_list)

    # === ACTION METHODS === #

    def action_send_now(self):
        """Send these records now, failed ones included, as a scheduled run
        does (``_avidxchange_send_at_request``); when the connection itself
        fails, say why."""
        self.backend_id._check_admin_access()
        for backend, links in self._avidxchange_to_resend().grouped("backend_id").items():
            links = links.with_company(backend.company_id)
            if links._avidxchange_being_sent() or lock_available(links) != links:
                raise UserError(
                    self.env._(
                        "AvidXchange is being sent these records right now: try again in a minute."
                    )
                )
            try:
                links._avidxchange_send_at_request()
            except (AvidXchangeError, UserError) as error:
                _logger.warning("AvidXchange export for %s stopped: %s", backend.name, error)
                raise UserError(backend._explain(error)) from None
        return self._notify_export()

    def _notify_export(self):
        """Say how *Send now* went: how many went, and the first refusal."""
        links = self.exists()
        links.invalidate_recordset()
        failed = links.filtered(lambda link: link.state == "error")
        sent = links.filtered(lambda link: link.state == "synced")
        message = self.env._("%s sent to AvidXchange.", len(sent))
        if failed:
            message += " " + self.env._(
                "%(count)s refused: %(reason)s", count=len(failed), reason=failed[0].error_message
            )
        return notification(self.env._("Send now"), message, "danger" if failed else "success")

    # === BUSINESS METHODS === #

    def _avidxchange_replay(self):
        """The audit trail's replay: the normal export, now."""
        return self.action_send_now()

    @api.model
    def _avidxchange_queue_and_send(self, stream, changed, now, batch_size):
        """A stream's batch after its "what changed": queue the ``changed``
        links this transaction can lock, move the mark to ``now`` unless one
        was busy elsewhere (its change is then seen by the next run), and
        send up to ``batch_size`` waiting links."""
        locked = lock_available(changed)
        locked._avidxchange_queue()
        if locked == changed:
            stream.mark = now
        return self._avidxchange_send_waiting(stream.backend_id, batch_size, stream)

    @api.model
    def _avidxchange_send_waiting(self, backend, batch_size, stream=None):
        """Send up to ``batch_size`` links of ``backend`` waiting for export
        (skipping those another transaction holds, or another run is
        sending); returns ``(sent, still waiting)``.

        Reserve, call, record: the links are marked "being sent" and, in a
        scheduled run of ``stream``, committed (``_avidxchange_commit``)
        before the first request, so no lock on them is held while
        AvidXchange answers; Odoo refuses at once, in words, what it refuses
        while a record is being sent. Each outcome is written as it comes
        and the run commits after the batch. A run that dies in between
        leaves its reservations to time out: the next run sends them again
        (a lost answer, see ``SENDING_TIMEOUT_MINUTES``).
        """
        waiting = self._avidxchange_waiting_domain(backend)
        sendable = Domain.AND([waiting, self._avidxchange_not_being_sent_domain()])
        links = lock_available(self.search(sendable, limit=batch_size))._avidxchange_reserve()
        if not links:
            return 0, self.search_count(waiting)
        left_waiting = links._avidxchange_send_reserved(stream)
        return len(links.exists() - left_waiting), self.search_count(waiting)

    def _avidxchange_send_reserved(self, stream=None):
        """Send these reserved links; returns those left waiting. The
        reservations are committed first (``_avidxchange_commit``), so no
        lock on them is held while AvidXchange answers, and end with the
        outcome. What stops the batch is raised once their end is committed:
        the links wait for the next run, whatever the caller rolls back."""
        self._avidxchange_commit(stream)
        try:
            left_waiting = self._avidxchange_send()
        except (AvidXchangeError, UserError):
            self.exists().sending_since = False  # the rest waits for the next run
            self._avidxchange_commit(stream)
            raise
        self.exists().filtered("sending_since").sending_since = False
        return left_waiting

    def _avidxchange_send_at_request(self):
        """Send these links (locked by the caller, none being sent) for a
        person who asked (*Send now*, a bill's *Send*), the way a scheduled
        run sends (``_avidxchange_send_reserved``), committing as it does
        outside tests (``_avidxchange_at_request``): nobody waits on
        AvidXchange for these records meanwhile. Raises what stopped the
        batch: its links wait for the next run."""
        links = self._avidxchange_at_request()
        links.write({"state": "pending", "payload_hash": False})
        reserved = links._avidxchange_reserve()  # those no other transaction is changing
        reserved._avidxchange_send_reserved()
        reserved._avidxchange_commit()  # the outcome, before another connection is called

    @api.model
    def _avidxchange_at_request(self):
        """This model as a person's request sends with it: committing as a
        scheduled run does (see ``_avidxchange_commit``), as Odoo's
        own *Run Manually* runs a scheduled action in the request; but in a
        test, which keeps its one transaction unless its context says."""
        commit = self.env.context.get("avidxchange_commit_sends", not modules.module.current_test)
        return self.with_context(avidxchange_commit_sends=commit)

    def _avidxchange_reserve(self):
        """Mark these links (locked by the caller) "being sent"; returns
        those reserved."""
        self.sending_since = fields.Datetime.now()
        return self

    @api.model
    def _avidxchange_commit(self, stream=None):
        """Commit what a send has done so far (its reservations before it
        calls AvidXchange, its outcome after), when the context says so
        (``avidxchange_commit_sends``: a scheduled run, or a person's request
        outside tests, see ``_avidxchange_at_request``; a test keeps its one
        transaction, and its locks). A run of ``stream`` then takes its row
        again, so that no other run of the stream starts while this one
        calls AvidXchange."""
        if not self.env.context.get("avidxchange_commit_sends"):
            return
        self.env["ir.cron"]._commit_progress()  # the cron's way to commit; outside a cron, a commit
        if stream:
            lock_available(stream)

    @api.model
    def _avidxchange_not_being_sent_domain(self):
        """Links no run is sending: never reserved, or reserved by a run that
        stopped between its commits (see ``SENDING_TIMEOUT_MINUTES``)."""
        return Domain("sending_since", "=", False) | Domain(
            "sending_since", "<", self._avidxchange_sending_cutoff()
        )

    @api.model
    def _avidxchange_sending_cutoff(self):
        return fields.Datetime.now() - timedelta(minutes=const.SENDING_TIMEOUT_MINUTES)

    def _avidxchange_being_sent(self):
        """The links among these that a run is sending right now."""
        cutoff = self._avidxchange_sending_cutoff()
        return self.filtered(lambda link: link.sending_since and link.sending_since >= cutoff)

    @api.model
    def _avidxchange_waiting_domain(self, backend):
        return [("backend_id", "=", backend.id), ("state", "=", "pending")]

    @api.model
    def _avidxchange_waiting_count(self, backend):
        """How many of ``backend``'s links wait to go (health views)."""
        return self.search_count(self._avidxchange_waiting_domain(backend))

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Queue again the links of ``backend`` in error (a replay of their
        stream's failed exchange)."""
        failed = self.search([("backend_id", "=", backend.id), ("state", "=", "error")])
        lock_available(failed).state = "pending"

    def _avidxchange_send(self):
        """Send these links of one connection with one client; returns those
        left waiting. Errors that concern the whole connection (credentials,
        outage, settings) are raised; a record AvidXchange refuses is marked
        and the rest go on."""
        backend = self.backend_id
        with backend._get_client() as client:
            left_waiting = self.with_company(backend.company_id)._avidxchange_send_with(client)
        return self.browse() if left_waiting is None else left_waiting.with_env(self.env)

    def _avidxchange_queue(self):
        """Mark for export the links whose record changed since the last
        attempt (the caller holds their locks)."""
        for link in self:
            if link.state != "pending" and link.payload_hash != link._avidxchange_payload_hash(
                False
            ):
                link.state = "pending"

    def _mark_synced(self, payload, **values):
        recovered = self.filtered("error_message")
        self.write(
            {
                "state": "synced",
                "payload_hash": fingerprint(payload),
                "error_message": False,
                "last_export_at": fields.Datetime.now(),
                "sending_since": False,
                **values,
            }
        )
        if recovered:
            self.env["avidxchange.attention"]._resolve(
                recovered[self._avidxchange_record_field],
                self.env._("AvidXchange took it."),
            )

    def _mark_error(self, error, payload_hash=False):
        message = error.args[0] if isinstance(error, UserError) else str(error)
        self.write(
            {
                "state": "error",
                "error_message": message,
                "payload_hash": payload_hash,
                "last_export_at": fields.Datetime.now(),
                "sending_since": False,
            }
        )
        for link in self:
            self.env["avidxchange.attention"]._ask(
                link[self._avidxchange_record_field],
                link.backend_id,
                self.env._("AvidXchange refused it"),
                self.env._("AvidXchange refused it: %s", message),
            )

    @api.model
    def _avidxchange_link_model(self, res_model):
        """The name of the link model that binds records of ``res_model``, or
        None: lets the audit trail replay an exchange about a vendor, a bill,
        an order or an account through its link."""
        for name in self.env.registry.descendants([self._name], "_inherit"):
            Link = self.env[name]
            field = Link._avidxchange_record_field
            if field and Link._fields[field].comodel_name == res_model:
                return name
        return None

    @api.model
    def _avidxchange_links_of(self, backend, records):
        return self.search(
            [("backend_id", "=", backend.id), (self._avidxchange_record_field, "in", records.ids)]
        )

    @api.model
    def _avidxchange_mark_moment(self):
        """How far a stream may move its mark after reading what changed.

        A record is stamped with the start of the transaction that writes it
        (``write_date``), but is seen only once that transaction commits,
        however long it runs. So the mark stops at the start of the oldest
        transaction still open on this database, when that is earlier than
        now: whatever it writes is seen by the next run.
        """
        self.env.cr.execute(
            SQL(
                """SELECT min(xact_start) AT TIME ZONE 'UTC' FROM pg_stat_activity
                    WHERE datname = current_database() AND pid != pg_backend_pid()"""
            )
        )
        oldest = self.env.cr.fetchone()[0]
        now = fields.Datetime.now()
        return min(now, oldest.replace(microsecond=0)) if oldest else now

    @api.model
    def _avidxchange_written_since(self, domain, mark, field="write_date"):
        """``domain`` narrowed to records written since the high-water
        ``mark``, looking back ``MARK_OVERLAP``. Records seen twice cost a
        hash, not a request."""
        if not mark:
            return domain
        return Domain.AND([domain, [(field, ">=", mark - MARK_OVERLAP)]])

    # === PRIVATE HELPERS === #

    def _avidxchange_to_resend(self):
        """The links "export now" sends again (all of them, by default)."""
        return self

    def _avidxchange_payload_hash(self, raise_error=True):
        try:
            return fingerprint(self._avidxchange_payload())
        except UserError:
            if raise_error:
                raise
            return False
