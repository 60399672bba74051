from odoo import api, fields, models

from .. import const
from ..tools.payload import fingerprint
from .avidxchange_partner_link import LINK_STATES


class AvidxchangeAccountLink(models.Model):
    """A GL account as AvidXchange knows it: an enterprise code of the group
    ``Accounting Codes``.

    Bills travel with their lines coded by account; AvidXchange codes and
    validates them against its enterprise codes, so the accounts a bill uses
    are sent before the bill, in one batch per export, and again only when
    their code, name or active flag changed.
    """

    _name = "avidxchange.account.link"
    _description = "AvidXchange GL Code Link"
    _check_company_auto = True
    _order = "code"
    _rec_name = "code"

    backend_id = fields.Many2one(
        "avidxchange.backend", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    account_id = fields.Many2one("account.account", required=True, ondelete="cascade", index=True)
    code = fields.Char(readonly=True)
    state = fields.Selection(LINK_STATES, default="pending", required=True, index=True)
    error_message = fields.Text(readonly=True)
    payload_hash = fields.Char(readonly=True, copy=False)
    last_export_at = fields.Datetime(readonly=True, copy=False)

    _backend_account_uniq = models.Constraint(
        "UNIQUE(backend_id, account_id)", "An account is linked once per connection."
    )

    # === BUSINESS METHODS === #

    @api.model
    def _export_accounts(self, backend, accounts, client):
        """Send the codes of ``accounts`` that AvidXchange lacks or that changed,
        in one batch; each code succeeds or fails on its own."""
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("account_id", "in", accounts.ids)]
        )
        missing = accounts - existing.account_id
        links = existing | self.sudo().create(
            [{"backend_id": backend.id, "account_id": account.id} for account in missing]
        )
        company_links = links.with_company(backend.company_id)
        to_send = company_links.filtered(
            lambda link: link.account_id.code and link.payload_hash != link._payload_hash()
        )
        if not to_send:
            return
        client.recorder = self.env["avidxchange.exchange.log"]._recorder(backend, "code_export")
        payloads = [link._prepare_payload() for link in to_send]
        results = client.put_enterprise_codes(payloads)
        now = fields.Datetime.now()
        for link, payload, result in zip(to_send, payloads, results, strict=True):
            link.write(
                {
                    "code": payload["CodeValue"],
                    "state": "synced" if result.successful else "error",
                    "error_message": False if result.successful else "; ".join(result.errors),
                    "payload_hash": fingerprint(payload),
                    "last_export_at": now,
                }
            )

    # === PRIVATE HELPERS === #

    def _prepare_payload(self):
        self.ensure_one()
        account = self.account_id
        return {
            "GroupName": const.GL_ACCOUNT_CODE_GROUP,
            "CodeValue": account.code,
            "Description": account.name,
            "IsActive": bool(account.active),
        }

    def _payload_hash(self):
        return fingerprint(self._prepare_payload())
