from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def action_register_payment(self, ctx=None):
        """Register Payment, from the bills or their journal items: refused
        on bills AvidXchange holds (see ``account.move._avidxchange_check_free``)."""
        self.move_id._avidxchange_check_free(self.env._("Registering a payment"))
        return super().action_register_payment(ctx=ctx)
