from . import avidxchange_bill_release
from . import avidxchange_payment_release
from . import account_payment_register
