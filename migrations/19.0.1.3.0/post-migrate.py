"""19.0.1.2.0 → 19.0.1.3.0, after the models load: each connection notes the
database it speaks for, so that a copy of this database made afterwards
shows as one and sends nothing until it is reconnected (see
``tools/identity.py``).

Connections are taken as made in this database: their external ids already
carry its ``database.uuid``, and they keep that prefix. (A connection the
upgrade misses, or an upgrade run without this step, notes its database on
its next run instead: ``avidxchange.backend._check_database_identity``.)
"""

from odoo.tools import SQL

from odoo.addons.account_avidxchange.tools.identity import database_prefix


def migrate(cr, version):
    if not version:
        return
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
