"""Faults to inject, queued so that a test says exactly which request misbehaves.

A fault is consumed by the first token or data request it matches (admin requests under
``/_sim`` never consume one). Path filters are prefixes; one that does not start with
``/avidconnect``, ``/token`` or ``/_sim`` is read relative to the API prefix, so
``/payments`` means ``/avidconnect/v1/payments``.
"""

import threading
from dataclasses import asdict, dataclass

API_PREFIX = "/avidconnect/v1"
TOKEN_PATH = "/token"
FAULT_KINDS = ("fail", "slow", "drop", "malformed", "call", "answer")


def full_path(path_filter):
    """Expand a path filter relative to the API prefix; a trailing ``*`` is kept."""
    if path_filter is None:
        return None
    if not path_filter.startswith("/"):
        path_filter = "/" + path_filter
    if path_filter.startswith(("/avidconnect", TOKEN_PATH, "/_sim")):
        return path_filter
    return API_PREFIX + path_filter


@dataclass
class Fault:
    """One queued fault; ``remaining`` counts the requests it still applies to."""

    kind: str
    remaining: int = 1
    status: int = 0
    retry_after: float | None = None
    body: object = None
    seconds: float = 0.0
    path: str | None = None
    method: str | None = None
    action: object = None  # "call": run before answering
    skip: int = 0  # matching requests to let through first
    processed: bool = False  # "drop", "malformed": after handling the request
    amid: bool = False  # "call": while the list asked for is built, not before

    def matches(self, method, path):
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path.rstrip("*"))


class FaultQueue:
    """Thread-safe FIFO of faults, plus the switch that makes the token endpoint say no."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self.reject_credentials = False

    def add(self, kind, n=1, path=None, method=None, **options):
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        if not isinstance(n, int) or n < 1:
            raise ValueError("n must be an integer >= 1")
        fault = Fault(kind, n, path=full_path(path), method=method, **options)
        with self._lock:
            self._faults.append(fault)
        return asdict(fault)

    def take(self, method, path):
        """Consume one use of the first fault matching this request; ``None`` if none."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return Fault(**{**asdict(fault), "remaining": 1})
        return None

    def pending(self):
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def clear(self):
        with self._lock:
            self._faults.clear()
            self.reject_credentials = False
