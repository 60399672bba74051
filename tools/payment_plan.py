"""What a sound payment report means for Odoo, decided without Odoo.

``parse_report`` (``tools/payment_report.py``) says whether a report can be
trusted; this says what a trusted one calls for: what the payment record
shows of it, whether it registers, checks, undoes or waits, how its bills are
ordered on the Odoo payment, and where the read of reports goes next (the
window and its mark). The payment model (``models/avidxchange_payment.py``)
does the ORM work these decisions ask for.
"""

import datetime

from .. import const
from .paging import stamp_of

PAID_CATEGORIES = frozenset({const.PAYMENT_PAID, const.PAYMENT_CLEARED})

# What a report calls for (``decide``).
REGISTER = "register"  # paid, nothing live in Odoo: register the Odoo payment
CHECK = "check"  # something live: AvidXchange must still say what was registered
UNDO = "undo"  # void or failed: undo what is live
WAIT = "wait"  # not paid yet, nothing live: nothing to do

WINDOW_OVERLAP = datetime.timedelta(minutes=const.PAYMENT_WINDOW_OVERLAP_MINUTES)
CLOCK_SKEW = datetime.timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
WINDOW = datetime.timedelta(days=const.MAX_WINDOW_DAYS)


# === DECIDE === #


def decide(category, live):
    """What a report of status ``category`` calls for, given whether an Odoo
    payment it made is ``live`` (never the record's state, which may say
    "needs attention" over a posted payment)."""
    if category == const.PAYMENT_UNDONE:
        return UNDO  # nothing to undo when nothing is live: the undo finds nothing
    if category in PAID_CATEGORIES and not live:
        return REGISTER
    return CHECK if live else WAIT


def terms_changed(registered, now):
    """Whether AvidXchange now says something else (``now``, ``report.terms()``)
    than what was registered (``registered``; None: registered before the
    terms were kept)."""
    return registered is not None and registered != now


def record_values(report):
    """What the payment record shows of a sound ``report``, as far as it
    needs no Odoo lookup (currency, bills and proof are the model's)."""
    return {
        "status": report.status,
        "status_category": report.category,
        "method": report.method,
        "check_number": report.check_number,
        "trace_number": report.trace_number,
        "amount": report.amount,
        "payment_date": report.payment_date,
        "cleared_date": report.cleared_date,
        "gl_posting_codes": ", ".join(code for _group, code in report.gl_codes) or False,
        "failure_reasons": "; ".join(report.reasons) or False,
    }


def wants_proof(report, has_check_image):
    """Whether the cleared check's image is to be fetched: once, when the
    check cleared and AvidXchange has it."""
    return (
        report.has_check_image and report.category == const.PAYMENT_CLEARED and not has_check_image
    )


# === PLAN === #


def bills_first(allocations):
    """The allocations, a bill's first: the first is the payment's own
    counterpart line, which pays (a credit consumed is never first)."""
    return sorted(allocations, key=lambda allocation: allocation.is_credit)


def discount_of(allocations):
    """The discounts AvidXchange took, in all: one write-off line."""
    return sum(allocation.discount for allocation in allocations)


def batch_order(planned):
    """Split ``[(key, bill ids)]`` (the registrations a slice calls for, in
    order) into those registered together and those that wait for them: a
    registration on a bill an earlier one already pays is checked again
    afterwards, against what the earlier left due."""
    together, after, planned_bills = [], [], set()
    for key, bills in planned:
        if planned_bills & set(bills):
            after.append(key)
        else:
            together.append(key)
        planned_bills |= set(bills)
    return together, after


# === WINDOW === #


def window_start(mark, connected_at):
    """Where the next read starts: a little before the ``mark``; before the
    first mark, a clock's skew before the connection was made (its clock may
    be behind ours)."""
    if mark:
        return mark - WINDOW_OVERLAP
    return connected_at - CLOCK_SKEW


def window_end(since):
    """The end of the window that starts at ``since``: one request reads at
    most ``MAX_WINDOW_DAYS``."""
    return since + WINDOW


def stamps_within(items, since, latest):
    """The payments' own stamps among ``items`` between ``since`` and
    ``latest``: a stamp outside the window read (a date in 2099) must not
    carry the mark past payments still to come."""
    return [stamp for stamp in map(stamp_of, items) if stamp and since <= stamp <= latest]


def is_past(until, now):
    """Whether a window that ends at ``until`` is past on AvidXchange's clock
    too (ours at ``now``, give or take a skew): then it is read to its end."""
    return until < now - CLOCK_SKEW


def next_mark(mark, stamps):
    """The mark once ``stamps`` were read: the latest of them, never behind."""
    return max([mark, *stamps] if mark else stamps, default=False)
