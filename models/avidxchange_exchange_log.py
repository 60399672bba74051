import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools.notify import notification
from ..tools.payment_report import ReportError, parse_report
from ..tools.redaction import redact, redacted_text

_logger = logging.getLogger(__name__)

# Exchanges that carry no kind of record; every other operation is a kind
# (avidxchange.stream.handler), the stream's word for it.
CONNECTION_TEST = "connection_test"
RECONCILIATION = "reconciliation"
# A poll that found nothing new, or a token, is kept this long.
IDLE_RETENTION = timedelta(days=1)


def _is_idle(exchange):
    """An exchange that carries no news: a token, or a read that listed nothing."""
    if exchange.error:
        return False
    if exchange.method == "POST" and exchange.path.split("?")[0].endswith(const.TOKEN_PATH):
        return True
    return exchange.method == "GET" and '"Items": []' in (exchange.response_body or "")


class AvidxchangeExchangeLog(models.Model):
    """The audit trail: one entry per request to AvidXchange.

    Entries are written from the client's recorder, so they hold exactly what
    went over the wire, with secrets already masked. A failed entry that
    concerns a record can be replayed: the record's sync runs again through
    its normal path (never a blind re-send of the stored body).
    """

    _name = "avidxchange.exchange.log"
    _description = "AvidXchange Exchange"
    _order = "id desc"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    operation = fields.Selection(selection="_selection_operation", required=True, readonly=True)
    direction = fields.Selection(
        [("outgoing", "Odoo → AvidXchange"), ("incoming", "AvidXchange → Odoo")],
        compute="_compute_direction",
        store=True,
    )
    method = fields.Char(readonly=True)
    endpoint = fields.Char(readonly=True)
    http_status = fields.Integer(string="HTTP Status", readonly=True)
    status_label = fields.Char(
        string="Answer",
        compute="_compute_status_label",
        help="The HTTP status of AvidXchange's answer, or Unreachable when none came.",
    )
    idle = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        help="A poll that found nothing new, or a token: kept a day only.",
    )
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    attempts = fields.Integer(readonly=True, default=1)
    request_body = fields.Text(readonly=True)
    response_body = fields.Text(readonly=True)
    state = fields.Selection(
        [("success", "Success"), ("failed", "Failed")], required=True, readonly=True, index=True
    )
    error_message = fields.Text(readonly=True)
    res_model = fields.Char(string="Record Model", readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    record_name = fields.Char(compute="_compute_record_name")
    replay_of_id = fields.Many2one(
        "avidxchange.exchange.log", readonly=True, index="btree_not_null"
    )
    replayed = fields.Boolean(readonly=True, help="A replay of this failure has run.")

    # A record's trail (smart buttons, replays, a report's entries) is read
    # on every form and every import.
    _record_idx = models.Index("(res_model, res_id)")

    @api.model
    def _selection_operation(self):
        return [
            (CONNECTION_TEST, self.env._("Connection test")),
            *self.env["avidxchange.stream.handler"]._avidxchange_kind_selection(),
            (RECONCILIATION, self.env._("Reconciliation")),
        ]

    # === COMPUTE METHODS === #

    @api.depends("operation")
    def _compute_direction(self):
        incoming = {
            RECONCILIATION,
            *self.env["avidxchange.stream.handler"]._avidxchange_inbound_kinds(),
        }
        for log in self:
            log.direction = "incoming" if log.operation in incoming else "outgoing"

    @api.depends("operation", "endpoint", "res_model", "res_id")
    def _compute_display_name(self):
        """ "Bills · BILL/2026/0001": what was exchanged, about what."""
        labels = dict(self._fields["operation"]._description_selection(self.env))
        for log in self:
            log.display_name = (
                f"{labels.get(log.operation, '')} · {log.record_name or log.endpoint}"
            )

    @api.depends("http_status", "state")
    def _compute_status_label(self):
        for log in self:
            if log.http_status:
                log.status_label = str(log.http_status)
            else:
                log.status_label = self.env._("Unreachable") if log.state == "failed" else ""

    def _compute_record_name(self):
        for log in self:
            record = log._get_record()
            log.record_name = record.display_name if record else False

    # === ACTION METHODS === #

    def action_open_record(self):
        self.ensure_one()
        record = self._get_record()
        if not record:
            raise UserError(self.env._("The record of this exchange no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }

    def action_replay(self):
        """Run the sync of each failed entry's record again, through its normal
        path (the record's own ``_avidxchange_replay``); the new exchanges are
        logged as replays of these entries."""
        self.backend_id._check_admin_access()  # administrators of its company only
        to_replay = self.filtered(lambda log: log.state == "failed" and log.res_model)
        if not to_replay:
            raise UserError(self.env._("Select failed exchanges that concern a record."))
        for log in to_replay:
            target = log._get_replay_target()
            if target is None:
                raise UserError(self.env._("The record of exchange %s no longer exists.", log.id))
            target.with_company(log.backend_id.company_id).with_context(
                avidxchange_replay_of=log.id
            )._avidxchange_replay()
            log.sudo().replayed = True
        return self._notify_replay(to_replay)

    def _notify_replay(self, replayed):
        """Say how the replays went: the new exchanges are linked to these."""
        new = self.search([("replay_of_id", "in", replayed.ids)])
        failed = new.filtered(lambda log: log.state == "failed")
        if failed:
            message = self.env._(
                "Replayed %(count)s: it failed again: %(error)s",
                count=len(replayed),
                error=failed[0].error_message or failed[0].status_label,
            )
        elif new:
            message = self.env._(
                "Replayed %(count)s: %(new)s new exchanges, all successful.",
                count=len(replayed),
                new=len(new),
            )
        else:
            message = self.env._("Replayed %s: nothing was left to send.", len(replayed))
        return notification(self.env._("Replay"), message, "danger" if failed else "success")

    # === CRON METHODS === #

    @api.autovacuum
    def _gc_successful_exchanges(self):
        """Successful exchanges are kept for the backend's retention period,
        idle ones (a poll that found nothing, a token) for a day; failures
        stay until someone deletes them."""
        self.sudo().search(
            [
                ("idle", "=", True),
                ("state", "=", "success"),
                ("create_date", "<", fields.Datetime.now() - IDLE_RETENTION),
            ]
        ).unlink()
        Backend = self.env["avidxchange.backend"].with_context(active_test=False)
        for days, backends in Backend._read_group([], ["log_retention_days"], ["id:recordset"]):
            limit = fields.Datetime.now() - timedelta(days=days)
            self.sudo().search(
                [
                    ("backend_id", "in", backends.ids),
                    ("state", "=", "success"),
                    ("create_date", "<", limit),
                ]
            ).unlink()  # the trail is read-only to users; housekeeping is the system's

    # === BUSINESS METHODS === #

    @api.model
    def _recorder(self, backend):
        """A callable for the client: writes one entry per exchange, about
        the operation and record the client is ``recording``."""
        replay_of = self.env.context.get("avidxchange_replay_of")

        def record_exchange(exchange):
            record = exchange.record
            self.sudo().create(
                {
                    "backend_id": backend.id,
                    "operation": exchange.operation,
                    "method": exchange.method,
                    "endpoint": exchange.path,
                    "http_status": exchange.status or 0,
                    "duration_ms": round(exchange.duration * 1000),
                    "attempts": exchange.attempts,
                    "request_body": exchange.request_body,
                    "response_body": exchange.response_body,
                    "state": "failed" if exchange.error else "success",
                    "error_message": exchange.error,
                    "res_model": record._name if record else False,
                    "res_id": record.id if record else False,
                    "replay_of_id": replay_of or False,
                    "idle": _is_idle(exchange),
                }
            )

        return record_exchange

    @api.model
    def _log_report(self, payment, report, error=None):
        """An entry for one payment report as it was applied to ``payment``:
        the page that brought it holds many, and the trail of a payment (and
        of the Odoo payments it made) should show its own reports."""
        return self._log_reports([(payment, report, error)])

    @api.model
    def _log_reports(self, applied):
        """The entries of ``[(payment, report, error)]`` (see ``_log_report``),
        in one ``create``: a slice's reports are logged together."""
        replay_of = self.env.context.get("avidxchange_replay_of") or False
        return self.sudo().create(
            [
                {
                    "backend_id": payment.backend_id.id,
                    "operation": "payment",
                    "endpoint": self.env._("Payment report %s", payment.payment_ref),
                    "response_body": redacted_text(report),
                    "state": "failed" if error else "success",
                    "error_message": error,
                    "res_model": payment._name,
                    "res_id": payment.id,
                    "replay_of_id": replay_of,
                }
                for payment, report, error in applied
            ]
        )

    @api.model
    def _log_unusable_report(self, backend, item):
        """A failed entry for a payment list item that cannot become a payment
        (not an object, no PaymentId), about the payment stream; once per
        such item, however often the window is read again."""
        try:
            parse_report(redact(item))  # its words quote the item: bank details masked
        except ReportError as error:
            problems = str(error)
        body = redacted_text(item) if isinstance(item, dict | list | str) else repr(item)[:100]
        stream = backend._stream("payment")
        domain = [
            ("backend_id", "=", backend.id),
            ("operation", "=", "payment"),
            ("res_model", "=", stream._name),
            ("response_body", "=", body),
        ]
        if self.search_count(domain, limit=1):
            return self.browse()
        return self.sudo().create(
            {
                "backend_id": backend.id,
                "operation": "payment",
                "endpoint": self.env._("Payment report without a PaymentId"),
                "response_body": body,
                "state": "failed",
                "error_message": self.env._(
                    "AvidXchange listed a payment this connector cannot read: %s", problems
                ),
                "res_model": stream._name,
                "res_id": stream.id,
            }
        )

    @api.model
    def _count_by_record(self, records):
        """``{record id: number of exchanges}`` for smart buttons."""
        groups = self._read_group(
            [("res_model", "=", records._name), ("res_id", "in", records.ids)],
            ["res_id"],
            ["__count"],
        )
        return dict(groups)

    @api.model
    def _action_for_record(self, record):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_avidxchange.avidxchange_exchange_log_action"
        )
        action["domain"] = [("res_model", "=", record._name), ("res_id", "=", record.id)]
        action["context"] = {}
        return action

    # === PRIVATE HELPERS === #

    def _get_replay_target(self):
        """What replays this entry: the link of the vendor, bill, order or
        account it concerns, else the record itself (a payment, a stream, the
        connection); None when it no longer exists."""
        record = self._get_record()
        if record is None:
            return None
        link_model = self.env["avidxchange.link.mixin"]._avidxchange_link_model(record._name)
        if link_model:
            return self.env[link_model]._avidxchange_links_of(self.backend_id, record)
        return record

    def _get_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            return None
        record = self.env[self.res_model].browse(self.res_id).exists()
        return record or None
