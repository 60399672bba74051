"""Several requests to AvidXchange at a time, within the connection's budget.

Only the HTTP calls run in the pool's threads, each on a fork of the client
(a session of its own); no ORM there. What a call needs from the database is
read before, and what it answers is written after, in the caller's thread:
the exchanges are handed to the client's recorder then, in the order of the
calls.
"""

from concurrent.futures import ThreadPoolExecutor

from .exceptions import AvidXchangeError


def run_calls(client, calls, workers):
    """``[(result, error)]`` of ``calls`` (callables taking a client), in
    their order: ``error`` is the AvidXchangeError a call raised, or None.
    Up to ``workers`` at a time; one at a time, on ``client`` itself, for a
    dry run (its plan is kept in order) or a single call."""
    if workers <= 1 or len(calls) <= 1 or client.planned is not None:
        return [_outcome(call, client) for call in calls]
    exchanges = [[] for _call in calls]

    def run(index):
        twin = client.fork(exchanges[index].append)
        try:
            return _outcome(calls[index], twin)
        finally:
            twin.close()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="avidxchange") as pool:
        outcomes = list(pool.map(run, range(len(calls))))
    if client.recorder:
        for made in exchanges:
            for exchange in made:
                client.recorder(exchange)
    return outcomes


def _outcome(call, client):
    try:
        return call(client), None
    except AvidXchangeError as error:
        return None, error
