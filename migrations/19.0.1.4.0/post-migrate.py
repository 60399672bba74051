"""19.0.1.3.0 → 19.0.1.4.0: one word per kind of record.

The audit trail's operation is now the kind of record an exchange carries
(the stream's word: ``vendor``, ``bill``...), read from the one registry of
kinds (``avidxchange.stream.handler``), so the old export / import names
become kinds. The scheduled actions (``noupdate``) name the group of kinds
they run instead of listing them, so a kind added later runs without
touching them.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

OPERATION_OF = {
    "vendor_export": "vendor",
    "bill_export": "bill",
    "code_export": "gl_code",
    "po_export": "purchase_order",
    "payment_import": "payment",
}
CRON_CODE = {
    "ir_cron_avidxchange_export_vendors": 'model._cron_run("export_records")',
    "ir_cron_avidxchange_export_bills": 'model._cron_run("export_bills")',
    "ir_cron_avidxchange_import_payments": 'model._cron_run("import")',
}


def migrate(cr, version):
    if not version:
        return
    for old, new in OPERATION_OF.items():
        cr.execute(
            SQL(
                "UPDATE avidxchange_exchange_log SET operation = %s WHERE operation = %s",
                new,
                old,
            )
        )
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, code in CRON_CODE.items():
        cron = env.ref(f"account_avidxchange.{xmlid}", raise_if_not_found=False)
        if cron and cron.code.startswith("model._cron_run("):
            cron.code = code
