from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..tools.hosts import environment_urls
from ..tools.secret_box import SecretBox, SecretBoxError, configured_keys
from ..tools.states import ENVIRONMENTS

# The environment's URL unless another is typed (a deployment of one's own).
FOLLOWS_ENVIRONMENT = {
    "compute": "_compute_urls",
    "store": True,
    "precompute": True,
    "readonly": False,
    "required": True,
}


class AvidxchangeCredentialsMixin(models.AbstractModel):
    """Who a connection is at AvidXchange and where it goes: the fields the
    connection saves (``avidxchange.backend``) and the *Change credentials*
    step proposes before they replace the saved ones, written once.

    The secret is written through a field that never reads back, and kept
    encrypted with a key from the server configuration, never the database
    (``tools/secret_box.py``).
    """

    _name = "avidxchange.credentials.mixin"
    _description = "AvidXchange Credentials"

    environment = fields.Selection(ENVIRONMENTS, default="sandbox", required=True)
    base_url = fields.Char(string="API Base URL", **FOLLOWS_ENVIRONMENT)
    token_url = fields.Char(string="Token URL", **FOLLOWS_ENVIRONMENT)
    client_id = fields.Char(string="Client ID")
    avidxchange_company_id = fields.Char(string="AvidXchange Company ID")
    client_secret = fields.Char(
        compute="_compute_client_secret", inverse="_inverse_client_secret", exportable=False
    )
    client_secret_encrypted = fields.Char(
        groups="base.group_system", copy=False, exportable=False, readonly=True
    )

    # === COMPUTE METHODS === #

    @api.depends("environment")
    def _compute_urls(self):
        for record in self:
            record.base_url, record.token_url = environment_urls(record.environment)

    def _compute_client_secret(self):
        # Write-only: the secret is never read back into a form.
        self.client_secret = False

    def _inverse_client_secret(self):
        raise NotImplementedError  # each model keeps the typed secret its own way

    # === PRIVATE HELPERS === #

    def _secret_box(self):
        """The keys of the server configuration; UserError, in words, without one."""
        try:
            return SecretBox(configured_keys(config))
        except SecretBoxError as error:
            raise UserError(str(error)) from None
