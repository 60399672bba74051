"""The requests-per-minute budget of one AvidXchange connection, shared by every
Odoo worker and host: kept in PostgreSQL, the one thing they all share.

A row per connection (``TABLE``) says when the current minute began, how many
requests it has taken, and until when nobody may send (``not_before``: a 429
seen by one worker slows them all). A request takes its slot with one atomic
``UPDATE ... RETURNING`` in a short read committed transaction of its own (a
cursor of its own connection: ``sql_db.db_connect(...).cursor``), so that two
workers never take the same slot and no transaction of the ORM holds the row. No ORM
here: the backend model builds a :class:`SharedBudget` with a cursor factory
and hands it to the client, which calls ``take()`` before
each request and ``pause(seconds)`` on a 429.
"""

import logging
import time

_logger = logging.getLogger(__name__)

TABLE = "avidxchange_rate_budget"
# No foreign key: a connection created in a transaction not yet committed
# (a test's, a wizard's) is given a budget by another transaction.
CREATE_TABLE = f"""
    CREATE TABLE IF NOT EXISTS {TABLE} (
        backend_id integer PRIMARY KEY,
        window_start timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
        used integer NOT NULL DEFAULT 0,
        not_before timestamp
    )
"""
_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
_NEW_MINUTE = f"window_start <= {_NOW} - interval '1 minute'"
_ENSURE = f"INSERT INTO {TABLE} (backend_id) VALUES (%(key)s) ON CONFLICT DO NOTHING"
_TAKE = f"""
    UPDATE {TABLE}
       SET window_start = CASE WHEN {_NEW_MINUTE} THEN {_NOW} ELSE window_start END,
           used = CASE WHEN {_NEW_MINUTE} THEN 1 ELSE used + 1 END
     WHERE backend_id = %(key)s
       AND (not_before IS NULL OR not_before <= {_NOW})
       AND (%(limit)s <= 0 OR used < %(limit)s OR {_NEW_MINUTE})
 RETURNING used
"""
_WAIT = f"""
    SELECT GREATEST(
               COALESCE(EXTRACT(EPOCH FROM not_before - {_NOW}), 0),
               CASE WHEN %(limit)s > 0 AND used >= %(limit)s
                    THEN EXTRACT(EPOCH FROM window_start + interval '1 minute' - {_NOW})
                    ELSE 0 END
           )
      FROM {TABLE} WHERE backend_id = %(key)s
"""
_PAUSE = f"""
    UPDATE {TABLE}
       SET not_before = GREATEST(
               COALESCE(not_before, {_NOW}), {_NOW} + %(seconds)s * interval '1 second'
           )
     WHERE backend_id = %(key)s
"""
# How long ``take`` sleeps at most before it asks again (a pause may be cut
# short by nobody, but the minute's budget frees up on time).
POLL_SECONDS = 1.0


class SharedBudget:
    """The budget of connection ``key``: ``per_minute`` requests a minute
    (0: no limit, the pauses still hold), for every worker at once.

    :param cursor: a callable returning a new cursor of its own connection,
        a context manager that commits on leaving (``db_connect(db).cursor``,
        never one that shares another transaction)
    :param max_pause: a pause asked for longer than this is cut to it
    """

    def __init__(self, cursor, key, per_minute, *, max_pause=120.0, sleep=time.sleep):
        self._cursor = cursor
        self.key = key
        self.per_minute = max(0, int(per_minute or 0))
        self.max_pause = max_pause
        self._sleep = sleep

    def take(self):
        """Take a slot of the minute's budget, first waiting for one (and for
        the end of a pause) as long as it takes; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = self.try_take()
            if wait <= 0:
                if waited:
                    _logger.info("AvidXchange budget %s: waited %.1f s", self.key, waited)
                return waited
            wait = min(wait, POLL_SECONDS)
            self._sleep(wait)
            waited += wait

    def try_take(self):
        """Take a slot if there is one now: 0; else the seconds to wait."""
        params = {"key": self.key, "limit": self.per_minute}
        return self._run(lambda cr: self._try_take(cr, params))

    def pause(self, seconds):
        """Nobody sends for ``seconds`` (capped at ``max_pause``) from now:
        AvidXchange throttles this connection (HTTP 429, ``Retry-After``)."""
        seconds = max(0.0, min(float(seconds), self.max_pause))
        if seconds:
            _logger.info("AvidXchange budget %s: every worker pauses %.1f s", self.key, seconds)
            self._run(lambda cr: cr.execute(_PAUSE, {"key": self.key, "seconds": seconds}))

    def state(self):
        """``(requests this minute, seconds still to wait)``, for health and tests."""

        def read(cr):
            cr.execute(_ENSURE, {"key": self.key})
            cr.execute(_WAIT, {"key": self.key, "limit": self.per_minute})
            wait = float(cr.fetchone()[0])
            cr.execute(f"SELECT used FROM {TABLE} WHERE backend_id = %s", [self.key])
            return cr.fetchone()[0], max(0.0, wait)

        return self._run(read)

    @staticmethod
    def _try_take(cr, params):
        cr.execute(_ENSURE, params)
        cr.execute(_TAKE, params)
        if cr.fetchone():
            return 0.0
        cr.execute(_WAIT, params)
        row = cr.fetchone()
        # a minute that ended between the two statements: ask again at once
        return max(float(row[0]) if row else 0.0, 0.001)

    def _run(self, work):
        """``work(cr)`` in a short transaction of its own, committed, read
        committed: a worker that finds the row locked by another waits for
        it (a few milliseconds), then takes the next slot, if any."""
        with self._cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            return work(cr)
