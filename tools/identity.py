"""Which database a connection speaks for, and how a copy of it shows.

Vendor codes and bill ids carry a prefix of the database's own
(``const.EXTERNAL_ID_FORMAT``). A copy made with pg_dump/pg_restore keeps
``database.uuid``, hence that prefix and every link: wired to the same
AvidXchange company, it would overwrite the original's vendors. So a
connection notes the database it was set up in, and a copy shows as another
database than the one noted:

- ``database.uuid``: Odoo gives a new one to the databases it duplicates or
  restores "as a copy";
- the database's name: a dump restored by hand on the same server has
  another one.

``web.base.url`` is noted (to name the original in words) but never
compared: Odoo rewrites it whenever an administrator logs in at another
address, which happens on the original all the time.
"""

import uuid

from .. import const


def database_prefix(database_uuid):
    """The part of external ids that tells databases apart: the start of ``database_uuid``."""
    return (database_uuid or "").replace("-", "")[: const.EXTERNAL_ID_DATABASE_CHARS]


def new_prefix(taken=()):
    """A prefix of its own for a copy reconnected as a new database: random,
    none of ``taken``."""
    while True:
        prefix = uuid.uuid4().hex[: const.EXTERNAL_ID_DATABASE_CHARS]
        if prefix not in taken:
            return prefix


def looks_like_copy(noted, current):
    """Whether a connection noted in the database ``noted`` runs in another
    one, ``current``: both ``(database.uuid, database name)``. Nothing noted
    yet (a connection older than this check) is nothing to compare."""
    return bool(noted[0]) and tuple(noted) != tuple(current)
