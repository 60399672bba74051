from odoo import api, fields, models

from .. import const
from ..tools.exceptions import InvalidResponseError, PermanentError
from ..tools.locks import create_unless_taken, lock_available
from ..tools.payload import fingerprint


class AvidxchangeAccountLink(models.Model):
    """A GL account as AvidXchange knows it (an enterprise code of the group
    ``Accounting Codes``), and the GL code stream.

    Bills travel with their lines coded by account; AvidXchange codes and
    validates them against its enterprise codes, so the accounts a bill uses
    are sent before the bill, in one batch per export. The stream then keeps
    them current: a linked account whose code, name or active flag changed is
    sent again.
    """

    _name = "avidxchange.account.link"
    _inherit = ["avidxchange.link.mixin"]
    _description = "AvidXchange GL Code Link"
    _order = "code"
    _rec_name = "code"
    _avidxchange_record_field = "account_id"

    account_id = fields.Many2one("account.account", required=True, ondelete="cascade", index=True)
    code = fields.Char(readonly=True)

    _backend_account_uniq = models.Constraint(
        "UNIQUE(backend_id, account_id)", "An account is linked once per connection."
    )

    # === BUSINESS METHODS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Queue the linked accounts written since the mark, then send up to
        ``batch_size`` waiting codes in one batch."""
        backend = stream.backend_id
        now = self._avidxchange_mark_moment()
        linked = self.search([("backend_id", "=", backend.id)])
        domain = self._avidxchange_written_since([("id", "in", linked.account_id.ids)], stream.mark)
        changed = self.env["account.account"].with_context(active_test=False).search(domain)
        links = linked.filtered(lambda link: link.account_id in changed)
        return self._avidxchange_queue_and_send(
            stream, links.with_company(backend.company_id), now, batch_size
        )

    @api.model
    def _export_accounts(self, backend, accounts, client):
        """Before bills: send the codes of ``accounts`` that AvidXchange lacks
        or that changed, in one batch. Returns the accounts whose codes the
        GL code stream holds right now: their bills wait for the next run."""
        existing = self.sudo().search(
            [("backend_id", "=", backend.id), ("account_id", "in", accounts.ids)]
        )
        locked = lock_available(existing)
        missing = accounts - existing.account_id
        created = create_unless_taken(
            self.sudo(), [{"backend_id": backend.id, "account_id": a.id} for a in missing]
        )
        links = (locked | created).with_company(backend.company_id)
        links._queue()
        links.filtered(lambda link: link.state == "pending")._export(client)
        return accounts - links.account_id

    def _export(self, client):
        """Send these codes in one batch; each succeeds or fails on its own,
        and a batch AvidXchange refuses whole marks them all in error (they
        go again when they change, or when the failed exchange is replayed)."""
        to_send = self.filtered(lambda link: link.account_id.code)
        if not to_send:
            return
        payloads = [link._prepare_payload() for link in to_send]
        # a batch concerns many accounts: its exchange belongs to the stream
        try:
            with client.recording("code_export", self.backend_id._stream("gl_code")):
                results = client.put_enterprise_codes(payloads)
        except (PermanentError, InvalidResponseError) as error:
            for link, payload in zip(to_send, payloads, strict=True):
                link._mark_error(error, payload_hash=fingerprint(payload))
            return
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
