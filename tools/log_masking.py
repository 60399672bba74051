"""Secrets kept out of Odoo's own log records.

With ``odoo.service.model`` at DEBUG, Odoo logs the arguments of every RPC
call: the values of a form being saved (``web_save``), of an onchange, a
secret typed in them included. Its records carry those arguments as an object
that renders them (not as a dict a filter could walk), so the filter below
renders the record once and masks the text: the value of every key
``const.SENSITIVE_KEYS`` names, however it is written (``'client_secret':
'…'``, ``"clientSecret": "…"``, ``client_secret='…'``, ``token=…``).
"""

import logging
import re

from ..const import REDACTED
from .redaction import is_sensitive

# The attribute that tells our filter apart, whatever copy of this module made it.
MARKER = "avidxchange_masks_secrets"

# A key (quoted or bare), ``:`` or ``=``, and its value: a quoted string
# (escapes allowed, an optional b prefix), or a bare token. A value that opens
# a dict, a list or a call is left alone: a nested secret is masked by its own key.
_KEY_VALUE = re.compile(
    r"""
    (?P<key>
        (?P<quote>['"]) (?P<quoted>[^'"\\]{1,64}) (?P=quote)
      | (?P<bare>\b[A-Za-z_][\w-]{0,63})
    )
    (?P<sep> \s*[:=]\s* )
    (?P<value>
        b?'(?:[^'\\]|\\.)*'
      | b?"(?:[^"\\]|\\.)*"
      | [^\s,;&(){}\[\]'"][^\s,;&)}\]'"]*
    )
    """,
    re.VERBOSE,
)


def mask_text(text):
    """``text`` with the value of each sensitive key replaced by ``REDACTED``."""

    def mask(match):
        value = match["value"]
        quote = value[-1] if len(value) > 1 and value[-1] in "'\"" else ""
        if is_sensitive(match["quoted"] or match["bare"]):
            value = f"{quote}{REDACTED}{quote}"
        elif quote:  # a text that holds a dict or a query string of its own
            opening = value.index(quote) + 1
            value = value[:opening] + mask_text(value[opening:-1]) + quote
        return f"{match['key']}{match['sep']}{value}"

    return _KEY_VALUE.sub(mask, text)


class SecretMaskingFilter(logging.Filter):
    """Masks sensitive values in the records of the logger it is on. The
    record is rendered only when it is emitted (a logger below DEBUG never
    builds one), and left as it was when nothing in it is sensitive."""

    def __init__(self):
        super().__init__()
        setattr(self, MARKER, True)

    def filter(self, record):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report, not ours
            return True
        masked = mask_text(text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


def install_masking(logger_name):
    """Put the filter on ``logger_name``, once however often this runs (the
    module is imported once per registry load)."""
    logger = logging.getLogger(logger_name)
    if not any(getattr(existing, MARKER, False) for existing in logger.filters):
        logger.addFilter(SecretMaskingFilter())
    return logger
