from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from ..tools.secret_box import SecretBox, SecretBoxError, configured_keys

MANAGER = "account_avidxchange.group_avidxchange_manager"


class AvidxchangeBackend(models.Model):
    """The connection's client secret at rest: written through a field that
    never reads back, kept encrypted with a key from the server
    configuration (never the database), re-encrypted after a key rotation."""

    _inherit = "avidxchange.backend"

    client_secret = fields.Char(
        compute="_compute_client_secret",
        inverse="_inverse_client_secret",
        groups=MANAGER,
        exportable=False,
        help="Stored encrypted with the server's key; never shown again once saved.",
    )
    client_secret_encrypted = fields.Char(
        groups="base.group_system", copy=False, exportable=False, readonly=True
    )
    has_client_secret = fields.Boolean(string="Secret Saved", readonly=True, copy=False)
    encryption_ready = fields.Boolean(compute="_compute_encryption_ready")

    # === COMPUTE METHODS === #

    def _compute_client_secret(self):
        # Write-only: the secret is never read back into a form.
        self.client_secret = False

    def _inverse_client_secret(self):
        for backend in self.filtered("client_secret"):
            try:
                ciphertext = self._secret_box().encrypt(backend.client_secret)
            except SecretBoxError as error:
                raise UserError(str(error)) from None
            backend.sudo().write({"client_secret_encrypted": ciphertext, "has_client_secret": True})
            backend.message_post(body=self.env._("The client secret was changed."))

    def _compute_encryption_ready(self):
        ready = bool(configured_keys(config))
        for backend in self:
            backend.encryption_ready = ready

    # === ACTION METHODS === #

    def action_reencrypt_secrets(self):
        """Re-encrypt every stored secret with the first configured key, after a
        key rotation. Records are checked first, so nothing is half-rotated.
        A server-wide operation: the server administrator's."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only the server administrator can re-encrypt secrets."))
        box = self._secret_box()
        backends = (
            self.sudo()
            .with_context(active_test=False)
            .search([("client_secret_encrypted", "!=", False)])
        )
        try:
            rotated = {b: box.rotate(b.client_secret_encrypted) for b in backends}
        except SecretBoxError as error:
            raise UserError(str(error)) from None
        for backend, ciphertext in rotated.items():
            backend.client_secret_encrypted = ciphertext
        return True

    # === BUSINESS METHODS === #

    def _decrypted_secret(self):
        """The client secret, for the client of one cycle; UserError when no
        configured key opens it."""
        self.ensure_one()
        try:
            return self._secret_box().decrypt(self.sudo().client_secret_encrypted)
        except SecretBoxError as error:
            raise UserError(str(error)) from None

    # === PRIVATE HELPERS === #

    def _secret_box(self):
        try:
            return SecretBox(configured_keys(config))
        except SecretBoxError as error:
            raise UserError(str(error)) from None
