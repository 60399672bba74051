import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from .. import const
from ..tools.exceptions import (
    AuthenticationError,
    AvidXchangeError,
    InvalidResponseError,
    PermanentError,
    RetryableError,
)
from ..tools.payload import compact
from .avidxchange_partner_link import LINK_STATES

_logger = logging.getLogger(__name__)

INVOICE_STATUSES = [(status, status) for status in const.INVOICE_STATUSES]


class AvidxchangeInvoiceLink(models.Model):
    """A vendor bill as AvidXchange knows it.

    A bill is submitted once. Its ``external_invoice_id`` is its identity on
    both sides: if a crash loses the answer of a submission, the next cycle
    submits again, AvidXchange answers 409 with the invoice it already has,
    and the link adopts it; no bill is ever entered twice.
    """

    _name = "avidxchange.invoice.link"
    _description = "AvidXchange Bill Link"
    _check_company_auto = True
    _order = "id desc"
    _rec_name = "move_id"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    move_id = fields.Many2one(
        "account.move", string="Bill", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(related="move_id.partner_id", string="Vendor")
    external_invoice_id = fields.Char(
        string="External Invoice ID", required=True, readonly=True, copy=False
    )
    avidxchange_id = fields.Char(string="AvidXchange ID", readonly=True, copy=False, index=True)
    avidxchange_status = fields.Selection(
        INVOICE_STATUSES, string="AvidXchange Status", readonly=True, copy=False
    )
    state = fields.Selection(LINK_STATES, default="pending", required=True, index=True)
    error_message = fields.Text(readonly=True)
    last_export_at = fields.Datetime(readonly=True, copy=False)

    _backend_move_uniq = models.Constraint(
        "UNIQUE(backend_id, move_id)", "A bill is linked once per connection."
    )
    _backend_external_uniq = models.Constraint(
        "UNIQUE(backend_id, external_invoice_id)", "External invoice ids are unique."
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("external_invoice_id"):
                backend = self.env["avidxchange.backend"].browse(vals["backend_id"])
                vals["external_invoice_id"] = f"ODOO-{backend.company_id.id}-{vals['move_id']}"
        return super().create(vals_list)

    # === ACTION METHODS === #

    def action_export_now(self):
        """Submit these bills now (a manual retry of failed ones included)."""
        to_send = self.filtered(lambda link: link.state != "synced")
        for backend, links in to_send.grouped("backend_id").items():
            links.state = "pending"
            backend._export_now(links, "bill_export")
        return True

    # === BUSINESS METHODS === #

    def _export(self, client):
        """Submit each bill (its GL codes, vendor and purchase orders first);
        mark it exported or in error.

        Errors that concern every bill alike (credentials, AvidXchange down)
        stop the batch and leave the rest pending for the next cycle.
        """
        Log = self.env["avidxchange.exchange.log"]
        PurchaseLink = self.env["avidxchange.purchase.link"]
        self._export_gl_codes(client)
        # one connection's links (see backend._send_links): link their vendors at once
        vendor_links = {
            vendor_link.partner_id: vendor_link
            for vendor_link in self.backend_id._link_vendors(self.move_id.partner_id)
        }
        for link in self:
            backend = link.backend_id
            try:
                vendor_link = vendor_links[link.move_id.partner_id.commercial_partner_id]
                vendor_code = link._ensure_vendor(vendor_link, client)
                orders = link.move_id.invoice_line_ids.purchase_line_id.order_id
                if orders:
                    PurchaseLink._export_orders(backend, orders, vendor_code, client)
                payload = link._prepare_payload(vendor_code)
                # the vendor's and orders' exports (if any) were recorded against them
                client.recorder = Log._recorder(backend, "bill_export", link.move_id)
                answer, known = client.submit_invoice(payload)
            except (AuthenticationError, RetryableError) as error:
                link.error_message = str(error)
                raise
            except (UserError, AvidXchangeError) as error:  # this bill only: go on
                link.write(
                    {
                        "state": "error",
                        "error_message": error.args[0],
                        "last_export_at": fields.Datetime.now(),
                    }
                )
                continue
            link.write(
                {
                    "state": "synced",
                    "avidxchange_id": answer["Id"],
                    "avidxchange_status": answer.get("Status")
                    if answer.get("Status") in const.INVOICE_STATUSES
                    else False,
                    "error_message": False,
                    "last_export_at": fields.Datetime.now(),
                }
            )
            link.move_id._message_log(
                body=self.env._(
                    "AvidXchange already had this bill: linked to its invoice %s.", answer["Id"]
                )
                if known
                else self.env._("Submitted to AvidXchange as invoice %s.", answer["Id"])
            )

    def _export_gl_codes(self, client):
        """The accounts these bills are coded with, as enterprise codes, first.

        A refused batch is no reason to hold the bills back: AvidXchange then
        refuses a bill whose code it lacks, with a reason on that bill.
        """
        accounts = self.move_id.line_ids.filtered(
            lambda line: line.display_type in ("product", "tax")
        ).account_id
        backend = self.backend_id  # one connection's links: see backend._send_links
        try:
            self.env["avidxchange.account.link"]._export_accounts(backend, accounts, client)
        except (PermanentError, InvalidResponseError) as error:
            _logger.warning("AvidXchange did not take the GL codes: %s", error)

    def _ensure_vendor(self, vendor_link, client):
        """AvidXchange refuses a bill of an unknown vendor: export it first."""
        self.ensure_one()
        vendor_link._queue()
        if vendor_link.state == "pending":
            vendor_link._export(client)
        if vendor_link.state != "synced":
            raise UserError(
                self.env._("The vendor could not be exported: %s", vendor_link.error_message or "-")
            )
        return vendor_link.external_code

    # === PRIVATE HELPERS === #

    def _prepare_payload(self, vendor_code):
        """The bill as the contract's ``POST /invoices`` body.

        Each invoice line is a distribution coded with its account; taxes are
        distributions of their own, coded with the tax account. Amounts are in
        the bill's currency and add up to its total.
        """
        self.ensure_one()
        move = self.move_id
        if move.state != "posted" or move.move_type != "in_invoice":
            raise UserError(self.env._("Only posted vendor bills are exported."))
        if not move.invoice_date:
            raise UserError(self.env._("The bill has no bill date."))
        currency = move.currency_id
        distributions = []
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            distributions.append(self._distribution(line.price_subtotal, line.name, line))
        for line in move.line_ids.filtered(lambda line: line.display_type == "tax"):
            distributions.append(self._distribution(line.amount_currency, line.name, line))
        distributions = [d for d in distributions if d["Amount"]]
        total = money(move.amount_total, currency)
        if distributions:
            # Rounding each line may leave a cent; the largest line absorbs it.
            gap = money(total - sum(d["Amount"] for d in distributions), currency)
            if gap:
                largest = max(distributions, key=lambda d: abs(d["Amount"]))
                largest["Amount"] = money(largest["Amount"] + gap, currency)
        return compact(
            {
                "ExternalInvoiceId": self.external_invoice_id,
                "Number": move.ref or move.name,
                "InvoiceDate": fields.Date.to_string(move.invoice_date),
                "InvoiceDueDate": fields.Date.to_string(move.invoice_date_due),
                "GrossAmount": total,
                "Currency": currency.name,
                "PONumber": move.invoice_origin,
                "Memo": move.payment_reference,
                "BuyerVendor": {"VendorExternalSystemID": vendor_code},
                "Distributions": distributions,
            }
        )

    def _distribution(self, amount, description, line):
        return compact(
            {
                "Amount": money(amount, line.currency_id),
                "Description": (description or "").strip()[:250] or None,
                "EnterpriseCodes": [
                    {
                        "GroupName": const.GL_ACCOUNT_CODE_GROUP,
                        "EnterpriseCodeValue": line.account_id.code,
                    }
                ]
                if line.account_id.code
                else None,
            }
        )


def money(amount, currency):
    """A JSON number with the currency's precision (two decimals at most)."""
    return float_round(amount, precision_digits=min(currency.decimal_places, 2))
