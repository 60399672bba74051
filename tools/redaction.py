"""Masking of secrets in anything we log or keep for the audit trail."""

import json

from ..const import REDACTED, SENSITIVE_KEYS

MAX_BODY_CHARS = 20000  # an audit entry keeps the start of a long body


def redact(value):
    """Return a copy of a JSON-like value with every sensitive key masked."""
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SENSITIVE_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redacted_text(body):
    """A JSON-like body (or raw text) as redacted, bounded text for the audit trail.

    Text that is not JSON is kept only when it cannot be a structured secret
    carrier; we cannot mask keys in it, so it is cut to a short excerpt.
    """
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body[:500].encode("utf-8", "backslashreplace").decode("utf-8")
    text = json.dumps(redact(body), ensure_ascii=False, indent=1, sort_keys=True)
    # A lone surrogate cannot be stored: keep it as its escape.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "\n…"
