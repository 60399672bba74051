"""The people and the world of scripts/scale_check.sh, run with the venv's python.

    scale_clerk.py clerk SECONDS   a clerk on Odoo's web API (JSON-RPC, both servers
                                   in turn): creates, edits and posts vendor bills,
                                   pays some before they are sent, tries to reset sent
                                   ones to draft; times every request
    scale_clerk.py world SECONDS   AvidXchange meanwhile: invoices captured and batches
                                   closed there, faults now and then (429, 503, dropped
                                   answers); the simulator's auto-advance approves and
                                   pays what Odoo sends
    scale_clerk.py drain SECONDS   clears the faults, then waits, at most SECONDS, until
                                   the servers' crons have drained the backlog
    scale_clerk.py warm 0          loads the database in every web worker of both
                                   servers (a worker does it at its first request)

Settings from the environment scale_check.sh sets: AVX_SCALE_URLS (the servers,
comma-separated), AVX_SCALE_DB, AVX_SCALE_SETUP (what scale_check.py's setup
wrote), AVX_SCALE_CAPTURED (where the world writes the ids it captured),
AVX_SIM_URL. Each prints its figures as ``scale_check: ...`` lines and exits
non-zero on a defect.
"""

import json
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests

URLS = os.environ["AVX_SCALE_URLS"].split(",")
DB = os.environ["AVX_SCALE_DB"]
SIM_URL = os.environ["AVX_SIM_URL"]
SLOW = 2.0  # seconds: no clerk request may take longer
THINK = float(os.environ.get("AVX_SCALE_THINK", "0.1"))  # between two clerk steps
# Odoo's refusals in words (a RedirectWarning offers the release from a hold).
REFUSALS = ("odoo.exceptions.UserError", "odoo.exceptions.RedirectWarning")
rng = random.Random(int(os.environ.get("AVX_SCALE_SEED", "1")))
SIMULATOR = requests.Session()
SIMULATOR.trust_env = False  # localhost: never through a proxy the environment may name


def say(text):
    print(f"scale_check: {text}", flush=True)


def sim(action, payload=None):
    """The simulator's admin API: GET without payload, POST with one."""
    url = f"{SIM_URL}/_sim/{action}"
    if payload is None:
        response = SIMULATOR.get(url, timeout=60)
    else:
        response = SIMULATOR.post(url, json=payload, timeout=60)
    response.raise_for_status()
    return response.json()["result"]


class OdooError(Exception):
    def __init__(self, error):
        data = error.get("data") or {}
        self.name = data.get("name", "")
        self.message = data.get("message") or error.get("message", "")
        super().__init__(f"{self.name}: {self.message}")


class Server:
    """One Odoo server's web API, as a browser session uses it; every request timed."""

    def __init__(self, url, timings):
        self.url = url
        self.timings = timings
        self.session = requests.Session()
        self.session.trust_env = False  # localhost: no proxy

    def _post(self, path, params, what):
        started, wall = time.perf_counter(), time.strftime("%H:%M:%S")
        try:
            response = self.session.post(
                self.url + path,
                json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
                timeout=60,
            )
        finally:
            elapsed = time.perf_counter() - started
            self.timings.append((elapsed, what, self.url, wall))
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise OdooError(body["error"])
        return body["result"]

    def login(self):
        self._post(
            "/web/session/authenticate",
            {"db": DB, "login": "admin", "password": "admin"},
            "authenticate",
        )

    def call(self, model, method, *args, **kwargs):
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            f"{model}.{method}",
        )


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


# --- the clerk ------------------------------------------------------------------------


class Clerk:
    def __init__(self, vendors):
        self.timings = []
        self.servers = [Server(url, self.timings) for url in URLS]
        self.vendors = vendors
        self.counts = {}
        self.defects = []
        self.number = 0

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    def run(self, seconds):
        for server in self.servers:
            server.login()
        deadline = time.monotonic() + seconds
        step = 0
        while time.monotonic() < deadline:
            server = self.servers[step % len(self.servers)]
            try:
                self.step(server, step)
            except (OdooError, requests.RequestException) as error:
                self.defects.append(f"step {step} on {server.url}: {error}")
            step += 1
            time.sleep(THINK)
        return self.report()

    def step(self, server, step):
        """A bill keyed, corrected and posted; every third paid at once (before
        it is sent, or refused in words); every other step, a sent bill reset to
        draft (must be refused in words)."""
        self.number += 1
        vendor = rng.choice(self.vendors)
        lines = [
            (
                0,
                0,
                {
                    "name": f"Item {i}",
                    "quantity": rng.randint(1, 5),
                    "price_unit": round(rng.uniform(10, 900), 2),
                    "tax_ids": [(5, 0, 0)],
                },
            )
            for i in range(rng.randint(1, 3))
        ]
        bill_id = server.call(
            "account.move",
            "create",
            {
                "move_type": "in_invoice",
                "partner_id": vendor["id"],
                "invoice_date": date.today().isoformat(),
                "ref": f"DRAFT-{self.number}",
                "invoice_line_ids": lines,
            },
        )
        if isinstance(bill_id, list):
            bill_id = bill_id[0]
        server.call("account.move", "write", [bill_id], {"ref": f"SCALE-{self.number:05d}"})
        server.call("account.move", "action_post", [bill_id])
        self.count("bills posted")
        if step % 3 == 0:
            self.pay(server, bill_id)
        if step % 2 == 1:
            self.reset_sent(server)
        if step % 5 == 4:
            server.call(
                "account.move",
                "search_read",
                [("move_type", "=", "in_invoice")],
                fields=["name", "ref", "amount_total", "payment_state", "avidxchange_state"],
                limit=80,
            )
            self.count("bill lists read")

    def pay(self, server, bill_id):
        context = {"active_model": "account.move", "active_ids": [bill_id]}
        try:
            wizard = server.call("account.payment.register", "create", {}, context=context)
            if isinstance(wizard, list):
                wizard = wizard[0]
            server.call(
                "account.payment.register", "action_create_payments", [wizard], context=context
            )
            self.count("payments registered (bill not sent yet)")
        except OdooError as error:
            if error.name not in REFUSALS or "AvidXchange" not in error.message:
                raise
            self.count("payments refused in words (bill being sent or sent)")

    def reset_sent(self, server):
        sent = server.call(
            "account.move",
            "search",
            [
                ("ref", "=like", "SCALE-%"),
                ("avidxchange_state", "=", "synced"),
                ("state", "=", "posted"),
            ],
            limit=20,
            order="id desc",
        )
        if not sent:
            return
        bill_id = rng.choice(sent)
        try:
            server.call("account.move", "button_draft", [bill_id])
        except OdooError as error:
            if error.name not in REFUSALS or not error.message:
                raise
            self.count("resets to draft refused in words")
            return
        self.defects.append(f"bill {bill_id}, sent to AvidXchange, was reset to draft")

    def report(self):
        durations = [t[0] for t in self.timings]
        slowest = max(self.timings, default=(0.0, "-", "-", "-"))
        for what, n in sorted(self.counts.items()):
            say(f"clerk: {n} {what}")
        say(
            f"clerk requests: {len(durations)}, max {slowest[0]:.3f} s ({slowest[1]} on "
            f"{slowest[2]}), p95 {percentile(durations, 0.95):.3f} s, "
            f"median {percentile(durations, 0.5):.3f} s"
        )
        slow = [t for t in self.timings if t[0] > SLOW]
        for elapsed, what, url, wall in slow[:10]:
            self.defects.append(
                f"request {what} on {url} at {wall} took {elapsed:.2f} s (> {SLOW:g} s)"
            )
        if slow:
            self.defects.append(f"{len(slow)} requests slower than {SLOW:g} s")
        for defect in self.defects[:30]:
            say(f"DEFECT: clerk: {defect}")
        return 1 if self.defects else 0


# --- the world ------------------------------------------------------------------------


def world(seconds, setup):
    """Invoices captured in AvidXchange, closed in batches, and faults."""
    vendors = setup["vendors"]
    coded = {"GroupName": "Accounting Codes", "EnterpriseCodeValue": setup["expense_code"]}
    captured, counts = [], {}
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        ids = []
        for _i in range(rng.randint(1, 3)):
            n += 1
            vendor = rng.choice(vendors)
            goods = round(rng.uniform(20, 1500), 2)
            parts = [("Captured goods", goods), ("Freight", round(rng.uniform(5, 80), 2))]
            invoice = {
                "number": f"CAPTURED-{n:05d}",
                "vendor": {"VendorName": vendor["name"], "VendorExternalSystemID": vendor["code"]},
                "amount": round(sum(part for _label, part in parts), 2),
                "distributions": [
                    {
                        "Amount": part,
                        "Description": label,
                        "EnterpriseCodes": [coded],
                    }
                    for label, part in parts
                ],
            }
            ids.append(sim("capture_invoice", invoice))
        sim("close_batch", {"invoice_ids": ids})
        captured += ids
        counts["batches closed"] = counts.get("batches closed", 0) + 1
        roll = rng.random()
        if roll < 0.2:
            status = rng.choice([429, 503])
            sim("fail_next", {"n": rng.randint(1, 3), "status": status, "retry_after": 1})
            counts[f"faults: {status}"] = counts.get(f"faults: {status}", 0) + 1
        elif roll < 0.3:
            processed = rng.random() < 0.5
            sim("drop_next", {"n": 1, "processed": processed})
            what = "faults: answers lost" if processed else "faults: connections dropped"
            counts[what] = counts.get(what, 0) + 1
        with open(os.environ["AVX_SCALE_CAPTURED"], "w", encoding="utf-8") as out:
            json.dump(captured, out)
        time.sleep(rng.uniform(2, 5))
    say(f"world: {len(captured)} invoices captured in AvidXchange")
    for what, count in sorted(counts.items()):
        say(f"world: {count} {what}")
    return 0


# --- the drain ------------------------------------------------------------------------


def backlog(server):
    """What is left to do, in words (empty once drained)."""
    left = []
    streams = server.call(
        "avidxchange.stream",
        "search_read",
        [],
        fields=["kind", "pending_count", "waiting_count", "failure_count"],
    )
    for stream in streams:
        if stream["pending_count"] or stream["waiting_count"] or stream["failure_count"]:
            left.append(
                f"{stream['kind']}: {stream['pending_count']} left, "
                f"{stream['waiting_count']} waiting, {stream['failure_count']} failures"
            )
    invoices = sim("invoices")
    unpaid = [
        i
        for i in invoices
        if i["Status"] in ("Received", "PendingApproval")
        or (i["Status"] == "Approved" and i.get("Balance", 0) > 0)
    ]
    if unpaid:
        left.append(f"{len(unpaid)} invoices not paid yet in AvidXchange")
    paid = len(sim("payments"))
    imported = server.call("avidxchange.payment", "search_count", [])
    if imported != paid:
        left.append(f"{paid - imported} payments not imported")
    return left


def warm():
    """Several sessions at once on each server, so that every web worker has
    loaded the database before the clerk's requests are timed."""

    def visit(url):
        server = Server(url, [])
        server.login()
        server.call("account.move", "search_read", [], fields=["name"], limit=1)

    with ThreadPoolExecutor(8) as pool:
        for _round in range(3):
            list(pool.map(visit, URLS * 4))
    return 0


def drain(seconds):
    sim("clear_faults", {})
    server = Server(URLS[0], [])
    server.login()
    started = time.monotonic()
    shown = 0.0
    while True:
        left = backlog(server)
        elapsed = time.monotonic() - started
        if not left:
            say(f"backlog drained in {elapsed:.0f} s")
            return 0
        if elapsed >= seconds:
            say(f"DEFECT: backlog not drained after {seconds} s: {'; '.join(left)}")
            return 1
        if elapsed - shown >= 30:
            say(f"draining ({elapsed:.0f} s): {'; '.join(left)}")
            shown = elapsed
        time.sleep(5)


def main(mode, seconds):
    with open(os.environ["AVX_SCALE_SETUP"], encoding="utf-8") as setup_file:
        setup = json.load(setup_file)
    if mode == "clerk":
        return Clerk(setup["vendors"]).run(seconds)
    if mode == "world":
        return world(seconds, setup)
    if mode == "drain":
        return drain(seconds)
    if mode == "warm":
        return warm()
    raise SystemExit(f"mode: clerk, world or drain, not {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
