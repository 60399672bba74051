"""Every simulator fault during a full cycle; run by scripts/fault_matrix.sh
through ``odoo-bin shell``, in phases (``AVX_FAULT_PHASE``):

- ``faults``: for each fault the simulator can inject, new bills are posted,
  earlier ones paid, the fault is queued on the requests it targets and one
  full cycle runs (every stream, as the scheduled actions run them); then the
  fault is cleared and the cycle runs until nothing waits. After each: the
  failure is visible with a reason (a stream's or a record's error, or the
  retries in the audit trail), nothing is lost or doubled (every bill in
  AvidXchange once, every payment registered once), and the reconciliation
  report says 0 differences.
- ``backlog``: a backlog of payments for the next phase, which the shell
  script kills with ``kill -9`` in the middle of its import;
- ``check``: after the restart, the import runs to its end: nothing lost,
  nothing doubled, 0 differences.

Prints a line per check; exits non-zero on a defect.
"""

import os
import sys
import time

from avx_shell import activated_connection, bill_values, run_streams, sim

from odoo import fields

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell

PHASE = os.environ["AVX_FAULT_PHASE"]
failures = []


def check(what, ok, detail=""):
    print(
        f"fault_matrix: {what}: {'ok' if ok else 'DEFECT'}{(' (' + detail + ')') if detail else ''}"
    )
    if not ok:
        failures.append(what)


def backend():
    return env["avidxchange.backend"].search([("name", "=", "AvidXchange (fault matrix)")])


def cycle(connection, batches=50):
    run_streams(env, connection, batches=batches)


def setup():
    company = env.ref("base.main_company")
    connection = activated_connection(
        env, company, "AvidXchange (fault matrix)", read_timeout=2, max_attempts=2
    )
    env["res.partner"].create(
        {"name": "Fault Vendor", "is_company": True, "avidxchange_enabled": True}
    )
    env.cr.commit()
    return connection


def post_bills(prefix, count=3):
    vendor = env["res.partner"].search([("name", "=", "Fault Vendor")], limit=1)
    bills = env["account.move"].create(
        [bill_values(vendor, f"{prefix}-{n}", ("Part", 1, 10.0 + n)) for n in range(count)]
    )
    bills.action_post()
    env.cr.commit()
    return bills


def pay_what_is_sent():
    """AvidXchange approves and pays every invoice it holds and has not paid."""
    for invoice in sim("invoices"):
        if invoice["Status"] in ("Received", "PendingApproval"):
            sim("approve_invoice", {"invoice_id": invoice["Id"]})
            invoice["Status"] = "Approved"
        if invoice["Status"] == "Approved":
            sim("pay", {"allocations": [{"invoice_id": invoice["Id"]}], "method": "ACH"})


def visible(connection, since):
    """A failure is visible: on a stream, on a record, or as retries in the trail."""
    streams = connection.stream_ids.filtered("last_error")
    links = env["avidxchange.invoice.link"].search(
        [("error_message", "!=", False), ("write_date", ">=", since)]
    )
    retried = env["avidxchange.exchange.log"].search_count(
        [("create_date", ">=", since), "|", ("attempts", ">", 1), ("state", "=", "error")]
    )
    return bool(streams or links or retried), (
        f"{len(streams)} streams, {len(links)} bills with an error, "
        f"{retried} exchanges retried or failed"
    )


def agree(connection, what):
    """Nothing lost, nothing doubled, 0 differences."""
    bills = env["account.move"].search([("move_type", "=", "in_invoice"), ("state", "=", "posted")])
    invoices = sim("invoices")
    ours = [i for i in invoices if i.get("ExternalInvoiceId")]
    check(
        f"{what}: every bill in AvidXchange once",
        len(ours) == len({i["ExternalInvoiceId"] for i in ours}) == len(bills),
        f"{len(bills)} bills, {len(ours)} invoices",
    )
    live = env["account.payment"].search(
        [("avidxchange_payment_id", "!=", False), ("state", "not in", ("draft", "canceled"))]
    )
    check(
        f"{what}: every payment registered once",
        len(live) == len(live.avidxchange_payment_id),
        f"{len(live)} Odoo payments",
    )
    wizard = env["avidxchange.reconciliation"].create(
        {
            "backend_id": connection.id,
            "date_from": fields.Date.today(),
            "date_to": fields.Date.today(),
        }
    )
    wizard.action_compare()
    check(
        f"{what}: 0 differences",
        not wizard.difference_count,
        ", ".join(
            f"{line.category} {line.move_id.name or line.payment_id.payment_ref or line.reference}"
            for line in wizard.line_ids[:5]
        ),
    )
    env.cr.commit()


FAULTS = [
    ("throttled (429 with Retry-After)", "fail_next", {"n": 3, "status": 429, "retry_after": 0.1}),
    ("down (503)", "fail_next", {"n": 6, "status": 503}),
    ("server error (500)", "fail_next", {"n": 4, "status": 500}),
    ("slow beyond the timeout", "slow_next", {"n": 2, "seconds": 3}),
    ("connection dropped", "drop_next", {"n": 2}),
    (
        "bill stored, answer dropped",
        "drop_next",
        {"n": 1, "path": "/invoices", "method": "POST", "processed": True},
    ),
    ("garbled answer", "malformed_next", {"n": 2}),
    (
        "bill stored, answer garbled",
        "malformed_next",
        {"n": 1, "path": "/invoices", "method": "POST", "processed": True},
    ),
    (
        "payments answered as junk",
        "answer_next",
        {"n": 1, "path": "/payments", "body": {"Items": "junk"}},
    ),
    ("tokens expired", "expire_tokens", {}),
    ("credentials refused", "reject_credentials", {"reject": True}),
]


def phase_faults():
    connection = setup()
    for number, (name, action, options) in enumerate(FAULTS):
        since = fields.Datetime.now()
        post_bills(f"F{number}")
        pay_what_is_sent()
        sim(action, options)
        started = time.perf_counter()
        cycle(connection, batches=1)
        if action not in ("expire_tokens",):
            ok, detail = visible(connection, since)
            check(f"{name}: visible with a reason", ok, detail)
        sim("clear_faults", {})
        for _round in range(3):
            cycle(connection)
        pay_what_is_sent()
        cycle(connection)
        agree(connection, name)
        print(f"fault_matrix: {name}: recovered in {time.perf_counter() - started:.1f} s")


def phase_backlog():
    connection = backend()
    post_bills("KILL", 300)
    cycle(connection, batches=10)
    pay_what_is_sent()
    print("fault_matrix: backlog of payments ready", flush=True)
    stream = connection._stream("payment")
    for _batch in range(100):  # the shell script kills this process in the middle
        with env.cr.savepoint():
            done, left = stream._run_batch(batch_size=10)
        env.cr.commit()
        print(f"fault_matrix: import slice: {done} registered, {left} waiting", flush=True)
        if not left:
            break


def phase_check():
    connection = backend()
    registered = env["avidxchange.payment"].search_count([("state", "=", "posted")])
    print(f"fault_matrix: after kill -9: {registered} payments registered before the kill")
    for _round in range(3):
        cycle(connection)
    agree(connection, "kill -9 mid-import and restart")


{"faults": phase_faults, "backlog": phase_backlog, "check": phase_check}[PHASE]()
print(f"fault_matrix: {len(failures)} defects" + (": " + "; ".join(failures) if failures else ""))
sys.exit(1 if failures else 0)
