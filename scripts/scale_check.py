"""The database side of scripts/scale_check.sh, run through ``odoo-bin shell``:
``AVX_SCALE_STEP=setup`` before the Odoo servers start, ``AVX_SCALE_STEP=check``
after they stopped.

setup: a connection to this run's simulator that also brings back the invoices
captured in AvidXchange (as posted bills), every stream due each minute, some
vendors sent to AvidXchange (the clerk bills them, the world captures invoices
of them); writes what the clerk and the world need to ``AVX_SCALE_SETUP`` (JSON).

check: what the servers left must be sound: no AvidXchange payment registered
twice on a bill, each captured invoice exactly one bill, every bill in scope
sent, and the reconciliation report says 0 differences. Prints every figure and
exits non-zero on a defect.
"""

import json
import os
import sys
from collections import Counter

from avx_shell import activated_connection, run_streams, sim

from odoo import fields

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell

STEP = os.environ["AVX_SCALE_STEP"]
SETUP_FILE = os.environ["AVX_SCALE_SETUP"]
VENDORS = int(os.environ.get("AVX_SCALE_VENDORS", "12"))
NAME = "AvidXchange (scale check)"


def say(text):
    print(f"scale_check: {text}", flush=True)


def setup():
    company = env.ref("base.main_company")
    # Several servers answer on their own addresses here; behind one proxy they
    # would share one. Frozen, or each administrator's login writes its own.
    env["ir.config_parameter"].set_param("web.base.url.freeze", "True")
    backend = activated_connection(env, company, NAME)
    backend.write(
        {"bills_origin": "both", "accounting_system_name": "Odoo", "captured_bill_state": "posted"}
    )
    backend.stream_ids.write({"interval": 1})
    vendors = env["res.partner"].create(
        [
            {"name": f"Scale Vendor {i:02d}", "is_company": True, "avidxchange_enabled": True}
            for i in range(VENDORS)
        ]
    )
    env.cr.commit()
    run_streams(env, backend, ("gl_code", "vendor"))
    links = env["avidxchange.partner.link"].search(
        [("backend_id", "=", backend.id), ("partner_id", "in", vendors.ids)]
    )
    unsent = vendors - links.filtered(lambda link: link.state == "synced").partner_id
    if unsent:
        say(f"DEFECT: {len(unsent)} vendors not sent: {links.mapped('error_message')}")
        sys.exit(1)
    code = (
        env["account.account"]
        .search([("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1)
        .code
    )
    with open(SETUP_FILE, "w", encoding="utf-8") as out:
        json.dump(
            {
                "backend_id": backend.id,
                "expense_code": code,
                "vendors": [
                    {
                        "id": link.partner_id.id,
                        "name": link.partner_id.name,
                        "code": link.external_code,
                    }
                    for link in links
                ],
            },
            out,
        )
    say(f"connection {backend.id}, {len(vendors)} vendors sent, expense code {code}")


def doubled_payments(backend):
    """(AvidXchange payment, bill) pairs with more than one Odoo payment."""
    payments = env["account.payment"].search(
        [("avidxchange_payment_id.backend_id", "=", backend.id), ("state", "!=", "canceled")]
    )
    pairs = Counter(
        (payment.avidxchange_payment_id.payment_ref, bill.id)
        for payment in payments
        for bill in payment.reconciled_bill_ids
    )
    return payments, {pair: n for pair, n in pairs.items() if n > 1}


def reconciliation(backend):
    """The reconciliation report over today (AvidXchange read-only, as an
    administrator runs it): prints it, returns how many differences."""
    today = fields.Date.today()
    report = env["avidxchange.reconciliation"].create(
        {"backend_id": backend.id, "date_from": today, "date_to": today}
    )
    report.action_compare()
    counted = (report.bill_count, report.payment_count, report.difference_count)
    say("reconciliation: {} bills and {} payments compared, {} differences".format(*counted))
    for line in report.line_ids[:20]:
        what = line.move_id or line.payment_id
        named = what.display_name if what else line.reference
        say(
            f"difference {line.category}: {named}: Odoo {line.odoo_value}, "
            f"AvidXchange {line.avidxchange_value}"
        )
    return report.difference_count


def check():
    backend = env["avidxchange.backend"].search([("name", "=", NAME)], limit=1)
    defects = []
    imported = env["avidxchange.payment"].search([("backend_id", "=", backend.id)])
    payments, doubled = doubled_payments(backend)
    refs = Counter(imported.mapped("payment_ref"))
    say(
        f"payments imported: {len(imported)} AvidXchange payments, {len(payments)} Odoo "
        f"payments, {len(doubled)} (payment, bill) pairs registered twice"
    )
    if doubled or any(n > 1 for n in refs.values()):
        defects.append(f"payments registered twice: {sorted(doubled.items())[:10]}")
    in_sim = sim("payments")
    say(f"payments in AvidXchange: {len(in_sim)}")
    if len(in_sim) != len(refs):
        defects.append(f"{len(in_sim)} payments in AvidXchange, {len(refs)} imported")

    with open(os.environ["AVX_SCALE_CAPTURED"], encoding="utf-8") as captured_file:
        captured_ids = json.load(captured_file)
    bills_of = Counter(
        env["account.move"]
        .search([("avidxchange_captured_id.invoice_ref", "in", captured_ids)])
        .mapped("avidxchange_captured_id.invoice_ref")
    )
    wrong = {ref: bills_of.get(ref, 0) for ref in captured_ids if bills_of.get(ref, 0) != 1}
    say(
        f"captured bills: {len(captured_ids)} invoices captured in AvidXchange, "
        f"{sum(bills_of.values())} bills made of them, {len(wrong)} not exactly one bill"
    )
    if wrong:
        defects.append(f"captured invoices not exactly one bill: {sorted(wrong.items())[:10]}")

    external = Counter(
        i["ExternalInvoiceId"] for i in sim("invoices") if i.get("ExternalInvoiceId")
    )
    posts = sim("count?method=POST&path=/invoices")
    twice = {ref: n for ref, n in external.items() if n > 1}
    say(
        f"bills sent: {len(external)} invoices sent from Odoo in AvidXchange, "
        f"{posts} POST /invoices, {len(twice)} sent twice"
    )
    if twice:
        defects.append(f"bills sent twice: {sorted(twice.items())[:10]}")

    clerk_bills = env["account.move"].search(
        [("ref", "=like", "SCALE-%"), ("move_type", "=", "in_invoice"), ("state", "=", "posted")]
    )
    unsent = clerk_bills.filtered(
        lambda bill: bill.payment_state == "not_paid" and bill.avidxchange_state != "synced"
    )
    paid_here = clerk_bills.filtered(
        lambda bill: bill.payment_state != "not_paid" and not bill.avidxchange_invoice_id
    )
    sent_ids = Counter(
        clerk_bills.filtered("avidxchange_invoice_id").mapped("avidxchange_invoice_id")
    )
    say(
        f"clerk's bills: {len(clerk_bills)} posted, {sum(sent_ids.values())} sent, "
        f"{len(paid_here)} paid in Odoo before being sent, {len(unsent)} in scope but not sent"
    )
    if unsent:
        defects.append(
            "bills not sent: "
            + ", ".join(
                f"{b.ref} ({b.avidxchange_state}: {b.avidxchange_error})" for b in unsent[:10]
            )
        )
    if any(n > 1 for n in sent_ids.values()):
        defects.append("two bills with one AvidXchange invoice")

    differences = reconciliation(backend)
    if differences:
        defects.append(f"{differences} differences in the reconciliation report")
    env.cr.rollback()
    for defect in defects:
        say(f"DEFECT: {defect}")
    sys.exit(1 if defects else 0)


if STEP == "setup":
    setup()
    env.cr.commit()
elif STEP == "check":
    check()
else:
    raise SystemExit(f"AVX_SCALE_STEP: setup or check, not {STEP!r}")
