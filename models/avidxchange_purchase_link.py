from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools.exceptions import AuthenticationError, AvidXchangeError, RetryableError
from ..tools.locks import create_unless_taken, lock_available
from ..tools.payload import compact, money
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
PURCHASE_ORDERS = StreamKind(
    "purchase_order",
    _lt("Purchase Orders"),
    order=30,
    interval=30,
    batch=50,
    cron="export_bills",
)


class AvidxchangePurchaseLink(models.Model):
    """A purchase order as AvidXchange knows it, for invoice-to-PO matching,
    and the purchase order stream.

    A bill created from purchase orders sends them first (``PUT`` is an
    upsert); the stream then sends an order again when what AvidXchange
    matches on changed: quantities ordered and received, prices, status.
    """

    _name = "avidxchange.purchase.link"
    _description = "AvidXchange Purchase Order Link"
    _inherit = ["avidxchange.link.mixin"]
    _rec_name = _avidxchange_record_field = "order_id"  # named after the record it links
    _avidxchange_kind = PURCHASE_ORDERS

    order_id = fields.Many2one(
        "purchase.order", string="Purchase Order", required=True, ondelete="cascade", index=True
    )

    _backend_order_uniq = models.Constraint(
        "UNIQUE(backend_id, order_id)", "A purchase order is linked once per connection."
    )

    # === BUSINESS METHODS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Queue the linked orders written (or whose lines were) since the
        mark, then send up to ``batch_size`` waiting ones."""
        backend = stream.backend_id
        now = self._avidxchange_mark_moment()
        linked = self.search([("backend_id", "=", backend.id)])
        Order = self.env["purchase.order"]
        changed = Order.search(
            self._avidxchange_written_since([("id", "in", linked.order_id.ids)], stream.mark)
        ) | Order.search(
            self._avidxchange_written_since(
                [("id", "in", linked.order_id.ids)], stream.mark, field="order_line.write_date"
            )
        )
        links = linked.filtered(lambda link: link.order_id in changed)
        return self._avidxchange_queue_and_send(stream, links, now, batch_size)

    @api.model
    def _link_orders(self, backend, orders):
        """The links of ``orders`` this transaction may send, created as
        needed; those the stream is sending right now are left to it."""
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("order_id", "in", orders.ids)]
        )
        missing = orders - existing.order_id
        return lock_available(existing) | create_unless_taken(
            self.sudo(), [{"backend_id": backend.id, "order_id": order.id} for order in missing]
        )

    def _export_changed(self, client):
        """Before a bill: send its orders that AvidXchange lacks, that changed,
        or that it refused last time."""
        self._avidxchange_queue()
        self.filtered(lambda link: link.state != "synced")._avidxchange_send_with(client)

    def _avidxchange_send_with(self, client):
        """Send each order. A refused order is marked with the reason; its
        bill still goes (it names the PO anyway)."""
        for link in self:
            try:
                payload = link._avidxchange_payload()
                with client.recording("purchase_order", link.order_id):
                    client.put_purchase_order(link.order_id.name, payload)
            except (AuthenticationError, RetryableError, AccessError):
                raise
            except (UserError, AvidXchangeError) as error:
                link._mark_error(
                    error, payload_hash=link._avidxchange_payload_hash(raise_error=False)
                )
            else:
                link._mark_synced(payload)

    # === PRIVATE HELPERS === #

    def _avidxchange_payload(self):
        """The order as the contract's ``PUT /purchaseOrders/{code}`` body.
        Its vendor is sent before it (with the bill that brought it here)."""
        self.ensure_one()
        order = self.order_id
        vendor_link = (
            self.env["avidxchange.partner.link"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", self.backend_id.id),
                    ("partner_id", "=", order.partner_id.commercial_partner_id.id),
                ]
            )
        )
        if not vendor_link:
            raise UserError(self.env._("The order's vendor is not linked to AvidXchange."))
        vendor_code = vendor_link.external_code
        currency = order.currency_id
        lines = order.order_line.filtered(lambda line: not line.display_type)
        # Odoo 19 has no "done" state: a finished order is locked.
        done = (
            order.state == "cancel"
            or order.locked
            or all(line.qty_invoiced >= line.product_qty for line in lines)
        )
        return compact(
            {
                "ExternalPurchaseOrderCode": order.name,
                "VendorExternalSystemID": vendor_code,
                "OrderDate": fields.Date.to_string(order.date_order),
                "Currency": currency.name,
                "Total": money(order.amount_total, currency),
                "Status": const.PURCHASE_ORDER_CLOSED if done else const.PURCHASE_ORDER_OPEN,
                "Lines": [
                    compact(
                        {
                            "LineNumber": number,
                            "Description": (line.name or "").strip()[:250] or None,
                            "Quantity": line.product_qty,
                            # Odoo may price to more decimals than money has.
                            "UnitPrice": money(line.price_unit, currency),
                            "Amount": money(line.price_subtotal, currency),
                            "QuantityReceived": line.qty_received,
                        }
                    )
                    for number, line in enumerate(lines, start=1)
                ],
            }
        )
