"""What the scripts run through ``odoo-bin shell`` share: the simulator's admin API,
a connection to the simulator, vendor bills, and the streams run as the crons run them.

Not a script: benchmark.py, fault_matrix.py, ledger_check.py and demo_seed.py import
it. The shell scripts put this folder on the shell's PYTHONPATH (``ODOO_SHELL`` in
scripts/lib.sh); the simulator's address and credentials come from the environment
they set (``scratch_simulator``). ``env`` is the Odoo shell's, passed in.
"""

import json
import os
import urllib.request

from odoo import Command, fields

SIM_URL = os.environ.get("AVX_SIM_URL", "")
KINDS = ("gl_code", "vendor", "purchase_order", "bill", "captured_invoice", "payment")
# The simulator is on localhost: never through a proxy the environment may name.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def sim(action, payload=None, timeout=60):
    """Call the simulator's admin API: GET without payload, POST with one."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{SIM_URL}/_sim/{action}",
        data=data,
        method="GET" if payload is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with _opener.open(request, timeout=timeout) as response:
        return json.load(response)["result"]


def allow_simulator(env, hosts="127.0.0.1"):
    """The simulator is not on AvidXchange's hosts: the server administrator allows it."""
    env["ir.config_parameter"].set_param("account_avidxchange.allowed_hosts", hosts)


def bank_journal(env, company):
    return env["account.journal"].search(
        [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
    )


def connection_values(name, **values):
    """A connection to this run's simulator, named ``name``, with ``values`` on top."""
    return {
        "name": name,
        "environment": "sandbox",
        "base_url": SIM_URL,
        "token_url": SIM_URL + "/token",
        "client_id": os.environ["AVX_SIM_CLIENT_ID"],
        "client_secret": os.environ["AVX_SIM_CLIENT_SECRET"],
        "avidxchange_company_id": os.environ["AVX_SIM_COMPANY_ID"],
        **values,
    }


def activated_connection(env, company, name, **values):
    """An active connection of ``company`` to this run's simulator, for bills dated from
    today, its alerts to the administrator (``odoo-bin shell`` runs as OdooBot)."""
    allow_simulator(env)
    connection = (
        env["avidxchange.backend"]
        .with_company(company)
        .create(
            connection_values(
                name,
                responsible_user_id=env.ref("base.user_admin").id,
                journal_id=bank_journal(env, company).id,
                **values,
            )
        )
    )
    connection.bill_date_from = fields.Date.today()
    connection.action_activate()
    return connection


def bill_values(vendor, ref, *lines, invoice_date=None):
    """A vendor bill of ``vendor``: one line per ``(label, quantity, unit price)``, no taxes."""
    return {
        "move_type": "in_invoice",
        "partner_id": vendor.id,
        "ref": ref,
        "invoice_date": invoice_date or fields.Date.today(),
        "invoice_line_ids": [
            Command.create(
                {
                    "name": label,
                    "quantity": quantity,
                    "price_unit": price,
                    "tax_ids": [Command.clear()],
                }
            )
            for label, quantity, price in lines
        ],
    }


def run_streams(env, connection, kinds=KINDS, batches=1000):
    """Every stream, batch after batch, committed after each, as the cron runs them."""
    for kind in kinds:
        stream = connection._stream(kind)
        for _batch in range(batches):
            with env.cr.savepoint():
                done, left = stream._run_batch()
            env.cr.commit()
            if not left or not done:
                break
