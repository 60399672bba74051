from odoo import api, fields, models
from odoo.fields import Domain

from ..tools.states import LINK_STATES


class ResPartner(models.Model):
    _inherit = "res.partner"

    avidxchange_enabled = fields.Boolean(
        string="Pay via AvidXchange",
        company_dependent=True,
        help="Export this vendor to AvidXchange (for connections that export marked vendors).",
    )
    avidxchange_link_ids = fields.One2many(
        "avidxchange.partner.link", "partner_id", string="AvidXchange Links"
    )
    avidxchange_state = fields.Selection(
        LINK_STATES,
        string="Sent to AvidXchange",
        compute="_compute_avidxchange_link",
        search="_search_avidxchange_state",
        help="Export status of this vendor to the current company's AvidXchange connection.",
    )
    avidxchange_vendor_id = fields.Char(
        string="AvidXchange Vendor ID", compute="_compute_avidxchange_link"
    )
    avidxchange_error = fields.Text(string="AvidXchange Error", compute="_compute_avidxchange_link")
    avidxchange_exchange_count = fields.Integer(compute="_compute_avidxchange_exchange_count")

    # === COMPUTE METHODS === #

    @api.depends_context("company")
    @api.depends("avidxchange_link_ids.state")
    def _compute_avidxchange_link(self):
        for partner in self:
            link = partner.avidxchange_link_ids.filtered(
                lambda link: link.company_id == self.env.company
            )[:1]
            partner.avidxchange_state = link.state
            partner.avidxchange_vendor_id = link.avidxchange_id
            partner.avidxchange_error = link.error_message

    def _search_avidxchange_state(self, operator, value):
        """Vendors by their link of the current company's connection; "not
        set" finds those without one."""
        if operator not in ("=", "!=", "in", "not in"):
            return NotImplemented
        values = [value] if operator in ("=", "!=") else list(value)
        positive = operator in ("=", "in")
        wanted = [v for v in values if v]
        links = (
            self.env["avidxchange.partner.link"]
            .sudo()
            ._search([("company_id", "=", self.env.company.id), ("state", "in", wanted)])
        )
        domain = Domain("id", "in", links.subselect("partner_id"))
        if False in values or None in values:
            linked = (
                self.env["avidxchange.partner.link"]
                .sudo()
                ._search([("company_id", "=", self.env.company.id)])
            )
            domain |= Domain("id", "not in", linked.subselect("partner_id"))
        return domain if positive else ~domain

    def _compute_avidxchange_exchange_count(self):
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self)
        for partner in self:
            partner.avidxchange_exchange_count = counts.get(partner.id, 0)

    # === CRUD METHODS === #

    def write(self, vals):
        """A vendor newly marked for AvidXchange (for the current company, as
        the flag is): its connection's streams look at every bill again, so
        the vendor's open bills go, however long ago they were posted."""
        newly_marked = vals.get("avidxchange_enabled") and self.filtered(
            lambda partner: not partner.avidxchange_enabled
        )
        result = super().write(vals)
        if newly_marked:
            self.env["avidxchange.backend"]._covering(self.env.company)._request_rescan()
        return result

    # === ACTION METHODS === #

    def action_open_avidxchange_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self)
