import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain

from ..tools.exceptions import AvidXchangeError
from ..tools.locks import lock_available
from ..tools.notify import notification

_logger = logging.getLogger(__name__)

# After this many failures in a row a stream waits longer before it tries
# again (twice the interval, then four times...), at most a day.
BREAKER_THRESHOLD = 3
BREAKER_MAX_WAIT = timedelta(days=1)


class AvidxchangeStream(models.Model):
    """One direction of one kind of record for one connection: vendors, GL
    codes, purchase orders and bills out, payments in.

    A stream holds what only it writes: how far it has read (its high-water
    mark), when it last ran and succeeded, how many records wait, its last
    error and its failures in a row. The scheduled actions run every due
    stream of every active connection, each committing only its own row, so
    two of them never write the same row and one stream's failure, whatever
    it is, stops neither the others nor another company's connection.
    """

    _name = "avidxchange.stream"
    _inherit = ["avidxchange.connection.mixin"]
    _description = "AvidXchange Sync Stream"
    _order = "backend_id, sequence, id"

    kind = fields.Selection(
        selection="_selection_kind",
        required=True,
        readonly=True,
        help="The kind of record it carries: every model that owns one declares it "
        "(avidxchange.stream.handler).",
    )
    sequence = fields.Integer(compute="_compute_sequence", store=True)
    interval = fields.Integer(
        string="Every (min)", required=True, default=30, help="Minutes between two runs."
    )
    mark = fields.Datetime(
        string="Changed Since",
        copy=False,
        help="High-water mark: records changed after this moment are looked at in the next "
        "run (for payments, AvidXchange's own time stamps). Clear it to look at every record "
        "again: nothing already sent is sent twice.",
    )
    rescan_count = fields.Integer(
        readonly=True, copy=False, help="The connection's last rescan this stream made."
    )
    last_run_at = fields.Datetime(string="Last Run", readonly=True, copy=False)
    last_success_at = fields.Datetime(string="Last Success", readonly=True, copy=False)
    next_run_at = fields.Datetime(
        string="Next Run",
        compute="_compute_next_run_at",
        store=True,
        help="Due from then on. A stream that keeps failing waits longer each time.",
    )
    pending_count = fields.Integer(
        string="Left After Last Run",
        readonly=True,
        copy=False,
        help="What the last run left for the next one: a backlog goes on at the next tick.",
    )
    waiting_count = fields.Integer(
        string="Waiting",
        compute="_compute_waiting_count",
        search="_search_waiting_count",
        help="Records waiting for this stream now (a bill posted since the last run included).",
    )
    last_error = fields.Text(readonly=True, copy=False)
    failure_count = fields.Integer(string="Failures in a Row", readonly=True, copy=False)
    failing_since = fields.Datetime(
        readonly=True, copy=False, help="When the failures in a row began."
    )
    health = fields.Selection(
        [("new", "Not run yet"), ("ok", "OK"), ("failing", "Failing"), ("paused", "Backing off")],
        compute="_compute_health",
    )

    _backend_kind_uniq = models.Constraint(
        "UNIQUE(backend_id, kind)", "A connection has one stream of each kind."
    )

    # === COMPUTE METHODS === #

    @api.model
    def _selection_kind(self):
        return self.env["avidxchange.stream.handler"]._avidxchange_kind_selection()

    @api.depends("kind")
    def _compute_sequence(self):
        order = list(self.env["avidxchange.stream.handler"]._avidxchange_handlers())
        for stream in self:
            stream.sequence = order.index(stream.kind) if stream.kind in order else len(order)

    @api.depends("last_run_at", "interval", "failure_count", "pending_count")
    def _compute_next_run_at(self):
        for stream in self:
            if not stream.last_run_at:
                stream.next_run_at = False
                continue
            if stream.pending_count and not stream.failure_count:
                stream.next_run_at = stream.last_run_at  # a backlog goes on at the next tick
                continue
            wait = timedelta(minutes=stream.interval)
            if stream.failure_count >= BREAKER_THRESHOLD:
                doublings = min(stream.failure_count - BREAKER_THRESHOLD + 1, 16)
                wait = min(wait * 2**doublings, max(BREAKER_MAX_WAIT, wait))
            stream.next_run_at = stream.last_run_at + wait

    def _compute_waiting_count(self):
        for stream in self:
            handler = stream._handler().sudo()
            stream.waiting_count = handler._avidxchange_waiting_count(stream.backend_id)

    def _search_waiting_count(self, operator, value):
        if operator not in ("=", "!=", ">", ">=", "<", "<="):
            return NotImplemented
        # A stream row per connection and kind: few rows, counted one by one.
        matching = self.search([("kind", "!=", False)]).filtered(
            lambda stream: _compare(stream.waiting_count, operator, value)
        )
        return [("id", "in", matching.ids)]

    @api.depends("last_run_at", "failure_count")
    def _compute_health(self):
        for stream in self:
            if stream.failure_count >= BREAKER_THRESHOLD:
                stream.health = "paused"
            elif stream.failure_count:
                stream.health = "failing"
            else:
                stream.health = "ok" if stream.last_run_at else "new"

    @api.depends("kind", "backend_id")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for stream in self:
            stream.display_name = f"{stream.backend_id.name} · {labels.get(stream.kind, '')}"

    # === CONSTRAINT METHODS === #

    @api.constrains("interval")
    def _check_interval(self):
        if any(stream.interval < 1 for stream in self):
            raise ValidationError(self.env._("Sync intervals are whole minutes, at least 1."))

    # === ACTION METHODS === #

    def action_run_now(self):
        """Run one batch of this stream now, and say how it went."""
        self.ensure_one()
        self.backend_id._check_admin_access()  # administrators of its company only
        done, left = self.with_company(self.company_id)._run_now()
        if self.failure_count:
            message, kind = self.last_error, "danger"
        else:
            message = self.env._("%(done)s done, %(left)s waiting.", done=done, left=left)
            kind = "success"
        # reloaded, so that the row shows how it went (health, waiting, error)
        return notification(self.display_name, message, kind)

    # === CRON METHODS === #

    @api.model
    def _cron_run(self, kinds):
        """Run every due stream of ``kinds`` (a list of kinds, or the name of
        a scheduled action that the kinds' models declare they run in: see
        ``StreamKind.cron``) of every active connection, as the user its
        connection names (``sync_user_id``): that user's access rights and
        record rules apply to the sync, not the cron's.

        Each stream runs batch after batch and commits after each, so a crash
        loses at most the batch in flight (sent again, idempotently, next
        time). Whatever one stream raises is noted on it and the next one runs.
        """
        if isinstance(kinds, str):
            kinds = self.env["avidxchange.stream.handler"]._avidxchange_cron_kinds(kinds)
        remaining = 0
        for stream in self.search(self._due_domain(kinds)):
            user = stream.backend_id._sync_user()
            remaining += stream.with_user(user).with_company(stream.company_id)._run()
        self.env["ir.cron"]._commit_progress(remaining=remaining)

    @api.model
    def _due_domain(self, kinds, now=None):
        now = now or fields.Datetime.now()
        return Domain.AND(
            [
                [("kind", "in", kinds), ("backend_id.state", "=", "active")],
                Domain("next_run_at", "=", False) | Domain("next_run_at", "<=", now),
            ]
        )

    # === BUSINESS METHODS === #

    def _run(self):
        """Run this stream to the end of its work or of the cron's time, one
        committed batch at a time; returns how many records still wait."""
        self.ensure_one()
        Cron = self.env["ir.cron"]
        while True:
            if not lock_available(self):
                return 0  # another transaction runs or changed this stream: next tick

            try:
                # a batch that sends commits its reservations before it calls
                # AvidXchange (avidxchange.link.mixin._avidxchange_send_waiting)
                done, left = self.with_context(avidxchange_commit_sends=True)._run_batch()
            except Exception as error:
                self.env.cr.rollback()  # to the last commit: the cron's own transaction
                _logger.exception("AvidXchange stream %s failed unexpectedly", self.display_name)
                self._note_failure(error)
                done, left = 0, 0
            time_left = Cron._commit_progress(done)
            if not left or not done or time_left <= 0:
                return left

    def _run_batch(self, batch_size=None):
        """One batch of this stream; returns ``(done, still waiting)``.

        A failure that concerns the whole connection (credentials, an outage,
        a setting) is noted on the stream and ends the run: ``(0, 0)``, so the
        cron stops hammering a service that is down until the next run.
        """
        self.ensure_one()
        handler = self._handler()
        stream = self.sudo()
        stream.last_run_at = fields.Datetime.now()
        try:
            done, left = handler._avidxchange_stream_batch(
                stream, batch_size or handler._avidxchange_kind.batch
            )
        except (AvidXchangeError, UserError) as error:
            _logger.warning("AvidXchange stream %s stopped: %s", self.display_name, error)
            self._note_failure(error)
            return 0, 0
        recovered = stream.failure_count >= BREAKER_THRESHOLD
        stream.write(
            {
                "last_success_at": stream.last_run_at,
                "pending_count": left,
                "last_error": False,
                "failure_count": 0,
                "failing_since": False,
            }
        )
        backend = stream.backend_id
        if recovered and not any(s.failure_count >= BREAKER_THRESHOLD for s in backend.stream_ids):
            self.env["avidxchange.attention"]._resolve(backend, self.env._("The sync runs again."))
        return done, left

    def _run_now(self):
        """One batch at a user's request (not the cron's): never alongside
        another run of the same stream, and committing as a scheduled run
        does, so that nobody waits on AvidXchange for its records meanwhile
        (``avidxchange.link.mixin._avidxchange_at_request``)."""
        if not lock_available(self):
            raise UserError(self.env._("This stream is running right now: try again in a minute."))
        at_request = self.env["avidxchange.link.mixin"]._avidxchange_at_request()
        return self.with_env(at_request.env)._run_batch()

    def _avidxchange_replay(self):
        """The audit trail's replay of an exchange the stream made (a page of
        payments, a batch of GL codes): queue its failed records again and
        run the stream once more."""
        self._handler()._avidxchange_requeue_failed(self.backend_id)
        return self._run_now()

    def _take_rescan(self):
        """Whether this run looks at every record again: the scope grew since
        the last rescan (``backend.rescan_count``, which users bump, never
        this row: a stream's row is its own). Nothing already sent is sent
        twice."""
        wanted = self.backend_id.sudo().rescan_count
        if self.rescan_count >= wanted:
            return False
        self.sudo().rescan_count = wanted
        return True

    def _note_failure(self, error):
        stream = self.sudo()
        if isinstance(error, AccessError):
            message = self.env._(
                "The sync runs as %(user)s, who lacks a right it needs: %(error)s Grant it the "
                "rights the README lists for the integration user (or choose another user on "
                "the connection), then Run now.",
                user=self.env.user.name,
                error=error.args[0],
            )
        else:
            message = self.backend_id._explain(error)
        now = fields.Datetime.now()
        stream.write(
            {
                "last_run_at": now,
                "last_error": message,
                "failure_count": stream.failure_count + 1,
                "failing_since": stream.failing_since or now,
            }
        )
        if stream.failure_count == BREAKER_THRESHOLD:  # failing for good, not a blip
            self.env["avidxchange.attention"]._ask(
                stream.backend_id,
                stream.backend_id,
                self.env._("AvidXchange sync failing"),
                self.env._(
                    "%(stream)s failed %(count)s times in a row: %(error)s",
                    stream=stream.display_name,
                    count=stream.failure_count,
                    error=message,
                ),
            )

    def _handler(self):
        """The model that owns this stream's kind."""
        self.ensure_one()
        return self.env["avidxchange.stream.handler"]._avidxchange_handler(self.kind)

    @api.model
    def _default_values(self, backend):
        """The values of ``backend``'s streams it lacks: all of them for a new
        connection, a new kind's after an upgrade that brings one."""
        existing = set(backend.with_context(active_test=False).stream_ids.mapped("kind"))
        kinds = self.env["avidxchange.stream.handler"]._avidxchange_kinds()
        return [
            {"backend_id": backend.id, "kind": kind, "interval": spec.interval}
            for kind, spec in kinds.items()
            if kind not in existing
        ]

    @api.model
    def _ensure_streams(self):
        """Give every connection a stream of each kind: a kind an upgrade
        brings gets its row on every existing connection
        (``migrations/0.0.0/post-migrate.py`` calls this after every
        version's own steps, which may move older settings into streams)."""
        Backend = self.env["avidxchange.backend"].with_context(active_test=False)
        lacking = Domain.OR(
            Domain("id", "not in", self.sudo().search([("kind", "=", kind)]).backend_id.ids)
            for kind in self.env["avidxchange.stream.handler"]._avidxchange_handlers()
        )
        values = [v for backend in Backend.search(lacking) for v in self._default_values(backend)]
        if values:
            self.sudo().create(values)


def _compare(number, operator, value):
    return {
        "=": number == value,
        "!=": number != value,
        ">": number > value,
        ">=": number >= value,
        "<": number < value,
        "<=": number <= value,
    }[operator]
