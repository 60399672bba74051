from odoo import fields, models

from .. import const


class AvidxchangePaymentMethodMapping(models.Model):
    """Which Odoo payment method records an AvidXchange payment method.

    Checks, ACH transfers, virtual cards and AvidPay Network payments usually
    want different payment methods (and so outstanding accounts) in Odoo.
    """

    _name = "avidxchange.payment.method.mapping"
    _description = "AvidXchange Payment Method"
    _inherit = ["avidxchange.connection.mixin"]
    _order = "avidxchange_method"

    avidxchange_method = fields.Selection(
        list(const.PAYMENT_METHODS.items()),
        string="AvidXchange Method",
        required=True,
    )
    payment_method_line_id = fields.Many2one(
        "account.payment.method.line",
        string="Odoo Payment Method",
        domain="[('payment_type', '=', 'outbound')]",
        required=True,
        check_company=True,
    )

    _method_uniq = models.Constraint(
        "UNIQUE(backend_id, avidxchange_method)", "Each AvidXchange method is mapped once."
    )
