"""19.0.1.2.0 → 19.0.1.3.0, after the models load: each connection notes the
database it speaks for, so that a copy of this database made afterwards
shows as one and sends nothing until it is reconnected (see
``tools/identity.py``).

Connections are taken as made in this database: their external ids already
carry its ``database.uuid``, and they keep that prefix. (A connection the
upgrade misses, or an upgrade run without this step, notes its database on
its next run instead: ``avidxchange.backend._check_database_identity``.)
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

from odoo.addons.account_avidxchange.tools.identity import database_prefix


def migrate(cr, version):
    if not version:
        return
    _note_database(cr)
    _name_a_responsible_person(api.Environment(cr, SUPERUSER_ID, {}))


def _name_a_responsible_person(env):
    """Alerts reach a person: a connection whose Responsible is OdooBot, a
    portal or an archived user (made by a script, say) names an active
    AvidXchange administrator of its company instead, and says so."""
    managers = env.ref("account_avidxchange.group_avidxchange_manager").all_user_ids
    for backend in env["avidxchange.backend"].with_context(active_test=False).search([]):
        user = backend.responsible_user_id
        if user.active and not user.share and user.id != SUPERUSER_ID:
            continue
        person = managers.filtered(
            lambda u, b=backend: (
                u.active and not u.share and u.id != SUPERUSER_ID and b.company_id in u.company_ids
            )
        )[:1]
        backend.responsible_user_id = person
        backend.message_post(
            body=env._(
                "Upgrade: the Responsible was %(old)s, whom nobody reads; alerts now go to "
                "%(new)s.",
                old=user.name or env._("nobody"),
                new=person.name or env._("nobody (name someone)"),
            )
        )


def _note_database(cr):
    cr.execute(
        SQL(
            "SELECT key, value FROM ir_config_parameter WHERE key IN %s",
            ("database.uuid", "web.base.url"),
        )
    )
    parameters = dict(cr.fetchall())
    database_uuid = parameters.get("database.uuid") or ""
    cr.execute(
        SQL(
            """
            UPDATE avidxchange_backend
               SET identity_database_uuid = %(uuid)s,
                   identity_database_name = %(name)s,
                   identity_base_url = %(url)s,
                   external_id_prefix = COALESCE(external_id_prefix, %(prefix)s)
             WHERE identity_database_uuid IS NULL
            """,
            uuid=database_uuid,
            name=cr.dbname,
            url=parameters.get("web.base.url") or "",
            prefix=database_prefix(database_uuid),
        )
    )
