"""Small helpers to build request bodies the way the contract wants them."""

import hashlib
import json

from odoo.tools import float_round


def compact(values, booleans=()):
    """Leave out optional values that are empty.

    Odoo reads an empty field as ``False``; AvidXchange wants an optional value
    absent, never ``false`` or ``""``. Zero amounts are values and stay, and so
    do the real booleans named in ``booleans``.
    """
    return {key: value for key, value in values.items() if key in booleans or not _is_empty(value)}


def _is_empty(value):
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def fingerprint(payload):
    """A stable fingerprint of a body, to tell whether it changed since sent."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def money(amount, currency):
    """A JSON number with the currency's precision (two decimals at most)."""
    return float_round(amount, precision_digits=min(currency.decimal_places, 2))


def add_up_to(amounts, total, currency):
    """``amounts`` (each rounded to money) made to add up to ``total``: the
    cent rounding left over goes to the largest. Returns a new list."""
    amounts = list(amounts)
    gap = money(total - sum(amounts), currency)
    if gap and amounts:
        largest = max(range(len(amounts)), key=lambda index: abs(amounts[index]))
        amounts[largest] = money(amounts[largest] + gap, currency)
    return amounts
