"""What a model that owns a kind of record declares about it (see
``avidxchange.stream.handler``): plain values, so that a kind is declared
in one line where its model lives."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamKind:
    """One kind of record and its stream's defaults.

    ``name`` is the stream's kind and the audit trail's operation; ``label``
    what the interface calls it (a lazy translation); ``order`` where its
    stream comes in a cycle (what bills refer to goes before them);
    ``interval`` and ``batch`` a new connection's minutes between runs and
    records per batch; ``cron`` the scheduled action that runs it (the
    argument of ``_cron_run``); ``inbound`` kinds read AvidXchange on every
    run, outgoing ones only when something waits to go.
    """

    name: str
    label: object
    order: int
    interval: int
    batch: int
    cron: str
    inbound: bool = False
