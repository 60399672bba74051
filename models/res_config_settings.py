from odoo import fields, models


def _shown(field_type, name):
    """A field of the company connection's (``avidxchange_backend_id``), as it stands there."""
    return field_type(related=f"avidxchange_backend_id.{name}")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    avidxchange_backend_id = fields.Many2one(
        "avidxchange.backend",
        string="AvidXchange Connection",
        compute="_compute_avidxchange_backend_id",
    )
    # The company connection's own fields, shown in its block.
    avidxchange_state = _shown(fields.Selection, "state")
    avidxchange_connection_status = _shown(fields.Selection, "connection_status")
    avidxchange_connection_message = _shown(fields.Char, "connection_message")
    avidxchange_connection_checked_at = _shown(fields.Datetime, "connection_checked_at")
    avidxchange_sync_health = _shown(fields.Selection, "sync_health")
    avidxchange_sync_health_message = _shown(fields.Char, "sync_health_message")
    avidxchange_bill_waiting_count = _shown(fields.Integer, "bill_waiting_count")
    avidxchange_bill_rejected_count = _shown(fields.Integer, "bill_rejected_count")
    avidxchange_bill_error_count = _shown(fields.Integer, "bill_error_count")
    avidxchange_payment_attention_count = _shown(fields.Integer, "payment_attention_count")

    def _compute_avidxchange_backend_id(self):
        Backend = self.env["avidxchange.backend"]
        for settings in self:
            settings.avidxchange_backend_id = Backend.search(
                [("company_id", "=", settings.company_id.id)], limit=1
            )

    def action_open_avidxchange_bills(self):
        """A count of the block, opened: the connection's bills in that status."""
        return self.avidxchange_backend_id.action_open_avidxchange_bills()

    def action_open_payments_needing_attention(self):
        return self.avidxchange_backend_id.action_open_payments_needing_attention()

    def action_open_avidxchange_backend(self):
        """The company's connection form, a new one when it has none yet."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("AvidXchange Connection"),
            "res_model": "avidxchange.backend",
            "view_mode": "form",
            "res_id": self.avidxchange_backend_id.id,
            "context": {"default_company_id": self.company_id.id},
        }
