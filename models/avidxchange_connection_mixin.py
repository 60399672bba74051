from odoo import fields, models


class AvidxchangeConnectionMixin(models.AbstractModel):
    """A record of one AvidXchange connection, in that connection's company:
    links, mappings. Deleted with the connection."""

    _name = "avidxchange.connection.mixin"
    _description = "AvidXchange Connection Record"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "avidxchange.backend",
        "Connection",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
