"""How a connection is doing, from what its streams last did.

A connection's health is not its last *Test Connection*: that is one moment,
chosen by a person. It is what the streams say: each one's failures in a row,
since when it fails, and when it last succeeded. Plain Python, no ORM: the
connection (``avidxchange_backend.py``) hands its streams' rows in and shows
what comes out.
"""

import dataclasses
import datetime

HEALTH_STATES = [
    ("inactive", "Not active"),
    ("new", "Not run yet"),
    ("healthy", "Healthy"),
    ("degraded", "Degraded"),
    ("down", "Down"),
]
# A stream that has not succeeded for this many of its intervals (and at
# least STALE_AFTER_MIN) is late: the scheduled actions may be stopped.
STALE_INTERVALS = 3
STALE_AFTER_MIN = datetime.timedelta(hours=1)


# What StreamState takes from a stream's row as it stands there.
STREAM_ROW_FIELDS = (
    "last_run_at",
    "last_success_at",
    "failure_count",
    "failing_since",
    "last_error",
)


@dataclasses.dataclass
class StreamState:
    """What health needs of one stream's row."""

    name: str
    interval_minutes: int
    last_run_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    failure_count: int
    failing_since: datetime.datetime | None
    last_error: str | None
    polls: bool = False  # reads AvidXchange on every run (payments in), idle or not


@dataclasses.dataclass
class Health:
    state: str
    since: datetime.datetime | None = None  # failing (or late) since
    failing: list = dataclasses.field(default_factory=list)  # stream names
    late: list = dataclasses.field(default_factory=list)  # stream names
    error: str | None = None  # the error of the stream failing longest
    oldest_success: StreamState | None = None


def connection_health(streams, now, active=True):
    """The :class:`Health` of a connection whose streams are ``streams``.

    Down: a stream that reads AvidXchange on every run fails (nothing comes
    in), or every stream that has run fails. Degraded: some fail (a stream
    with nothing to send succeeds without a request, outage or not), or some
    have not succeeded for longer than they should (late). Healthy: none of
    that.
    """
    if not active:
        return Health("inactive")
    ran = [s for s in streams if s.last_run_at]
    if not ran:
        return Health("new")
    failing = sorted((s for s in ran if s.failure_count), key=_failing_since)
    succeeded = [s for s in streams if s.last_success_at]
    oldest = min(succeeded, key=lambda s: s.last_success_at, default=None)
    late = [s for s in streams if not s.failure_count and _is_late(s, now)]
    if failing:
        return Health(
            "down" if len(failing) == len(ran) or any(s.polls for s in failing) else "degraded",
            since=_failing_since(failing[0]),
            failing=[s.name for s in failing],
            late=[s.name for s in late],
            error=failing[0].last_error,
            oldest_success=oldest,
        )
    if late:
        return Health(
            "degraded",
            since=min((s.last_success_at or s.last_run_at) for s in late),
            late=[s.name for s in late],
            oldest_success=oldest,
        )
    return Health("healthy", oldest_success=oldest)


def _failing_since(stream):
    return stream.failing_since or stream.last_run_at


def _is_late(stream, now):
    if not (stream.last_success_at or stream.last_run_at):
        return False  # never ran: the connection is new, not late
    allowed = max(
        STALE_AFTER_MIN, datetime.timedelta(minutes=stream.interval_minutes) * STALE_INTERVALS
    )
    return now - (stream.last_success_at or stream.last_run_at) > allowed
