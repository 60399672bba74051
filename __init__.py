from . import models
from . import wizard
from odoo.tools import SQL

from .tools import rate_budget
from .tools.log_masking import install_masking

# Odoo logs the arguments of every RPC call on this logger at DEBUG: the
# values of a form being saved, a secret typed in it included.
install_masking("odoo.service.model")


def uninstall_hook(env):
    """The requests budget shared by every worker lives in a table of its own
    (``tools/rate_budget.py``), not a model's: it goes with the module."""
    env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(rate_budget.TABLE)))
