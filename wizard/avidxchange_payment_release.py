from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class AvidxchangePaymentRelease(models.TransientModel):
    """An AvidXchange administrator releases payments the connector
    registered (see ``account.payment._avidxchange_check_free``), with a
    reason logged on each and on the bills it pays: Odoo may then reset,
    cancel, change or unreconcile them. The sibling of the bills' release
    (``avidxchange.bill.release``)."""

    _name = "avidxchange.payment.release"
    _description = "Release Payments from AvidXchange"

    payment_ids = fields.Many2many(
        "account.payment", string="Payments", default=lambda self: self._default_payments()
    )
    reason = fields.Text(required=True)

    @api.model
    def _default_payments(self):
        if self.env.context.get("active_model") != "account.payment":
            return self.env["account.payment"]
        return self.env["account.payment"].browse(self.env.context.get("active_ids", []))

    @api.constrains("reason")
    def _check_reason(self):
        if any(not (wizard.reason or "").strip() for wizard in self):
            raise ValidationError(self.env._("Say why the payments are released."))

    def action_release(self):
        self.ensure_one()
        if not self.env.user.has_group("account_avidxchange.group_avidxchange_manager"):
            raise UserError(self.env._("Only AvidXchange administrators can release payments."))
        self.payment_ids._avidxchange_release(self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
