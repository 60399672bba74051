from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools.groups import MANAGER_GROUP


class AvidxchangeBillRelease(models.TransientModel):
    """An AvidXchange administrator releases bills from AvidXchange's hold
    (see ``account.move._avidxchange_check_free``), with a reason logged on
    each: Odoo may then reset, cancel or pay them. What then differs from what
    AvidXchange was sent shows as "changed since export"."""

    _name = "avidxchange.bill.release"
    _description = "Release Bills from AvidXchange's Hold"

    def _default_moves(self):
        context = self.env.context
        bills = context.get("active_model", "account.move") == "account.move"
        return self.env["account.move"].browse(context.get("active_ids", []) if bills else [])

    move_ids = fields.Many2many(
        "account.move", string="Bills", default=lambda self: self._default_moves()
    )
    reason = fields.Text(required=True)

    @api.constrains("reason")
    def _check_reason(self):
        if self.filtered(lambda wizard: not (wizard.reason or "").strip()):
            raise ValidationError(self.env._("Say why the bills are released."))

    def action_release(self):
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise UserError(self.env._("Only AvidXchange administrators can release bills."))
        for move in self.move_ids:
            links = move.sudo().avidxchange_link_ids._holds()
            if not links:
                continue
            links.released = True
            body = self.env._(
                "Released from AvidXchange's hold by %(user)s: %(reason)s. Odoo may now "
                "reset, cancel or pay this bill; AvidXchange is not told. Change or void "
                "its invoice %(invoice)s there to match.",
                user=self.env.user.name,
                reason=self.reason.strip(),
                invoice=links[:1].avidxchange_id,
            )
            move.message_post(body=body)
        return {"type": "ir.actions.act_window_close"}
