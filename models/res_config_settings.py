from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    avidxchange_backend_id = fields.Many2one(
        "avidxchange.backend", compute="_compute_avidxchange_backend_id"
    )
    avidxchange_state = fields.Selection(related="avidxchange_backend_id.state")
    avidxchange_connection_status = fields.Selection(
        related="avidxchange_backend_id.connection_status"
    )
    avidxchange_connection_message = fields.Char(
        related="avidxchange_backend_id.connection_message"
    )

    def _compute_avidxchange_backend_id(self):
        Backend = self.env["avidxchange.backend"]
        for settings in self:
            settings.avidxchange_backend_id = Backend.search(
                [("company_id", "=", settings.company_id.id)], limit=1
            )

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
