"""Benchmark of the AvidXchange sync, run by scripts/benchmark.sh through ``odoo-bin shell``.

How to run it: ``scripts/benchmark.sh [N]`` (N vendors and N bills, default 200); the
script sets up a throwaway database and the simulator, then feeds this file to the shell.

What it measures, and why: the cost of one sync of N records against the bundled
simulator over real localhost HTTP, phase by phase, so that a change that makes the
sync slower, chattier or hungrier shows up as a figure, and so that comparing runs with
different N tells whether a cost grows with the volume (per-record figures that rise
with N point at an N+1 query or a quadratic loop):

1. one batch of the vendor stream (``_run_batch(N)``): N vendors marked for AvidXchange;
2. one batch of the bill stream: N posted bills (2 lines, no taxes);
3. the payment stream, batch after batch as the cron runs it: after the
   simulator approved and paid (ACH) each invoice through its admin API, one payment
   per invoice;
4. the idle cycle: the vendor, bill and payment streams again with nothing changed;
   its per-record figures are divided by N, the records the cycle has to look at;
5. the yardstick: Odoo's own register-payment wizard, bill by bill, on N equal bills,
   committed in slices of 50 as the import is; the ``ratio:`` line compares it with 3;
6. sends at AvidXchange's latency: the simulator answers every request after 100 ms
   (``set_latency``), and the bill stream sends ``AVX_BENCH_SEND_N`` new bills (default
   N, at most 100) with their images, one request at a time, then as many others several
   at a time (``parallel_requests``); the ``sends:`` line says bills per second of each.
   ``AVX_BENCH_SENDS=0`` skips it.

The connection's own requests-per-minute limit is off (``requests_per_minute`` 0): the
figures are the connector's, not the budget's.

Each phase is timed with ``time.perf_counter`` and includes the commit that ends it;
"cpu s" is the process's CPU time (``time.process_time``), what a cron worker's
``limit_time_cpu`` (60 s by default) counts; SQL queries are the shell cursor's
``env.cr.sql_log_count`` deltas (flush included); HTTP requests are those the simulator
logged (token and API, not its admin API); peak memory is tracemalloc's peak of Python
allocations during the phase. tracemalloc slows Python down two to three times: set
``AVX_BENCH_TRACEMALLOC=0`` for timings without it (peak then shows "-").
``AVX_BENCH_PROFILE=<file>`` dumps a cProfile of phase 3 there (``python -m pstats``);
``AVX_BENCH_WIZARD=0`` skips phase 5 (e.g. for a quicker run under tracemalloc).
``AVX_BENCH_QUERIES=1`` prints where phase 3's SQL queries come from (the Odoo addon
line and this module's line that led to each), how many and how long PostgreSQL took
for them, longest first; with
``AVX_BENCH_QUERY_STACK=<text>``, the whole stack of the first query whose origin (as
printed) holds that text.
It prints figures and asserts nothing; the ``check:`` lines say whether the sync
really did its job. ``env`` is given by the Odoo shell; N and the simulator's address
and credentials come from the environment scripts/benchmark.sh sets.
"""

import collections
import contextlib
import cProfile
import os
import time
import traceback
import tracemalloc

import avx_shell
from avx_shell import allow_simulator, bank_journal, bill_values, connection_values

import odoo.sql_db

from odoo.addons.account_avidxchange import const

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell

N = int(os.environ.get("AVX_BENCH_N", "200"))
TRACE_MEMORY = os.environ.get("AVX_BENCH_TRACEMALLOC", "1") != "0"
PROFILE = os.environ.get("AVX_BENCH_PROFILE")  # a file: cProfile of phase 3 goes there
WIZARD = os.environ.get("AVX_BENCH_WIZARD", "1") != "0"  # 0: no phase 5 (memory runs)
QUERIES = os.environ.get("AVX_BENCH_QUERIES") == "1"  # 1: phase 3's queries by origin
STACK_OF = os.environ.get("AVX_BENCH_QUERY_STACK")  # the stack of a query from that line
SENDS = os.environ.get("AVX_BENCH_SENDS", "1") != "0"  # 0: no phase 6
SEND_N = int(os.environ.get("AVX_BENCH_SEND_N", str(min(N, 100))))
LATENCY_MS = 100  # AvidXchange's gateway answers in 100-500 ms
PARALLEL = const.DEFAULT_PARALLEL_REQUESTS
COUNT_SQL = hasattr(env.cr, "sql_log_count")


def sim(action, payload=None):
    return avx_shell.sim(action, payload, timeout=30)


def sql_count():
    return env.cr.sql_log_count if COUNT_SQL else 0


class Phase:
    """Measures what runs inside ``with Phase(...) as phase:`` and commits at the end."""

    results = []

    def __init__(self, name, records=N):
        self.name = name
        self.records = records
        self.detail = ""

    def __enter__(self):
        env.cr.commit()  # start from a clean transaction: no pending flush counted
        self.http = sim("count")
        if TRACE_MEMORY:
            tracemalloc.start()
        self.sql = sql_count()
        self.cpu = time.process_time()
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, *_exc):
        if exc_type is not None:
            if TRACE_MEMORY:
                tracemalloc.stop()
            return
        env.cr.commit()  # flushes: the pending writes of the phase are counted
        self.seconds = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu
        self.queries = sql_count() - self.sql
        self.peak = None
        if TRACE_MEMORY:
            self.peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        self.requests = sim("count") - self.http
        Phase.results.append(self)
        print(self.line(), flush=True)

    def line(self):
        records = max(self.records, 1)
        queries = f"{self.queries / records:7.1f}" if COUNT_SQL else "      -"
        peak = f"{self.peak:7.1f}" if self.peak is not None else "      -"
        return (
            f"{self.name:<16} {self.records:>6} {self.seconds:8.2f} {self.cpu:7.2f} "
            f"{self.records / self.seconds:9.1f} {1000 * self.seconds / records:8.1f} "
            f"{queries} {self.requests:>6} {peak}   {self.detail}"
        )


@contextlib.contextmanager
def query_origins():
    """Count the queries run inside by where they come from: the innermost
    line of an Odoo addon (not the ORM) and of this module that led there,
    with the seconds PostgreSQL took for them (what grows with the ledger)."""
    counted = collections.Counter()
    timed = collections.Counter()
    shown = []
    MODULE_DIR = os.path.dirname(const.__file__) + os.sep
    execute = odoo.sql_db.Cursor.execute

    def counting(cursor, *args, **kwargs):
        stack = traceback.extract_stack(limit=60)[:-1]
        addon = ours = "-"
        for frame in reversed(stack):
            where = "/".join(frame.filename.split("/")[-2:])
            if frame.filename.startswith(MODULE_DIR):
                ours = f"{where}:{frame.lineno} {frame.name}"
                break
            if addon == "-" and "/addons/" in frame.filename:
                addon = f"{where}:{frame.lineno} {frame.name}"
        counted[addon, ours] += 1
        if STACK_OF and STACK_OF in f"{addon}  <-  {ours}" and not shown:
            shown.append(addon)  # the whole stack of the first query from there
            print("".join(traceback.format_list(stack[-40:])), flush=True)
        started = time.perf_counter()
        try:
            return execute(cursor, *args, **kwargs)
        finally:
            timed[addon, ours] += time.perf_counter() - started

    odoo.sql_db.Cursor.execute = counting
    try:
        yield counted, timed
    finally:
        odoo.sql_db.Cursor.execute = execute


def setup():
    company = env.ref("base.main_company")
    allow_simulator(env)
    backend = (
        env["avidxchange.backend"]
        .with_company(company)
        .create(
            connection_values(
                "AvidXchange (benchmark simulator)", journal_id=bank_journal(env, company).id
            )
        )
    )
    us = env.ref("base.us")
    vendors = (
        env["res.partner"]
        .with_company(company)
        .create(
            [
                {
                    "name": f"Benchmark Vendor {i:05d}",
                    "is_company": True,
                    "email": f"ap{i}@vendor.example",
                    "street": f"{i} Main St",
                    "city": "Charlotte",
                    "zip": "28202",
                    "country_id": us.id,
                    "avidxchange_enabled": True,
                }
                for i in range(N)
            ]
        )
    )
    bills = make_bills(company, vendors, "BENCH")
    backend.requests_per_minute = 0  # see the module's docstring
    env.cr.commit()
    return backend.with_company(company), vendors, bills


def make_bills(company, vendors, prefix):
    """One posted bill per vendor, two lines, no taxes: the same for every phase."""
    bills = (
        env["account.move"]
        .with_company(company)
        .create(
            [
                bill_values(
                    vendor,
                    f"{prefix}-{i:05d}",
                    *((f"Benchmark line {line}", line, 100.0 + i + line / 4) for line in (1, 2)),
                )
                for i, vendor in enumerate(vendors)
            ]
        )
    )
    bills.action_post()
    return bills


def pay_everything():
    """Approve, then pay (ACH, one payment each), every invoice the simulator holds."""
    started = time.perf_counter()
    invoices = sim("invoices")
    for invoice in invoices:
        sim("approve_invoice", {"invoice_id": invoice["Id"]})
        sim(
            "pay",
            {
                "allocations": [{"invoice_id": invoice["Id"], "amount": invoice["Balance"]}],
                "method": "ACH",
            },
        )
    seconds = time.perf_counter() - started
    print(
        f"(simulator: {len(invoices)} invoices approved and paid through /_sim in "
        f"{seconds:.2f} s, not part of any phase)",
        flush=True,
    )


def yardstick(backend, vendors):
    """Odoo's own register-payment wizard, bill by bill, on as many equal
    bills, in slices of 50 per transaction as the import commits."""
    company = backend.company_id
    wizard_bills = make_bills(company, vendors, "WIZARD")
    env.cr.commit()
    with Phase("5 Odoo wizard") as phase:
        for start in range(0, N, 50):
            for bill in wizard_bills[start : start + 50]:
                env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=bill.ids
                ).create({"journal_id": backend.journal_id.id})._create_payments()
            env.cr.commit()
        phase.detail = "the same number of equal bills, one wizard each"
    imported, wizard = Phase.results[2], Phase.results[-1]
    print(
        f"ratio: the import registers a payment {wizard.seconds / imported.seconds:.2f}x as fast "
        f"as Odoo's wizard ({imported.seconds / N * 1000:.0f} ms vs "
        f"{wizard.seconds / N * 1000:.0f} ms per payment, HTTP included)",
        flush=True,
    )


def sends(backend, vendors):
    """Bills with their images sent at 100 ms a request, one at a time, then in
    parallel: new bills of vendors AvidXchange has, one per vendor."""
    rates = {}
    sim("set_latency", {"latency_ms": LATENCY_MS, "jitter_ms": 0})
    try:
        for workers in (1, PARALLEL):
            bills = make_bills(backend.company_id, vendors[:SEND_N], f"SEND{workers}")
            for bill in bills:
                bill.message_main_attachment_id = env["ir.attachment"].create(
                    {
                        "name": f"{bill.ref}.pdf",
                        "raw": b"%PDF-1.4 benchmark bill " + bill.ref.encode(),
                        "res_model": "account.move",
                        "res_id": bill.id,
                    }
                )
            backend.parallel_requests = workers
            with Phase(f"6 sends x{workers}", len(bills)) as phase:
                sent, left = backend._stream("bill")._run_batch(len(bills))
                phase.records = sent
                phase.detail = f"{LATENCY_MS} ms a request: sent {sent}, still pending {left}"
            rates[workers] = phase.records / phase.seconds
    finally:
        sim("set_latency", {"latency_ms": 0})
    print(
        f"sends: at {LATENCY_MS} ms a request, {rates[1]:.1f} bills/s one at a time, "
        f"{rates[PARALLEL]:.1f} bills/s {PARALLEL} at a time "
        f"({rates[PARALLEL] / rates[1]:.1f}x), images included",
        flush=True,
    )


def main():
    print(f"AvidXchange sync benchmark: N={N}, simulator {avx_shell.SIM_URL}", flush=True)
    if not COUNT_SQL:
        print("(this Odoo's cursor has no sql_log_count: SQL queries are not counted)")
    if TRACE_MEMORY:
        print("(tracemalloc is on: seconds are inflated; AVX_BENCH_TRACEMALLOC=0 to time)")
    started = time.perf_counter()
    backend, vendors, bills = setup()
    print(
        f"(setup: backend, {len(vendors)} vendors, {len(bills)} posted bills in "
        f"{time.perf_counter() - started:.1f} s, not measured)",
        flush=True,
    )
    print(
        f"{'phase':<16} {'recs':>6} {'seconds':>8} {'cpu s':>7} {'recs/s':>9} {'ms/rec':>8} "
        f"{'sql/rec':>7} {'http':>6} {'peakMiB':>7}   detail"
    )

    with Phase("1 export vendors") as phase:
        sent, left = backend._stream("vendor")._run_batch(N)
        phase.records = sent
        phase.detail = f"sent {sent}, still pending {left}"

    with Phase("2 export bills") as phase:
        sent, left = backend._stream("bill")._run_batch(N)
        phase.records = sent
        phase.detail = f"sent {sent}, still pending {left}"

    pay_everything()

    with Phase("3 import pays") as phase:
        # As the cron does: slice after slice, committing in between.
        applied, slices, more = 0, 0, True
        profiler = cProfile.Profile() if PROFILE else None
        if profiler:
            profiler.enable()
        origins = query_origins() if QUERIES else contextlib.nullcontext(({}, {}))
        with origins as (counted, timed):
            while more:
                done, more = backend._stream("payment")._run_batch()
                env.cr.commit()
                applied, slices = applied + done, slices + 1
        if profiler:
            profiler.disable()
            profiler.dump_stats(PROFILE)
        per_payment = max(applied, 1)
        for (addon, ours), n in sorted(counted.items(), key=lambda item: -timed[item[0]])[:25]:
            print(
                f"queries: {n / per_payment:6.2f} per payment "
                f"{1000 * timed[addon, ours] / per_payment:6.2f} ms  {addon}  <-  {ours}"
            )
        phase.records = applied
        phase.detail = f"{applied} payments registered in {slices} slices"

    with Phase("4 idle cycle") as phase:
        vendors_sent, _left = backend._stream("vendor")._run_batch()
        bills_sent, _left = backend._stream("bill")._run_batch()
        applied, _more = backend._stream("payment")._run_batch()
        phase.detail = (
            f"nothing changed: sent {vendors_sent} vendors, {bills_sent} bills, "
            f"applied {applied} payment reports (the overlap window is read again)"
        )

    if WIZARD:
        yardstick(backend, vendors)

    if SENDS:
        sends(backend, vendors)

    results = Phase.results
    peaks = [p.peak for p in results if p.peak is not None]
    queries = sum(p.queries for p in results)
    print(
        f"summary: N={N}, {sum(p.seconds for p in results):.2f} s, "
        + (f"{queries} SQL queries, " if COUNT_SQL else "")
        + f"{sum(p.requests for p in results)} HTTP requests"
        + (f", peak {max(peaks):.1f} MiB" if peaks else "")
        + f" over {len(results)} phases",
        flush=True,
    )

    env.invalidate_all()

    def synced(model, field, records):
        domain = [("backend_id", "=", backend.id), ("state", "=", "synced")]
        return env[model].search_count(domain + [(field, "in", records.ids)])

    exported = synced("avidxchange.partner.link", "partner_id", vendors)
    submitted = synced("avidxchange.invoice.link", "move_id", bills)
    paid = bills.filtered(lambda bill: bill.payment_state in ("paid", "in_payment"))
    failed = env["avidxchange.exchange.log"].search_count(
        [("backend_id", "=", backend.id), ("state", "=", "failed")]
    )
    print(f"check: {exported}/{len(vendors)} vendors exported")
    print(f"check: {submitted}/{len(bills)} bills exported")
    print(f"check: {len(paid)}/{len(bills)} bills paid")
    print(f"check: {failed} failed exchanges in the audit trail", flush=True)


main()
