from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.exceptions import AuthenticationError, AvidXchangeError, RetryableError
from ..tools.payload import compact, fingerprint

LINK_STATES = [
    ("pending", "To export"),
    ("synced", "Exported"),
    ("error", "Error"),
]


class AvidxchangePartnerLink(models.Model):
    """A vendor as AvidXchange knows it: the binding between a partner and its
    AvidXchange vendor, with what was last sent.

    ``payload_hash`` is the hash of the last payload attempted; a vendor whose
    payload did not change is never sent again, however often the high-water
    mark sees it.
    """

    _name = "avidxchange.partner.link"
    _description = "AvidXchange Vendor Link"
    _check_company_auto = True
    _order = "id desc"
    _rec_name = "partner_id"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", string="Vendor", required=True, ondelete="cascade", index=True
    )
    external_code = fields.Char(
        string="External Vendor Code", required=True, readonly=True, copy=False
    )
    avidxchange_id = fields.Char(string="AvidXchange ID", readonly=True, copy=False)
    state = fields.Selection(LINK_STATES, default="pending", required=True, index=True)
    error_message = fields.Text(readonly=True)
    payload_hash = fields.Char(readonly=True, copy=False)
    last_export_at = fields.Datetime(readonly=True, copy=False)

    _backend_partner_uniq = models.Constraint(
        "UNIQUE(backend_id, partner_id)", "A vendor is linked once per connection."
    )
    _backend_code_uniq = models.Constraint(
        "UNIQUE(backend_id, external_code)", "External vendor codes are unique per connection."
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("external_code"):
                backend = self.env["avidxchange.backend"].browse(vals["backend_id"])
                vals["external_code"] = f"ODOO-{backend.company_id.id}-{vals['partner_id']}"
        return super().create(vals_list)

    # === ACTION METHODS === #

    def action_export_now(self):
        """Export these vendors now (a manual retry of failed ones included)."""
        for backend, links in self.grouped("backend_id").items():
            links.write({"state": "pending", "payload_hash": False})
            backend._export_now(links, "vendor_export")
        return True

    # === BUSINESS METHODS === #

    def _queue(self):
        """Mark for export the links whose vendor changed since the last attempt."""
        for link in self:
            if link.state != "pending" and link.payload_hash != link._payload_hash(False):
                link.state = "pending"

    def _export(self, client):
        """Send each vendor; mark it exported or in error, and go on.

        Stops (and re-raises) on errors that concern every record alike: the
        credentials, or AvidXchange being unreachable after all retries; the
        links not yet sent stay pending for the next cycle.
        """
        Log = self.env["avidxchange.exchange.log"]
        for link in self:
            client.recorder = Log._recorder(link.backend_id, "vendor_export", link.partner_id)
            try:
                payload = link._prepare_payload()
                answer = client.put_vendor(link.external_code, payload)
            except (AuthenticationError, RetryableError) as error:
                link.error_message = str(error)
                raise
            except (UserError, AvidXchangeError) as error:  # this vendor only: go on
                link._mark_error(error, payload_hash=link._payload_hash(raise_error=False))
                continue
            link.write(
                {
                    "state": "synced",
                    "avidxchange_id": answer["Id"],
                    "payload_hash": fingerprint(payload),
                    "error_message": False,
                    "last_export_at": fields.Datetime.now(),
                }
            )

    def _mark_error(self, error, payload_hash=False):
        message = error.args[0] if isinstance(error, UserError) else str(error)
        self.write(
            {
                "state": "error",
                "error_message": message,
                "payload_hash": payload_hash,
                "last_export_at": fields.Datetime.now(),
            }
        )

    # === PRIVATE HELPERS === #

    def _prepare_payload(self):
        """The vendor as the contract's ``PUT /vendors/{code}`` body.

        Optional values that are empty are left out: AvidXchange wants them
        absent, never ``false`` or ``""``.
        """
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        if not partner.name or not partner.name.strip():
            raise UserError(self.env._("The vendor has no name."))
        address = compact(
            {
                "Line1": partner.street,
                "Line2": partner.street2,
                "City": partner.city,
                "State": partner.state_id.code,
                "PostalCode": partner.zip,
                "Country": partner.country_id.code,
            }
        )
        return compact(
            {
                "ExternalVendorCode": self.external_code,
                "Name": partner.name.strip(),
                "NameOnCheck": partner.name.strip(),
                "FedTaxId": partner.vat,
                "Email": partner.email,
                "Telephone1": partner.phone,
                "Website": partner.website,
                "Active": bool(partner.active),
                "Address": address or None,
            },
            booleans=("Active",),
        )

    def _payload_hash(self, raise_error=True):
        try:
            return fingerprint(self._prepare_payload())
        except UserError:
            if raise_error:
                raise
            return False
