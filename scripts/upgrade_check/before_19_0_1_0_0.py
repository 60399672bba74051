"""Data made with release 19.0.1.0.0, before the upgrade (run by scripts/upgrade_check.sh
in ``odoo-bin shell``, with that release's code): one active connection, a vendor, two
exported bills, one of them paid through AvidXchange, all committed."""

import json
import os
import urllib.request

from odoo import Command

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell
sim = os.environ["AVX_SIM_URL"]


def admin(action, **kwargs):
    """The simulator's admin API (loopback only)."""
    request = urllib.request.Request(
        f"{sim}/_sim/{action}", data=json.dumps(kwargs).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())["result"]


company = env.ref("base.main_company")
journal = env["account.journal"].search(
    [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
)
# This release knows no host list; the upgraded one reads it (the simulator is local).
env["ir.config_parameter"].set_param("account_avidxchange.allowed_hosts", "127.0.0.1,localhost")
backend = env["avidxchange.backend"].create(
    {
        "name": "Upgrade check",
        "company_id": company.id,
        "base_url": sim,
        "token_url": sim + "/token",
        "client_id": os.environ["AVX_SIM_CLIENT_ID"],
        "client_secret": os.environ["AVX_SIM_CLIENT_SECRET"],
        "avidxchange_company_id": os.environ["AVX_SIM_COMPANY_ID"],
        "journal_id": journal.id,
        "vendor_sync_interval": 45,
        "bill_sync_interval": 20,
        "payment_sync_interval": 5,
    }
)
backend.action_activate()
vendor = env["res.partner"].create(
    {"name": "Upgrade Steel", "is_company": True, "avidxchange_enabled": True}
)
bills = env["account.move"]
for amount in (80.0, 20.0):
    line = {"name": "Steel", "quantity": 1, "price_unit": amount, "tax_ids": []}
    bills |= env["account.move"].create(
        {
            "move_type": "in_invoice",
            "partner_id": vendor.id,
            "invoice_date": "2026-11-20",
            "ref": f"UPG-{amount}",
            "invoice_line_ids": [Command.create(line)],
        }
    )
bills.action_post()
backend._export_vendors()
backend._export_bills()
paid = bills[0]
admin("approve_invoice", invoice_id=paid.avidxchange_invoice_id)
admin("pay", allocations=[{"invoice_id": paid.avidxchange_invoice_id, "amount": 80.0}])
backend._import_payments()
env.cr.commit()
summary = {
    "links": len(env["avidxchange.invoice.link"].search([])),
    "payments": len(env["avidxchange.payment"].search([])),
    "residuals": bills.mapped("amount_residual"),
    "states": bills.mapped("avidxchange_state"),
}
print("before:", json.dumps(summary))
