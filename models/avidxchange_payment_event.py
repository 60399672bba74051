from odoo import fields, models


class AvidxchangePaymentEvent(models.Model):
    """One step of an AvidXchange payment's life, as AvidXchange tells it
    (``avidxchange.payment``'s status history, its proof of payment)."""

    _name = "avidxchange.payment.event"
    _description = "AvidXchange Payment Status Change"
    _order = "date, id"

    payment_id = fields.Many2one(
        "avidxchange.payment", required=True, ondelete="cascade", index=True
    )
    date = fields.Datetime(readonly=True)
    status = fields.Char(readonly=True, required=True)
    note = fields.Char(readonly=True)
