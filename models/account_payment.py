from odoo import api, fields, models


class AccountPayment(models.Model):
    _inherit = "account.payment"

    avidxchange_payment_id = fields.Many2one(
        "avidxchange.payment",
        string="AvidXchange Payment",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    avidxchange_exchange_count = fields.Integer(compute="_compute_avidxchange_exchange_count")

    @api.depends("payment_method_line_id")
    def _compute_outstanding_account_id(self):
        """An AvidXchange payment always goes through an outstanding account
        (hence a journal entry, in Community and Enterprise alike): the
        account its GL posting code maps to, the method's, or the company's
        outstanding payments account. The import names it in the context of
        the registration (the field is computed only)."""
        result = super()._compute_outstanding_account_id()
        account_id = self.env.context.get("avidxchange_outstanding_account_id")
        if account_id:
            self.outstanding_account_id = account_id
        return result

    def _compute_avidxchange_exchange_count(self):
        # The trail of an Odoo payment is the one of the AvidXchange payment that made it.
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self.avidxchange_payment_id)
        for payment in self:
            payment.avidxchange_exchange_count = counts.get(payment.avidxchange_payment_id.id, 0)

    def action_open_avidxchange_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self.avidxchange_payment_id)
