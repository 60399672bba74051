from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def action_register_payment(self, ctx=None):
        """Register Payment, from the bills or their journal items: refused
        on bills AvidXchange holds (see ``account.move._avidxchange_check_free``)."""
        self.move_id._avidxchange_check_free(self.env._("Registering a payment"))
        return super().action_register_payment(ctx=ctx)

    def reconcile(self):
        """Any reconciliation of a held bill's items (a credit note, a
        payment, a bank line set against it) meets the hold. The payment
        import reconciles through ``_reconcile_plan``, not through here."""
        self.move_id._avidxchange_check_free(
            self.env._("Setting a credit note or a payment against it")
        )
        return super().reconcile()
