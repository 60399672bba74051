"""Several requests to AvidXchange at a time, within the connection's budget.

Only the HTTP calls run in the pool's threads, each thread on a fork of the
client (a session of its own, kept for its calls); no ORM there. What a call
needs from the database is read before, and what it answers is written after,
in the caller's thread: the exchanges are handed to the client's recorder
then, in the order of the calls.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from .exceptions import AuthenticationError, AvidXchangeError, RetryableError


def run_calls(client, calls, workers):
    """``[(result, error)]`` of ``calls`` (callables taking a client), in
    their order: ``error`` is the AvidXchangeError a call raised, or None.

    The first call is made on ``client`` itself: the token it fetches (and
    records) serves the forks. When that call finds AvidXchange unreachable
    or the credentials refused, the others are not made, and the list is
    that one outcome long. The rest go up to ``workers`` at a time; one at
    a time, on ``client``, for a dry run (its plan is kept in order)."""
    if not calls:
        return []
    first = _outcome(calls[0], client)
    if isinstance(first[1], RetryableError | AuthenticationError):
        return [first]
    rest = calls[1:]
    if workers <= 1 or not rest or client.planned is not None:
        return [first] + [_outcome(call, client) for call in rest]
    exchanges = [[] for _call in rest]
    local, twins = threading.local(), []

    def run(index):
        twin = getattr(local, "twin", None)
        if twin is None:
            twin = local.twin = client.fork(None)
            twins.append(twin)
        twin.recorder = exchanges[index].append
        return _outcome(rest[index], twin)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avidxchange") as pool:
            outcomes = list(pool.map(run, range(len(rest))))
    finally:
        for twin in twins:
            twin.close()
    if client.recorder:
        for made in exchanges:
            for exchange in made:
                client.recorder(exchange)
    return [first, *outcomes]


def _outcome(call, client):
    try:
        return call(client), None
    except AvidXchangeError as error:
        return None, error
