from odoo import models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        """However a reconciliation is undone (the bill form's removal,
        Unreconcile on journal items, cancelling either side, over RPC), a
        payment AvidXchange made stays set against what AvidXchange paid with
        it (see ``account.payment._avidxchange_check_free``). Its outstanding
        line is free: the bank side is Odoo's own business."""
        settled = (self.debit_move_id | self.credit_move_id).filtered(
            lambda line: line.account_type in ("liability_payable", "asset_receivable")
        )
        settled.move_id.origin_payment_id._avidxchange_check_free(
            self.env._("Taking it off the bills it pays")
        )
        return super().unlink()
