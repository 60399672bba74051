"""Masking of secrets in anything we log or keep for the audit trail."""

import json
import re

from ..const import FILE_CONTENT_KEY, REDACTED, SENSITIVE_KEYS

MAX_BODY_CHARS = 20000  # an audit entry keeps the start of a long body


def is_sensitive(key):
    """Whether ``key`` names a secret, however it is spelled."""
    return re.sub(r"[\s_\-]", "", str(key)).lower() in SENSITIVE_KEYS


def redact(value):
    """Return a copy of a JSON-like value with every sensitive key masked,
    and a file's content (an attachment, a check image) told by its size."""
    if isinstance(value, dict):
        return {key: _redact_item(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _redact_item(key, item):
    if is_sensitive(key):
        return REDACTED
    if key == FILE_CONTENT_KEY and isinstance(item, str):
        return f"({len(item)} characters of base64)"
    return redact(item)


def redacted_text(body, scrub=None):
    """A JSON-like body (or raw text) as redacted, bounded text for the audit trail.

    Keys are masked first, then ``scrub`` (the client's last line of defence,
    which masks known secret values wherever they are) runs on the whole text,
    and only then is it cut short: a secret is never cut in half past its
    mask. Text that is not JSON cannot be masked key by key (an error page
    of some internal host, say): only its length is kept.
    """
    if body is None:
        return None
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return f"(not JSON: {len(body)} characters)"
    text = json.dumps(redact(body), ensure_ascii=False, indent=1, sort_keys=True)
    # A lone surrogate cannot be stored: keep it as its escape.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if scrub:
        text = scrub(text)
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "\n…"


def storable(value, size):
    """Text AvidXchange sent, as PostgreSQL stores it: no NUL, no lone
    surrogate, cut short; None when it is not text."""
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text.strip()[:size] or None
