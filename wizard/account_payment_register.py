from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        """However the wizard was opened, no payment on a bill AvidXchange holds."""
        self.line_ids.move_id._avidxchange_check_free(self.env._("Registering a payment"))
        return super()._create_payments()
