from odoo import api, fields, models

from ..tools.actions import form_action
from ..tools.hosts import environment_urls
from ..tools.notify import notification
from ..tools.secret_box import SecretBoxError

# What the step may change, as the connection names it (the secret aside).
CHANGEABLE = ("environment", "base_url", "token_url", "client_id", "avidxchange_company_id")
# A credential proposed as the connection saved it, to be changed here (no
# default: it would stand for the saved value).
FROM_CONNECTION = {
    "default": None,
    "compute": "_compute_from_backend",
    "store": True,
    "readonly": False,
    "precompute": True,
    "required": True,
}


class AvidxchangeCredentialsChange(models.TransientModel):
    """New credentials for a connection, tested with AvidXchange before they
    replace the saved ones, as bank synchronisation's reconnect does.

    On an active connection this is the only way credentials change (see
    ``avidxchange.backend.write``): a form saves what was typed before its
    button runs, so a candidate secret typed on the connection and tested
    there replaced the working one, and the sync stopped until the right one
    was typed again. Here a refusal is said in words and the saved
    credentials, and the sync, stay as they were.

    The typed secret is kept encrypted like the connection's (a form saves
    this step too before its button runs), read once by the test, then
    forgotten whatever the outcome.
    """

    _name = "avidxchange.credentials.change"
    _description = "Change AvidXchange Credentials"
    _inherit = ["avidxchange.credentials.mixin"]

    backend_id = fields.Many2one(
        "avidxchange.backend", string="Connection", required=True, readonly=True, ondelete="cascade"
    )
    # The credentials (avidxchange.credentials.mixin), proposed as saved.
    environment = fields.Selection(**FROM_CONNECTION)
    client_id = fields.Char(**FROM_CONNECTION)
    avidxchange_company_id = fields.Char(**FROM_CONNECTION)
    client_secret = fields.Char(
        help="Leave empty to keep the saved secret: possible only for the environment, URLs "
        "and client id it was saved for."
    )
    error_message = fields.Text(readonly=True)

    # === COMPUTE METHODS === #

    @api.depends("backend_id")
    def _compute_from_backend(self):
        for wizard in self:
            saved = wizard.backend_id.sudo()
            wizard.environment = saved.environment or "sandbox"
            wizard.client_id = saved.client_id
            wizard.avidxchange_company_id = saved.avidxchange_company_id

    @api.depends("environment", "backend_id")
    def _compute_urls(self):
        """The saved URLs for the saved environment (they may be custom), the
        standard ones of another."""
        for wizard in self:
            saved = wizard.backend_id.sudo()
            if saved and wizard.environment == saved.environment:
                wizard.base_url, wizard.token_url = saved.base_url, saved.token_url
            else:
                wizard.base_url, wizard.token_url = environment_urls(wizard.environment)

    def _inverse_client_secret(self):
        for wizard in self:
            box = wizard._secret_box()
            ciphertext = box.encrypt(wizard.client_secret) if wizard.client_secret else False
            wizard.sudo().client_secret_encrypted = ciphertext

    # === ACTION METHODS === #

    def action_test_and_save(self):
        """Test the credentials with AvidXchange; save them only if it takes
        them. Else say why, in this step, and change nothing."""
        self.ensure_one()
        backend = self.backend_id.with_company(self.backend_id.company_id)
        backend._check_admin_access()
        credentials, typed, missing = self._candidate()
        self.sudo().client_secret_encrypted = False  # read once: never kept
        if missing:
            return self._refuse(missing)
        ok, message = backend._test_credentials(credentials)
        if not ok:
            return self._refuse(message)
        saved = backend._saved_credentials()
        changes = {name: self[name] for name in CHANGEABLE if self[name] != saved[name]}
        if typed:
            changes["client_secret"] = typed
        backend._apply_credentials(changes, message)
        if changes:
            summary = self.env._(
                "%s The new credentials are saved: the sync uses them now.", message
            )
        else:
            summary = self.env._("%s Nothing was changed.", message)
        action = notification(self.env._("AvidXchange credentials"), summary)
        action["params"]["next"] = {"type": "ir.actions.act_window_close"}
        return action

    # === PRIVATE HELPERS === #

    def _candidate(self):
        """``(credentials, typed secret, why not)`` to test: without a typed
        secret, the saved one, only where it was saved for."""
        backend = self.backend_id
        credentials = {name: self[name] for name in CHANGEABLE}
        typed = self._typed_secret()
        if typed:
            return {**credentials, "client_secret": typed}, typed, None
        if not backend.sudo().has_client_secret:
            return credentials, False, self.env._("Enter the client secret.")
        saved = backend._secret_destination(backend._saved_credentials())
        if backend._secret_destination(credentials) != saved:
            return (
                credentials,
                False,
                self.env._(
                    "Enter the client secret: the saved one goes only to the environment, "
                    "URLs and client id it was saved for."
                ),
            )
        return {**credentials, "client_secret": backend._decrypted_secret()}, False, None

    def _typed_secret(self):
        ciphertext = self.sudo().client_secret_encrypted
        if not ciphertext:
            return False
        try:
            return self._secret_box().decrypt(ciphertext)
        except SecretBoxError:  # the server's key changed meanwhile: type it again
            return False

    def _refuse(self, reason):
        """This step again, saying ``reason``; the saved credentials untouched."""
        self.error_message = self.env._(
            "%s The saved credentials are unchanged: the sync goes on with them.", reason
        )
        return form_action(
            self, "new", name=self.env._("Change Credentials"), context=self.env.context
        )
