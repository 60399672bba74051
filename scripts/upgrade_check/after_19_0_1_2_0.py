"""Checks after ``-u`` to 19.0.1.2.0 (run by scripts/upgrade_check.sh in ``odoo-bin
shell``): what release 19.0.1.0.0 made is all there, in the new shape, and the
upgraded connection syncs on without sending anything twice. Exits non-zero, naming
the check, when one fails."""

import json
import os
import sys
import urllib.request

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell
sim = os.environ["AVX_SIM_URL"]
failures = []


def check(what, ok):
    print(f"check: {what}: {'ok' if ok else 'FAILED'}")
    if not ok:
        failures.append(what)


backend = env["avidxchange.backend"].search([("name", "=", "Upgrade check")])
bills = env["account.move"].search([("ref", "like", "UPG-")], order="id")
streams = {stream.kind: stream for stream in backend.stream_ids}
check(
    "one stream of each kind",
    # every kind of the tree upgraded to, those newer than the release included
    sorted(streams) == sorted(env["avidxchange.stream.handler"]._avidxchange_kinds()),
)
check(
    "a kind newer than the release starts with its defaults",
    streams.get("captured_invoice")
    and not streams["captured_invoice"].mark
    and backend.bills_origin == "odoo",
)
check("marks kept", all(streams[kind].mark for kind in ("vendor", "bill", "payment")))
responsible = backend.responsible_user_id
check(
    "alerts reach a person (not OdooBot)",
    responsible.active and not responsible.share and responsible.id != 1,
)
check(
    "intervals kept",
    [streams[kind].interval for kind in ("gl_code", "vendor", "purchase_order", "bill", "payment")]
    == [45, 45, 20, 20, 5],
)
crons = env["ir.cron"].search([("cron_name", "like", "AvidXchange")])
check(
    "scheduled actions run the streams",
    len(crons) == 3
    and all(c.model_id.model == "avidxchange.stream" and c.active for c in crons)
    and all("_cron_run(" in c.code for c in crons),
)
Handler = env["avidxchange.stream.handler"]
check(
    "each scheduled action names the group its kinds declare",
    sorted(c.code for c in crons)
    == sorted(
        f'model._cron_run("{cron}")'
        for cron in {k.cron for k in Handler._avidxchange_kinds().values()}
    ),
)
operations = {op for op, _label in env["avidxchange.exchange.log"]._selection_operation()}
check(
    "the trail's operations are kinds (or a test, a reconciliation)",
    set(env["avidxchange.exchange.log"].search([]).mapped("operation")) <= operations,
)
check("bill links kept", len(env["avidxchange.invoice.link"].search([])) == 2)
# Ids made before the database's identity joined them stay: AvidXchange knows them.
old_ids = [f"ODOO-{bill.company_id.id}-{bill.id}" for bill in bills]
check(
    "bill links keep their external ids",
    bills.avidxchange_link_ids.sorted("move_id").mapped("external_invoice_id") == old_ids,
)
check(
    "exported bills remember what was sent, and nothing changed since",
    all(
        link.exported_amount == link.move_id.amount_total
        and link.exported_partner_id == link.move_id.commercial_partner_id
        for link in bills.avidxchange_link_ids
    )
    and "changed" not in bills.mapped("avidxchange_sync_status"),
)
vendor_links = env["avidxchange.partner.link"].search([])
check(
    "vendor links keep their external codes",
    vendor_links
    and all(
        link.external_code == f"ODOO-{link.company_id.id}-{link.partner_id.id}"
        for link in vendor_links
    ),
)
check("imported payments kept", len(env["avidxchange.payment"].search([])) == 1)
check("residuals unchanged", bills.mapped("amount_residual") == [0.0, 20.0])
payment = env["avidxchange.payment"].search([])
check("payment status has its meaning", payment.status_category == "paid")
check("stored bill state filled", bills.mapped("avidxchange_state") == ["synced", "synced"])
check("stored bill status filled", bills.mapped("avidxchange_status") == ["Paid", "Received"])
check(
    "one AvidXchange status per bill", bills.mapped("avidxchange_sync_status") == ["paid", "sent"]
)
check(
    "payments name their vendor",
    env["avidxchange.payment"].search([]).partner_id == bills[0].commercial_partner_id,
)

integration = env.ref("account_avidxchange.user_avidxchange_integration")
check(
    "the sync runs as the integration user, in the connection's company",
    backend.sync_user_id == integration and backend.company_id in integration.company_ids,
)
check(
    "the AvidXchange User group implies nothing",
    not env.ref("account_avidxchange.group_avidxchange_user").implied_ids,
)
for kind in ("gl_code", "vendor", "purchase_order", "bill", "payment"):
    streams[kind].with_user(integration).with_company(backend.company_id)._run_batch()
check("streams run cleanly", not any(stream.failure_count for stream in backend.stream_ids))
noted = backend.sudo()
check(
    "the connection noted the database it runs in on its first run",
    (noted.identity_database_uuid, noted.identity_database_name)
    == (env["ir.config_parameter"].sudo().get_param("database.uuid"), env.cr.dbname)
    and not backend.is_database_copy,
)
with urllib.request.urlopen(f"{sim}/_sim/invoices") as answer:
    invoices = json.loads(answer.read())["result"]
check("no bill sent twice", len(invoices) == 2)
with urllib.request.urlopen(f"{sim}/_sim/vendors") as answer:
    vendors = json.loads(answer.read())["result"]
check("no vendor sent under a new code", len(vendors) == len(vendor_links))
check("no payment registered twice", len(bills[0].matched_payment_ids) == 1)
env.cr.rollback()
sys.exit(1 if failures else 0)
