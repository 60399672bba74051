"""Small helpers to build request bodies the way the contract wants them."""

import hashlib
import json


def compact(values):
    """Leave out optional values that are empty: AvidXchange wants them absent,
    never ``false`` or ``""``."""
    return {key: value for key, value in values.items() if value not in (None, False, "", [])}


def fingerprint(payload):
    """A stable fingerprint of a body, to tell whether it changed since sent."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
