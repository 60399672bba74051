"""A seeded random AP lifecycle through the simulator, then the proof that the
ledgers agree; run by scripts/ledger_check.sh through ``odoo-bin shell``.

N bills (default 1,000) go to AvidXchange; then, in rounds, the simulator
approves most, rejects some, pays in full, in part (the rest later), several
bills of a vendor at once, with discounts, in payment runs that stamp a whole
batch in one second; clears checks, voids payments and issues them again;
and throws faults at the sync (throttling, outages, dropped answers, a
payment changed while its page is built). Between rounds the streams run as
the scheduled actions would, committing after each batch. At the end the
reconciliation report must say 0 differences; the script prints the figures
and exits non-zero otherwise. The same seed gives the same lifecycle.
"""

import json
import os
import random
import sys
import time
import urllib.request

from odoo import Command, fields

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell

N = int(os.environ.get("AVX_LEDGER_N", "1000"))
SEED = int(os.environ.get("AVX_LEDGER_SEED", "1"))
SIM_URL = os.environ["AVX_SIM_URL"]
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
rng = random.Random(SEED)
started = time.perf_counter()
counts = {}


def sim(action, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{SIM_URL}/_sim/{action}",
        data=data,
        method="GET" if payload is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with _opener.open(request, timeout=60) as response:
        return json.load(response)["result"]


def count(what, n=1):
    counts[what] = counts.get(what, 0) + n


def run_streams(backend, kinds=("gl_code", "vendor", "purchase_order", "bill", "payment")):
    """Every stream, batch after batch, committed after each, as the cron runs them."""
    for kind in kinds:
        stream = backend._stream(kind)
        for _batch in range(1000):
            with env.cr.savepoint():
                done, left = stream._run_batch()
            env.cr.commit()
            if not left or not done:
                break


def setup():
    company = env.ref("base.main_company")
    env["ir.config_parameter"].set_param("account_avidxchange.allowed_hosts", "127.0.0.1")
    gain = env["account.account"].search(
        [("company_ids", "in", company.id), ("account_type", "=", "income")], limit=1
    )
    company.account_journal_early_pay_discount_gain_account_id = gain
    backend = (
        env["avidxchange.backend"]
        .with_company(company)
        .create(
            {
                "name": "AvidXchange (ledger check)",
                "environment": "sandbox",
                "base_url": SIM_URL,
                "token_url": SIM_URL + "/token",
                "client_id": os.environ["AVX_SIM_CLIENT_ID"],
                "client_secret": os.environ["AVX_SIM_CLIENT_SECRET"],
                "avidxchange_company_id": os.environ["AVX_SIM_COMPANY_ID"],
                "responsible_user_id": env.ref("base.user_admin").id,
                "journal_id": env["account.journal"]
                .search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
                .id,
            }
        )
    )
    backend.bill_date_from = fields.Date.today()
    backend.action_activate()
    vendors = env["res.partner"].create(
        [
            {"name": f"Ledger Vendor {i:03d}", "is_company": True, "avidxchange_enabled": True}
            for i in range(max(5, N // 20))
        ]
    )
    bills = env["account.move"].create(
        [
            {
                "move_type": "in_invoice",
                "partner_id": rng.choice(vendors).id,
                "ref": f"LEDGER-{SEED}-{i:05d}",
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Goods",
                            "quantity": 1,
                            "price_unit": round(rng.uniform(20, 2000), 2),
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
            for i in range(N)
        ]
    )
    bills.action_post()
    env.cr.commit()
    return backend, bills


def fault():
    """Now and then, AvidXchange misbehaves for the next requests."""
    roll = rng.random()
    if roll < 0.15:
        sim("fail_next", {"n": rng.randint(1, 3), "status": rng.choice([429, 503])})
        count("faults: throttled or down")
    elif roll < 0.25:
        sim("drop_next", {"n": 1})
        count("faults: dropped")


def approve_or_reject(invoice_ids, open_amounts):
    for invoice_id in invoice_ids:
        if rng.random() < 0.05:
            sim("reject_invoice", {"invoice_id": invoice_id, "reason": "Wrong amount"})
            open_amounts.pop(invoice_id)
            count("rejected")
        else:
            sim("approve_invoice", {"invoice_id": invoice_id})


def allocation(invoice_id, open_amounts):
    """Pay one invoice: in full, in part, or with a discount."""
    left = round(open_amounts[invoice_id], 2)
    kind = rng.random()
    if kind < 0.15 and left > 10:
        count("partial payments")
        amount = round(left / 2, 2)
        open_amounts[invoice_id] = round(left - amount, 2)
        return {"invoice_id": invoice_id, "amount": amount}
    open_amounts[invoice_id] = 0.0
    if kind < 0.25 and left > 10:
        count("discounts")
        discount = round(left * 0.02, 2)
        return {"invoice_id": invoice_id, "amount": round(left - discount, 2), "discount": discount}
    return {"invoice_id": invoice_id, "amount": left}


def payment_run(by_vendor, open_amounts):
    """A round of payments: some vendors paid, one to three bills at once."""
    run = []
    for invoice_ids in by_vendor.values():
        payable = [i for i in invoice_ids if open_amounts.get(i, 0) > 0.005]
        if not payable or rng.random() < 0.3:
            continue
        chosen = rng.sample(payable, min(len(payable), rng.randint(1, 3)))
        if len(chosen) > 1:
            count("multi-bill payments")
        run.append(
            {
                "allocations": [allocation(i, open_amounts) for i in chosen],
                "method": rng.choice(["Check", "ACH"]),
            }
        )
    if not run:
        return []
    if rng.random() < 0.5:
        return sim("pay_run", {"payments": run})  # one stamp for the whole run
    return [sim("pay", payment) for payment in run]


def clear_or_void(payments, open_amounts):
    """Some checks clear; some payments are voided (their bills are paid again later)."""
    for payment in rng.sample(payments, min(len(payments), 5)):
        current = sim(f"get_payment?payment_id={payment['PaymentId']}")
        if current["Status"]["Description"] != "Issued":
            continue
        roll = rng.random()
        if roll < 0.4:
            sim("clear_payment", {"payment_id": payment["PaymentId"]})
            count("cleared")
        elif roll < 0.6:
            sim("void_payment", {"payment_id": payment["PaymentId"]})
            for line in current["Invoices"]:
                relieved = abs(line["AmountPaid"]) + (line.get("Discount") or 0)
                open_amounts[line["Id"]] = round(open_amounts.get(line["Id"], 0) + relieved, 2)
            count("voided (then paid again)")


def lifecycle(backend, bills):
    open_amounts = {bill.avidxchange_invoice_id: bill.amount_total for bill in bills}
    by_vendor = {}
    for bill in bills:
        by_vendor.setdefault(bill.partner_id.id, []).append(bill.avidxchange_invoice_id)
    approve_or_reject(list(open_amounts), open_amounts)
    paid = []
    for _round in range(6):
        fault()
        payments = payment_run(by_vendor, open_amounts)
        count("payments", len(payments))
        paid += payments
        run_streams(backend, ("payment",))
        clear_or_void(paid, open_amounts)
        fault()
        run_streams(backend, ("payment",))
    for _attempt in range(5):  # the last faults spent, the backlog drained
        sim("clear_faults", {})
        run_streams(backend, ("payment",))


backend, bills = setup()
t0 = time.perf_counter()
run_streams(backend)
sim("clear_faults", {})
run_streams(backend)
bills.invalidate_recordset()
unsent = bills.filtered(lambda bill: bill.avidxchange_state != "synced")
sent_in = time.perf_counter() - t0
print(f"ledger_check: N={N} seed={SEED}: {N - len(unsent)} bills sent in {sent_in:.1f} s")
t1 = time.perf_counter()
lifecycle(backend, bills)
print(
    f"ledger_check: lifecycle in {time.perf_counter() - t1:.1f} s: "
    + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
)
t2 = time.perf_counter()
wizard = env["avidxchange.reconciliation"].create(
    {"backend_id": backend.id, "date_from": fields.Date.today(), "date_to": fields.Date.today()}
)
wizard.action_compare()
print(
    f"ledger_check: reconciliation of {wizard.bill_count} bills and "
    f"{wizard.payment_count} payments in {time.perf_counter() - t2:.1f} s"
)
for total in wizard.total_ids:
    print(
        f"ledger_check: open {total.currency_code}: Odoo {total.open_odoo:,.2f}, "
        f"AvidXchange {total.open_avidxchange:,.2f}"
    )
for line in wizard.line_ids[:20]:
    print(
        f"ledger_check: difference {line.category}: "
        f"{line.move_id.display_name or line.payment_id.display_name or line.reference}: "
        f"Odoo {line.odoo_value} / AvidXchange {line.avidxchange_value}"
    )
print(
    f"ledger_check: {wizard.difference_count} differences, {len(unsent)} bills unsent "
    f"({time.perf_counter() - started:.1f} s in all)"
)
env.cr.commit()
sys.exit(1 if wizard.difference_count or unsent else 0)
