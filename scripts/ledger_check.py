"""A seeded random AP lifecycle through the simulator, then the proof that the
ledgers agree; run by scripts/ledger_check.sh through ``odoo-bin shell``.

N bills (default 1,000) go to AvidXchange, and N / 10 invoices captured in
AvidXchange come back as bills (two batches, one closed again); then, in rounds, the simulator
approves most, rejects some, pays in full, in part (the rest later), several
bills of a vendor at once, with discounts, in payment runs that stamp a whole
batch in one second; clears checks, voids payments and issues them again;
and throws faults at the sync (throttling, outages, dropped answers, a
payment changed while its page is built). Between rounds the streams run as
the scheduled actions would, committing after each batch. At the end the
reconciliation report must say 0 differences; the script prints the figures
and exits non-zero otherwise. The same seed gives the same lifecycle.
"""

import os
import random
import sys
import time

from avx_shell import activated_connection, bill_values, run_streams, sim

from odoo import fields

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell

N = int(os.environ.get("AVX_LEDGER_N", "1000"))
SEED = int(os.environ.get("AVX_LEDGER_SEED", "1"))
rng = random.Random(SEED)
started = time.perf_counter()
counts = {}


def count(what, n=1):
    counts[what] = counts.get(what, 0) + n


def setup():
    company = env.ref("base.main_company")
    gain = env["account.account"].search(
        [("company_ids", "in", company.id), ("account_type", "=", "income")], limit=1
    )
    company.account_journal_early_pay_discount_gain_account_id = gain
    backend = activated_connection(env, company, "AvidXchange (ledger check)")
    vendors = env["res.partner"].create(
        [
            {"name": f"Ledger Vendor {i:03d}", "is_company": True, "avidxchange_enabled": True}
            for i in range(max(5, N // 20))
        ]
    )
    bills = env["account.move"].create(
        [
            bill_values(
                rng.choice(vendors),
                f"LEDGER-{SEED}-{i:05d}",
                ("Goods", 1, round(rng.uniform(20, 2000), 2)),
            )
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


def capture(backend, vendors):
    """Invoices vendors sent to AvidXchange (a tenth of N), captured and approved
    there, closed in two batches, the first closed again with one more: they
    come back as posted bills, exactly once. Returns those bills."""
    backend.write(
        {"bills_origin": "both", "accounting_system_name": "Odoo", "captured_bill_state": "posted"}
    )
    company = backend.company_id
    code = (
        env["account.account"]
        .search([("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1)
        .code
    )
    codes = {link.partner_id: link.external_code for link in backend_links(backend, vendors)}
    ids = [
        sim(
            "capture_invoice",
            {
                "number": f"CAPTURED-{SEED}-{i:05d}",
                "vendor": {"VendorName": vendor.name, "VendorExternalSystemID": codes[vendor]},
                "amount": amount,
                "distributions": [
                    {
                        "Amount": amount,
                        "Description": "Captured goods",
                        "EnterpriseCodes": [
                            {"GroupName": "Accounting Codes", "EnterpriseCodeValue": code}
                        ],
                    }
                ],
            },
        )
        for i in range(max(2, N // 10))
        for vendor in [rng.choice(list(codes))]
        for amount in [round(rng.uniform(20, 2000), 2)]
    ]
    half = len(ids) // 2
    first = sim("close_batch", {"invoice_ids": ids[: half - 1]})
    sim("close_batch", {"invoice_ids": ids[half:]})
    run_streams(env, backend, ("captured_invoice",))
    sim("reclose_batch", {"batch_guid": first, "add": [ids[half - 1]]})
    count("captured invoices", len(ids))
    run_streams(env, backend, ("captured_invoice",))
    captured = env["account.move"].search([("avidxchange_captured_id.invoice_ref", "in", ids)])
    count("captured bills", len(captured))
    return captured


def backend_links(backend, vendors):
    return env["avidxchange.partner.link"].search(
        [("backend_id", "=", backend.id), ("partner_id", "in", vendors.ids)]
    )


def lifecycle(backend, bills, captured):
    open_amounts = {bill.avidxchange_invoice_id: bill.amount_total for bill in bills}
    by_vendor = {}
    for bill in bills:
        by_vendor.setdefault(bill.partner_id.id, []).append(bill.avidxchange_invoice_id)
    approve_or_reject(list(open_amounts), open_amounts)
    for bill in captured:  # approved in AvidXchange already
        open_amounts[bill.avidxchange_invoice_id] = bill.amount_total
        by_vendor.setdefault(bill.partner_id.id, []).append(bill.avidxchange_invoice_id)
    paid = []
    for _round in range(6):
        fault()
        payments = payment_run(by_vendor, open_amounts)
        count("payments", len(payments))
        paid += payments
        run_streams(env, backend, ("payment",))
        clear_or_void(paid, open_amounts)
        fault()
        run_streams(env, backend, ("payment",))
    for _attempt in range(5):  # the last faults spent, the backlog drained
        sim("clear_faults", {})
        run_streams(env, backend, ("payment",))


backend, bills = setup()
t0 = time.perf_counter()
run_streams(env, backend)
sim("clear_faults", {})
run_streams(env, backend)
bills.invalidate_recordset()
unsent = bills.filtered(lambda bill: bill.avidxchange_state != "synced")
sent_in = time.perf_counter() - t0
print(f"ledger_check: N={N} seed={SEED}: {N - len(unsent)} bills sent in {sent_in:.1f} s")
t1 = time.perf_counter()
captured = capture(backend, bills.partner_id)
lifecycle(backend, bills, captured)
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
missing = counts.get("captured invoices", 0) - counts.get("captured bills", 0)
if missing:
    print(f"ledger_check: {missing} captured invoices did not become exactly one bill each")
env.cr.commit()
sys.exit(1 if wizard.difference_count or unsent or missing else 0)
