import logging

from odoo import api, models
from odoo.exceptions import AccessError, UserError

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
        user = backend.sudo().responsible_user_id
        user = user or self.env.ref("base.user_admin")
        for record in records.filtered(lambda record: record.id not in waiting):
            record.message_post(body=reason, subtype_xmlid="mail.mt_note")
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
