from . import avidxchange_bill_release
from . import avidxchange_credentials_change
from . import avidxchange_payment_release
from . import account_payment_register
from . import avidxchange_reconciliation
from . import avidxchange_dry_run
from . import avidxchange_activation
