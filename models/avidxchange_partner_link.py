from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools.exceptions import AuthenticationError, AvidXchangeError, RetryableError
from ..tools.locks import create_unless_taken
from ..tools.payload import compact
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
VENDORS = StreamKind(
    "vendor", _lt("Vendors"), order=20, interval=60, batch=100, cron="export_records"
)


class AvidxchangePartnerLink(models.Model):
    """A vendor as AvidXchange knows it, and the vendor stream.

    ``payload_hash`` is the hash of the last payload attempted; a vendor whose
    payload did not change is never sent again, however often the high-water
    mark sees it.
    """

    _name = "avidxchange.partner.link"
    _inherit = ["avidxchange.link.mixin"]
    _description = "AvidXchange Vendor Link"
    _rec_name = _avidxchange_record_field = "partner_id"  # named after the record it links
    _avidxchange_kind = VENDORS
    _avidxchange_external_id_field = "external_code"

    partner_id = fields.Many2one(
        "res.partner", string="Vendor", required=True, ondelete="cascade", index=True
    )
    external_code = fields.Char(
        string="External Vendor Code", required=True, readonly=True, copy=False
    )
    avidxchange_id = fields.Char(string="AvidXchange ID", readonly=True, copy=False)

    _backend_partner_uniq = models.Constraint(
        "UNIQUE(backend_id, partner_id)", "A vendor is linked once per connection."
    )
    _backend_code_uniq = models.Constraint(
        "UNIQUE(backend_id, external_code)", "External vendor codes are unique per connection."
    )

    # === BUSINESS METHODS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Queue the in-scope vendors written since the mark, then send up to
        ``batch_size`` waiting ones; returns ``(sent, still waiting)``. The
        mark stays where it is while a link is busy elsewhere, so its change
        is seen by the next run."""
        backend = stream.backend_id
        now = self._avidxchange_mark_moment()
        mark = False if stream._take_rescan() else stream.mark
        companies = backend._scope_companies()  # once for the domain and the rules
        domain = self._avidxchange_written_since(self._scope_domain(backend, companies), mark)
        Partner = backend._in_scope("res.partner", companies)
        partners = Partner.with_context(active_test=False).search(domain)  # archiving is news
        links = self._link_vendors(backend, partners)
        return self._avidxchange_queue_and_send(stream, links, now, batch_size)

    @api.model
    def _link_vendors(self, backend, partners):
        """The links of ``partners`` (commercial entities), created as needed
        (but for those another stream has just created: see ``create_unless_taken``)."""
        Link = self.sudo()
        partners = partners.commercial_partner_id
        links = Link.search([("backend_id", "=", backend.id), ("partner_id", "in", partners.ids)])
        missing = partners - links.partner_id
        links |= create_unless_taken(
            Link, [{"backend_id": backend.id, "partner_id": partner.id} for partner in missing]
        )
        return links.sudo(False)

    @api.model
    def _avidxchange_links_of(self, backend, records):
        return self._link_vendors(backend, records)

    def _avidxchange_send_with(self, client):
        """Send each vendor; mark it exported or in error, and go on.

        Stops (and re-raises) on errors that concern every record alike: the
        credentials, or AvidXchange being unreachable after all retries; the
        links not yet sent stay pending for the next cycle.
        """
        for link in self:
            try:
                payload = link._avidxchange_payload()
                with client.recording("vendor", link.partner_id):
                    answer = client.put_vendor(link.external_code, payload)
            except (AuthenticationError, RetryableError, AccessError) as error:
                link.error_message = str(error)
                raise
            except (UserError, AvidXchangeError) as error:  # this vendor only: go on
                link._mark_error(
                    error, payload_hash=link._avidxchange_payload_hash(raise_error=False)
                )
                continue
            link._mark_synced(payload, avidxchange_id=answer[const.ANSWER_ID_KEY])

    # === PRIVATE HELPERS === #

    @api.model
    def _scope_domain(self, backend, companies=None):
        """The vendors ``backend`` exports: the marked ones, or every vendor
        (vendors of exported bills always go, with their bills), of its
        ``companies`` (``_scope_companies`` when not given) or shared."""
        if companies is None:
            companies = backend._scope_companies()
        domain = [
            ("company_id", "in", [False, *companies.ids]),
            "|",
            ("is_company", "=", True),
            ("parent_id", "=", False),
        ]
        if backend.vendor_scope == "marked":
            domain.append(("avidxchange_enabled", "=", True))
        else:
            domain.append(("supplier_rank", ">", 0))
        return domain

    def _avidxchange_payload(self):
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
