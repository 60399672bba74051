"""19.0.1.0.0 → 19.0.1.1.0, after the models load: the sync moved from the
connection into streams.

- Each connection gets its streams, with the high-water marks and intervals
  it had (vendors and GL codes share the old vendor interval, purchase orders
  and bills the bill interval), so nothing is read or sent again.
- The three scheduled actions (kept ``noupdate``) now run the due streams and
  stay active; the streams' intervals say how often each one is due.
- Failed payment-page exchanges were about the connection; they are about its
  payment stream now, so that replaying one imports payments again.
- Imported payments get the meaning of their status (paid, cleared...), and
  the reports kept on them lose the bank details they held in clear.
- The sync ran as the superuser; it runs as the dedicated integration user
  now, which is given each connection's company.

The old columns on ``avidxchange_backend`` are read here and dropped by Odoo
afterwards, with their fields.
"""

import json
from datetime import timedelta

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from odoo.addons.account_avidxchange import const
from odoo.addons.account_avidxchange.tools.redaction import redact

OLD_SETTINGS = {  # stream kind: (old mark column, old interval column)
    "gl_code": (None, "vendor_sync_interval"),
    "vendor": ("vendor_sync_mark", "vendor_sync_interval"),
    "purchase_order": (None, "bill_sync_interval"),
    "bill": ("bill_sync_mark", "bill_sync_interval"),
    "payment": ("payment_sync_mark", "payment_sync_interval"),
}
CRONS = {
    "ir_cron_avidxchange_export_vendors": (
        "AvidXchange: send GL codes and vendors",
        'model._cron_run(["gl_code", "vendor"])',
    ),
    "ir_cron_avidxchange_export_bills": (
        "AvidXchange: send purchase orders and bills",
        'model._cron_run(["purchase_order", "bill"])',
    ),
    "ir_cron_avidxchange_import_payments": (
        "AvidXchange: import payments",
        'model._cron_run(["payment"])',
    ),
}


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    _create_streams(env)
    _point_crons_at_streams(env)
    _move_payment_page_exchanges(env)
    _complete_payments(env)
    _name_the_sync_user(env)


def _create_streams(env):
    Stream = env["avidxchange.stream"]
    old = _old_backend_settings(env.cr)
    for backend in env["avidxchange.backend"].search([]):
        existing = set(backend.stream_ids.mapped("kind"))
        values_list = [v for v in Stream._default_values(backend) if v["kind"] not in existing]
        settings = old.get(backend.id, {})
        for values in values_list:
            # a kind newer than this step had no setting: it starts with its defaults
            mark_column, interval_column = OLD_SETTINGS.get(values["kind"], (None, None))
            if settings.get(interval_column):
                values["interval"] = settings[interval_column]
            if mark_column and settings.get(mark_column):
                values["mark"] = settings[mark_column]
            if values["kind"] == "payment" and values.get("mark"):
                # The old mark was Odoo's clock; the new one is AvidXchange's,
                # which may run behind ours: step back by the skew allowed.
                values["mark"] -= timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
        Stream.create(values_list)


def _old_backend_settings(cr):
    """``{backend id: {old column: value}}`` for the old columns still there."""
    columns = sorted(
        {
            column
            for pair in OLD_SETTINGS.values()
            for column in pair
            if column and column_exists(cr, "avidxchange_backend", column)
        }
    )
    if not columns:
        return {}
    cr.execute(
        SQL(
            "SELECT id, %s FROM avidxchange_backend",
            SQL(", ").join(SQL.identifier(column) for column in columns),
        )
    )
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cr.fetchall()}


def _point_crons_at_streams(env):
    """By SQL: ``ir.cron.write`` refuses a cron that a worker is running, and
    that must not stop an upgrade."""
    model = env["ir.model"]._get("avidxchange.stream")
    for xmlid, (name, code) in CRONS.items():
        cron = env.ref(f"account_avidxchange.{xmlid}", raise_if_not_found=False)
        if not cron:
            continue
        env.cr.execute(
            """
            UPDATE ir_act_server
               SET name = jsonb_build_object('en_US', %(name)s::text), code = %(code)s,
                   model_id = %(model)s
             WHERE id = %(action)s;
            UPDATE ir_cron
               SET cron_name = %(name)s, active = TRUE, interval_number = 1,
                   interval_type = 'minutes'
             WHERE id = %(cron)s;
            """,
            {
                "name": name,
                "code": code,
                "model": model.id,
                "action": cron.ir_actions_server_id.id,
                "cron": cron.id,
            },
        )
    env["ir.cron"].invalidate_model()
    env["ir.actions.server"].invalidate_model()


def _move_payment_page_exchanges(env):
    for stream in env["avidxchange.stream"].search([("kind", "=", "payment")]):
        env.cr.execute(
            """
            UPDATE avidxchange_exchange_log
               SET res_model = 'avidxchange.stream', res_id = %s
             WHERE operation = 'payment_import'
               AND res_model = 'avidxchange.backend'
               AND res_id = %s
            """,
            (stream.id, stream.backend_id.id),
        )


def _complete_payments(env):
    for payment in env["avidxchange.payment"].search([]):
        values = {"status_category": const.PAYMENT_STATUS_CATEGORIES.get(payment.status)}
        try:
            values["last_report"] = json.dumps(
                redact(json.loads(payment.last_report or "null")), indent=1, sort_keys=True
            )
        except ValueError:
            values["last_report"] = False  # not JSON: nothing worth keeping in clear
        payment.write(values)


def _name_the_sync_user(env):
    """The scheduled sync ran as the superuser; it now runs as the dedicated
    integration user (created by this version's data), in each connection's
    company."""
    user = env.ref("account_avidxchange.user_avidxchange_integration", raise_if_not_found=False)
    backends = env["avidxchange.backend"].search([("sync_user_id", "=", False)])
    if user and backends:
        backends.sync_user_id = user
        backends._grant_integration_user_companies()
