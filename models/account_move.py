from odoo import api, fields, models

from ..tools.states import INVOICE_STATUSES, LINK_STATES


class AccountMove(models.Model):
    _inherit = "account.move"

    avidxchange_link_ids = fields.One2many(
        "avidxchange.invoice.link", "move_id", string="AvidXchange Links"
    )
    # Stored, so bill lists filter and group on them natively. A company has
    # one connection, so a bill has one link at most.
    avidxchange_state = fields.Selection(
        LINK_STATES,
        string="AvidXchange Export",
        compute="_compute_avidxchange_state",
        store=True,
        index="btree_not_null",
    )
    avidxchange_status = fields.Selection(
        INVOICE_STATUSES,
        string="AvidXchange Status",
        compute="_compute_avidxchange_state",
        store=True,
    )
    avidxchange_invoice_id = fields.Char(
        string="AvidXchange Invoice ID", compute="_compute_avidxchange_link"
    )
    avidxchange_error = fields.Text(string="AvidXchange Error", compute="_compute_avidxchange_link")
    avidxchange_exchange_count = fields.Integer(compute="_compute_avidxchange_exchange_count")
    avidxchange_reason = fields.Char(
        string="AvidXchange Scope",
        compute="_compute_avidxchange_reason",
        help="Whether this vendor bill goes to AvidXchange, and if not, why and what would "
        "send it.",
    )
    avidxchange_vendor_unmarked = fields.Boolean(compute="_compute_avidxchange_reason")

    @api.depends("avidxchange_link_ids.state", "avidxchange_link_ids.avidxchange_status")
    def _compute_avidxchange_state(self):
        for move in self:
            link = move.avidxchange_link_ids[:1]
            move.avidxchange_state = link.state
            move.avidxchange_status = link.avidxchange_status

    @api.depends("avidxchange_link_ids.avidxchange_id", "avidxchange_link_ids.error_message")
    def _compute_avidxchange_link(self):
        for move in self:
            link = move.avidxchange_link_ids[:1]
            move.avidxchange_invoice_id = link.avidxchange_id
            move.avidxchange_error = link.error_message

    @api.depends("state", "payment_state", "invoice_date", "partner_id", "avidxchange_link_ids")
    @api.depends_context("company")
    def _compute_avidxchange_reason(self):
        InvoiceLink = self.env["avidxchange.invoice.link"]
        for move in self:
            code = reason = False
            if move.move_type == "in_invoice" and not move.avidxchange_link_ids:
                code, reason = InvoiceLink._scope_refusal(move)
            move.avidxchange_reason = reason
            move.avidxchange_vendor_unmarked = code == "vendor_unmarked"

    def _compute_avidxchange_exchange_count(self):
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self)
        for move in self:
            move.avidxchange_exchange_count = counts.get(move.id, 0)

    def action_avidxchange_mark_vendor(self):
        """The fixing button of "vendor not marked": mark the bills' vendors
        for AvidXchange, in the company of the connection that sends them."""
        Backend = self.env["avidxchange.backend"]
        for move in self:
            company = Backend._covering(move.company_id).company_id or move.company_id
            vendor = move.partner_id.commercial_partner_id.with_company(company)
            vendor.avidxchange_enabled = True
        return True

    def action_open_avidxchange_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self)
