"""Rows two streams may want at once: take what can be taken now, leave the rest."""

from psycopg2.errors import LockNotAvailable, SerializationFailure, UniqueViolation

from odoo.tools import mute_logger


def lock_available(records):
    """``records`` less those this transaction cannot lock right now.

    ``try_lock_for_update`` skips rows another transaction holds; but a row
    that another transaction changed and committed after this one began makes
    PostgreSQL refuse the lock under Odoo's repeatable read, with an error
    that would abort the whole transaction. That row is skipped too (it is
    someone else's news: the next run sees it), in a savepoint so the
    transaction goes on; when a set fails so, its rows are tried one by one.
    """
    if not records:
        return records
    try:
        with mute_logger("odoo.sql_db"), records.env.cr.savepoint(flush=False):
            return records.try_lock_for_update()
    except (SerializationFailure, LockNotAvailable):
        if len(records) == 1:
            return records.browse()
    return records.browse().union(*(lock_available(record) for record in records))


def create_unless_taken(model, vals_list):
    """Create the records of ``vals_list`` that no other transaction created
    meanwhile (it committed one this transaction cannot see yet, and a unique
    constraint refuses ours); returns those created. The others are someone
    else's: this transaction leaves what needs them for the next run."""
    if not vals_list:
        return model.browse()
    try:
        with mute_logger("odoo.sql_db"), model.env.cr.savepoint():
            return model.create(vals_list)
    except (UniqueViolation, SerializationFailure):
        if len(vals_list) == 1:
            return model.browse()
    return model.browse().union(*(create_unless_taken(model, [vals]) for vals in vals_list))
