from odoo import Command, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools.notify import notification


class AvidxchangeActivation(models.TransientModel):
    """Activating connections, as a step of its own (as ``account_peppol``'s
    registration wizard registers a company): what must hold before the
    sync starts, and what activation sets up for it.

    The checks: every setting the sync needs is filled in (credentials, the
    payment journal, a Responsible, who the constraint on the connection
    makes a person), the user the sync runs as may work in the company, and
    AvidXchange accepts the credentials (the test also notes, or checks, the
    database the connection speaks for: a copy activates nothing). Then the
    provisioning: the integration user's companies, the clearing account,
    one payment method per AvidXchange method, and the first bill date.
    The connection's *Activate* runs it (``avidxchange.backend.action_activate``).
    """

    _name = "avidxchange.activation"
    _description = "AvidXchange Connection Activation"

    backend_ids = fields.Many2many("avidxchange.backend", string="Connections", required=True)

    # === ACTION METHODS === #

    def action_activate(self):
        """Check and set up each connection, then activate them all: one
        refused, none is."""
        self.ensure_one()
        backends = self.backend_ids
        backends._check_admin_access()
        for backend in backends:
            backend = backend.with_company(backend.company_id)
            self._check_ready(backend)
            self._provision(backend)
        backends.state = "active"
        return self._notify(backends)

    # === BUSINESS METHODS === #

    def _check_ready(self, backend):
        """Refuse, in words, a connection the sync could not run."""
        missing = self._missing_settings(backend)
        if missing:
            raise UserError(self.env._("Before activating, fill in: %s.", ", ".join(missing)))
        backend._grant_integration_user_companies()
        self._check_sync_user(backend)
        ok, message = backend._check_connection()
        if not ok:
            raise UserError(message)

    def _provision(self, backend):
        """What an active connection needs and a person may change after."""
        self._ensure_clearing_account(backend)
        self._ensure_method_mappings(backend)
        if not backend.bill_date_from:
            # Not every open bill in history: those from today on.
            backend.bill_date_from = fields.Date.context_today(backend)

    def _notify(self, backends):
        """Say what activation starts: how many open bills now go, and how
        many older ones stay (``bill_date_from`` moves earlier to send them)."""
        InvoiceLink = self.env["avidxchange.invoice.link"]
        messages = []
        for backend in backends:
            Move = backend._in_scope("account.move")
            going = Move.search_count(InvoiceLink._scope_domain(backend))
            older = Move.search_count(InvoiceLink._scope_domain(backend, dated=False)) - going
            messages.append(
                self.env._(
                    "%(name)s is active: %(going)s open bills dated from %(date)s go to "
                    "AvidXchange with the next bill sync; %(older)s older ones stay in Odoo "
                    "(set Bills Dated From earlier to send them).",
                    name=backend.name,
                    going=going,
                    date=backend.bill_date_from.strftime("%x"),
                    older=older,
                )
            )
        return notification(self.env._("AvidXchange connection"), "\n".join(messages))

    # === PRIVATE HELPERS === #

    def _missing_settings(self, backend):
        saved = backend.sudo()
        required = [
            (saved.client_id, self.env._("Client ID")),
            (saved.has_client_secret, self.env._("Client Secret")),
            (saved.avidxchange_company_id, self.env._("AvidXchange Company ID")),
            (saved.journal_id, self.env._("Payment Journal")),
            (
                saved.responsible_user_id,
                self.env._("Responsible (who is told when something fails)"),
            ),
        ]
        return [label for value, label in required if not value]

    def _check_sync_user(self, backend):
        user = backend._sync_user()
        if not user or backend.company_id not in user.sudo().company_ids:
            raise UserError(
                self.env._(
                    "The sync runs as %(user)s, who may not work in %(company)s: add the "
                    "company to the user's allowed companies, or choose another user.",
                    user=user.name or "?",
                    company=backend.company_id.name,
                )
            )

    def _ensure_clearing_account(self, backend):
        """Propose the account AvidXchange payments wait in (see
        ``clearing_account_id``) when none is set: a reconcilable current
        asset, numbered after the company's outstanding payments account."""
        if backend.clearing_account_id:
            return
        company = backend.company_id
        Account = self.env["account.account"].with_company(company)
        outstanding = (
            self.env["account.payment"]
            .with_company(company)
            .new({"company_id": company.id})
            ._get_outstanding_account("outbound")
        )
        # an AvidXchange administrator need not be an accounting one: proposed for them
        backend.clearing_account_id = Account.sudo().create(
            {
                "name": self.env._("AvidXchange Clearing"),
                "code": Account._search_new_account_code(outstanding.code),
                "account_type": "asset_current",
                "reconcile": True,
            }
        )
        backend.message_post(
            body=self.env._(
                "Payments made through AvidXchange now wait in account %s until the bank "
                "statement shows them (Accounting tab: choose another if you prefer).",
                backend.clearing_account_id.display_name,
            )
        )

    def _ensure_method_mappings(self, backend):
        """Propose a payment method of the payment journal for each
        AvidXchange method not mapped yet ("AvidXchange ACH"...), so that the
        Odoo payments say how AvidXchange paid, not "Manual Payment"."""
        journal = backend.journal_id
        mapped = set(backend.payment_method_mapping_ids.mapped("avidxchange_method"))
        missing = [code for code in const.PAYMENT_METHODS if code not in mapped]
        manual = self.env.ref("account.account_payment_method_manual_out", raise_if_not_found=False)
        if not journal or not missing or not manual:
            return
        Line = self.env["account.payment.method.line"].sudo()
        lines = Line.create(
            [
                {
                    "name": self.env._("AvidXchange %s", const.PAYMENT_METHODS[code]),
                    "payment_method_id": manual.id,
                    "journal_id": journal.id,
                }
                for code in missing
            ]
        )
        backend.payment_method_mapping_ids = [
            Command.create({"avidxchange_method": code, "payment_method_line_id": line.id})
            for code, line in zip(missing, lines, strict=True)
        ]
