from odoo import api, fields, models

from ..tools.exceptions import AuthenticationError, AvidXchangeError, RetryableError
from ..tools.payload import compact, fingerprint
from .avidxchange_invoice_link import money
from .avidxchange_partner_link import LINK_STATES


class AvidxchangePurchaseLink(models.Model):
    """A purchase order as AvidXchange knows it, for invoice-to-PO matching.

    A bill created from purchase orders sends them first (``PUT`` is an
    upsert), and again only when what AvidXchange matches on changed:
    quantities ordered and received, prices, status.
    """

    _name = "avidxchange.purchase.link"
    _description = "AvidXchange Purchase Order Link"
    _check_company_auto = True
    _order = "id desc"
    _rec_name = "order_id"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    order_id = fields.Many2one(
        "purchase.order", string="Purchase Order", required=True, ondelete="cascade", index=True
    )
    state = fields.Selection(LINK_STATES, default="pending", required=True, index=True)
    error_message = fields.Text(readonly=True)
    payload_hash = fields.Char(readonly=True, copy=False)
    last_export_at = fields.Datetime(readonly=True, copy=False)

    _backend_order_uniq = models.Constraint(
        "UNIQUE(backend_id, order_id)", "A purchase order is linked once per connection."
    )

    # === BUSINESS METHODS === #

    @api.model
    def _export_orders(self, backend, orders, vendor_code, client):
        """Send the orders AvidXchange lacks or that changed. A refused order is
        marked with the reason; its bill still goes (it names the PO anyway)."""
        Log = self.env["avidxchange.exchange.log"]
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("order_id", "in", orders.ids)]
        )
        links = existing | self.sudo().create(
            [
                {"backend_id": backend.id, "order_id": order.id}
                for order in orders - existing.order_id
            ]
        )
        for link in links:
            payload = link._prepare_payload(vendor_code)
            if link.payload_hash == fingerprint(payload) and link.state == "synced":
                continue
            client.recorder = Log._recorder(backend, "po_export", link.order_id)
            values = {"payload_hash": fingerprint(payload), "last_export_at": fields.Datetime.now()}
            try:
                client.put_purchase_order(link.order_id.name, payload)
            except (AuthenticationError, RetryableError):
                raise
            except AvidXchangeError as error:
                link.write({**values, "state": "error", "error_message": str(error)})
            else:
                link.write({**values, "state": "synced", "error_message": False})

    # === PRIVATE HELPERS === #

    def _prepare_payload(self, vendor_code):
        """The order as the contract's ``PUT /purchaseOrders/{code}`` body."""
        self.ensure_one()
        order = self.order_id
        currency = order.currency_id
        lines = order.order_line.filtered(lambda line: not line.display_type)
        done = order.state in ("done", "cancel") or all(
            line.qty_invoiced >= line.product_qty for line in lines
        )
        return compact(
            {
                "ExternalPurchaseOrderCode": order.name,
                "VendorExternalSystemID": vendor_code,
                "OrderDate": fields.Date.to_string(order.date_order),
                "Currency": currency.name,
                "Total": money(order.amount_total, currency),
                "Status": "Closed" if done else "Open",
                "Lines": [
                    compact(
                        {
                            "LineNumber": number,
                            "Description": (line.name or "").strip()[:250] or None,
                            "Quantity": line.product_qty,
                            "UnitPrice": line.price_unit,
                            "Amount": money(line.price_subtotal, currency),
                            "QuantityReceived": line.qty_received,
                        }
                    )
                    for number, line in enumerate(lines, start=1)
                ],
            }
        )
