import logging

from odoo import SUPERUSER_ID, api, models
from odoo.exceptions import AccessError, UserError

from ..tools.groups import MANAGER_GROUP

_logger = logging.getLogger(__name__)

ACTIVITY_TYPE = "account_avidxchange.mail_activity_type_avidxchange"


class AvidxchangeAttention(models.AbstractModel):
    """Failures reach a person: a bill or vendor AvidXchange refused, a
    payment that needs attention (on its bills), a stream that keeps failing
    (on its connection). Each is said on the record's chatter and gets one
    activity for the connection's responsible user: one per failure, not one
    per retry, marked done when the record recovers."""

    _name = "avidxchange.attention"
    _description = "AvidXchange: failures that reach a person"

    @api.model
    def _ask(self, records, backend, summary, reason):
        """``records`` failed for ``reason``: tell the responsible user, once."""
        records = records.sudo()
        activity_type = self.env.ref(ACTIVITY_TYPE, raise_if_not_found=False)
        if not records or not activity_type or not hasattr(records, "activity_schedule"):
            return
        waiting = self._open(records).mapped("res_id")
        records = records.filtered(lambda record: record.id not in waiting)
        user = records and self._responsible(backend)
        for record in records:
            record.message_post(body=reason, subtype_xmlid="mail.mt_note")
            if not user:
                continue
            try:
                with self.env.cr.savepoint():
                    record.activity_schedule(
                        activity_type_id=activity_type.id,
                        summary=summary,
                        note=reason,
                        user_id=user.id,
                    )
            except (AccessError, UserError) as error:  # the user may not see the record
                _logger.info("No AvidXchange activity for %s on %s: %s", user.name, record, error)

    @api.model
    def _responsible(self, backend):
        """The connection's Responsible; if archived since (or never named),
        an AvidXchange administrator, so that a failure always reaches a person."""
        user = backend.sudo().responsible_user_id
        if user.active and not user.share:
            return user
        managers = self.env.ref(MANAGER_GROUP).sudo().all_user_ids
        person = managers.filtered(
            lambda u: (
                u.active
                and not u.share
                and u.id != SUPERUSER_ID
                and backend.company_id in u.company_ids
            )
        )[:1]
        _logger.warning(
            "AvidXchange connection %s has no active Responsible: telling %s instead.",
            backend.display_name,
            person.name or "nobody",
        )
        return person

    @api.model
    def _resolve(self, records, feedback):
        """``records`` recovered: their open AvidXchange activities are done."""
        if records and hasattr(records, "activity_ids"):
            self._open(records.sudo()).action_feedback(feedback=feedback)

    @api.model
    def _open(self, records):
        activity_type = self.env.ref(ACTIVITY_TYPE, raise_if_not_found=False)
        if not activity_type:
            return self.env["mail.activity"]
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", records._name),
                    ("res_id", "in", records.ids),
                    ("activity_type_id", "=", activity_type.id),
                ]
            )
        )
