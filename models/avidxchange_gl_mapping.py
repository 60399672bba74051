from odoo import fields, models

from .. import const


class AvidxchangeGlMapping(models.Model):
    """Which Odoo account (and journal) an AvidXchange GL posting code means.

    A payment names, by code, the account its cash side posts to (for example
    the AvidPay clearing account). Unmapped codes fall back to the backend's
    payment journal.
    """

    _name = "avidxchange.gl.mapping"
    _description = "AvidXchange GL Posting Code"
    _inherit = ["avidxchange.connection.mixin"]
    _order = "code"

    group_name = fields.Char(default=const.GL_ACCOUNT_CODE_GROUP, required=True)
    code = fields.Char(string="Posting Code", required=True)
    account_id = fields.Many2one("account.account", required=True, check_company=True)
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="The journal payments posted to this code are registered in. "
        "Empty: the connection's payment journal.",
    )

    _code_uniq = models.Constraint(
        "UNIQUE(backend_id, group_name, code)", "Each posting code is mapped once."
    )
