from . import models
from . import wizard
from .tools.log_masking import install_masking

# Odoo logs the arguments of every RPC call on this logger at DEBUG: the
# values of a form being saved, a secret typed in it included.
install_masking("odoo.service.model")
