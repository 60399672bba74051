from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools.exceptions import InvalidResponseError, PermanentError
from ..tools.locks import create_unless_taken, lock_available
from ..tools.payload import fingerprint
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
GL_CODES = StreamKind(
    "gl_code", _lt("GL Codes"), order=10, interval=60, batch=200, cron="export_records"
)


class AvidxchangeAccountLink(models.Model):
    """A GL account (an enterprise code of ``const.GL_ACCOUNT_CODE_GROUP``)
    or an analytic account (a code of its plan's group) as AvidXchange knows
    it, and the GL code stream, which sends both.

    Bills travel with their lines coded by account and analytic distribution;
    AvidXchange codes and validates them against its enterprise codes, so the
    codes a bill uses are sent before the bill, in one batch per export. The
    stream then keeps them current: a linked account whose code, name or
    active flag changed is sent again.
    """

    _name = "avidxchange.account.link"
    _inherit = ["avidxchange.link.mixin"]
    _description = "AvidXchange Enterprise Code Link"
    _order = "code"
    _rec_name = "code"
    _avidxchange_record_field = "account_id"
    _avidxchange_kind = GL_CODES

    account_id = fields.Many2one("account.account", ondelete="cascade", index=True)
    analytic_account_id = fields.Many2one(
        "account.analytic.account", ondelete="cascade", index="btree_not_null"
    )
    group_name = fields.Char(string="Group", readonly=True)
    code = fields.Char(readonly=True)

    _backend_account_uniq = models.Constraint(
        "UNIQUE(backend_id, account_id)", "An account is linked once per connection."
    )
    _backend_analytic_uniq = models.Constraint(
        "UNIQUE(backend_id, analytic_account_id)",
        "An analytic account is linked once per connection.",
    )
    _one_account = models.Constraint(
        "CHECK((account_id IS NULL) != (analytic_account_id IS NULL))",
        "A code link binds a GL account or an analytic account.",
    )

    # === BUSINESS METHODS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Queue the linked accounts written since the mark, then send up to
        ``batch_size`` waiting codes in one batch."""
        backend = stream.backend_id
        now = self._avidxchange_mark_moment()
        linked = self.search([("backend_id", "=", backend.id)])
        changed = {}
        for field in ("account_id", "analytic_account_id"):
            records = linked[field]
            domain = self._avidxchange_written_since([("id", "in", records.ids)], stream.mark)
            changed[field] = records.sudo().with_context(active_test=False).search(domain)
        links = linked.filtered(
            lambda link: (
                link.account_id in changed["account_id"]
                or link.analytic_account_id in changed["analytic_account_id"]
            )
        )
        return self._avidxchange_queue_and_send(
            stream, links.with_company(backend.company_id), now, batch_size
        )

    @api.model
    def _export_accounts(self, backend, accounts, client):
        """Before bills: send the codes of ``accounts`` (GL and analytic
        accounts) that AvidXchange lacks or that changed, in one batch.
        Returns those whose codes the GL code stream holds right now: their
        bills wait for the next run."""
        field = {"account.account": "account_id", "account.analytic.account": "analytic_account_id"}
        existing, missing = self.sudo(), []
        for records in accounts:
            if not records:
                continue
            name = field[records._name]
            found = self.sudo().search([("backend_id", "=", backend.id), (name, "in", records.ids)])
            existing |= found
            missing += [{"backend_id": backend.id, name: r.id} for r in records - found[name]]
        # codes the GL code stream is sending right now are its own to record
        locked = lock_available(existing - existing._avidxchange_being_sent())
        created = create_unless_taken(self.sudo(), missing)
        links = (locked | created).with_company(backend.company_id)
        links._avidxchange_queue()
        links.filtered(lambda link: link.state == "pending")._avidxchange_send_with(client)
        return [records - links[field[records._name]] for records in accounts]

    def _avidxchange_send_with(self, client):
        """Send these codes in one batch; each succeeds or fails on its own,
        and a batch AvidXchange refuses whole marks them all in error (they
        go again when they change, or when the failed exchange is replayed)."""
        to_send = self.filtered(lambda link: link._code()["EnterpriseCodeValue"])
        if not to_send:
            return
        payloads = [link._avidxchange_payload() for link in to_send]
        # a batch concerns many accounts: its exchange belongs to the stream
        try:
            with client.recording("gl_code", self.backend_id._stream("gl_code")):
                results = client.put_enterprise_codes(payloads)
        except (PermanentError, InvalidResponseError) as error:
            for link, payload in zip(to_send, payloads, strict=True):
                link._mark_error(error, payload_hash=fingerprint(payload))
            return
        for link, payload, result in zip(to_send, payloads, results, strict=True):
            link.write({"group_name": payload["GroupName"], "code": payload["CodeValue"]})
            if result.successful:
                link._mark_synced(payload)
            else:
                link._mark_error(
                    UserError("; ".join(result.errors)), payload_hash=fingerprint(payload)
                )

    # === PRIVATE HELPERS === #

    def _avidxchange_payload(self):
        self.ensure_one()
        # Analytic plans are read with sudo: the sync's user needs no analytic
        # rights for their names, which are codes, not secrets.
        account = self.account_id or self.analytic_account_id.sudo()
        code = self._code()
        return {
            "GroupName": code["GroupName"],
            "CodeValue": code["EnterpriseCodeValue"],
            "Description": account.name,
            "IsActive": bool(account.active),
        }

    def _code(self):
        self.ensure_one()
        if self.account_id:
            return self._code_of_account(self.account_id)
        return self._code_of_analytic(self.analytic_account_id)

    @api.model
    def _code_of_account(self, account):
        """How a bill line's GL account is coded: ``{GroupName, EnterpriseCodeValue}``."""
        return {"GroupName": const.GL_ACCOUNT_CODE_GROUP, "EnterpriseCodeValue": account.code}

    @api.model
    def _code_of_analytic(self, account):
        """How an analytic account is coded: its plan (the top one, as Odoo
        splits distributions by it) is the group, its reference or else its
        name the code."""
        account = account.sudo()  # see _avidxchange_payload
        return {
            "GroupName": account.root_plan_id.name or account.plan_id.name,
            "EnterpriseCodeValue": account.code or account.name,
        }
