"""Odoo against AvidXchange: every difference between the two ledgers.

The reconciliation report reads AvidXchange (its invoices and payments, read
only) and what Odoo holds of the same bills and payments, and hands both here
as plain data; this module says where they differ, by category, and the open
amounts per currency on each side. No ORM, no HTTP: the report's wizard
(``wizard/avidxchange_reconciliation.py``) gathers the data and words the
lines.
"""

import dataclasses
import math

from .. import const
from .payment_report import payment_id_of

# Categories, in the order a controller reads them.
BILL_UNKNOWN = "bill_unknown"  # sent, and AvidXchange does not know it
STATUS_DIFFERS = "status_differs"  # Odoo shows another approval status
RESIDUAL_DIFFERS = "residual_differs"  # what is left to pay differs
PAYMENT_NOT_LIVE = "payment_not_live"  # registered in Odoo, void or unknown in AvidXchange
PAYMENT_MISSED = "payment_missed"  # paid in AvidXchange, never registered in Odoo
PAYMENT_EDITED = "payment_edited"  # the Odoo payment no longer says what AvidXchange paid
BILL_CHANGED = "bill_changed"  # released and changed since export
REPORT_ATTENTION = "report_attention"  # a payment report waits for a person
CATEGORIES = [
    (BILL_UNKNOWN, "Bills AvidXchange does not know"),
    (STATUS_DIFFERS, "Statuses that differ"),
    (RESIDUAL_DIFFERS, "Amounts left to pay that differ"),
    (PAYMENT_NOT_LIVE, "Payments Odoo has that AvidXchange voided or does not have"),
    (PAYMENT_MISSED, "Payments AvidXchange made that Odoo never registered"),
    (PAYMENT_EDITED, "Payments changed in Odoo"),
    (BILL_CHANGED, "Bills changed since export"),
    (REPORT_ATTENTION, "Payment reports needing attention"),
]
# Invoices AvidXchange still has to pay (its open AP).
OPEN_INVOICE_STATUSES = ("Received", "PendingApproval", "Approved", "Scheduled")
CENT = 0.005


@dataclasses.dataclass
class Bill:
    """What Odoo holds of a bill it sent."""

    key: int  # the bill's id
    avidxchange_id: str
    status: str | None  # the approval status Odoo last read
    currency: str
    residual: float  # what is left to pay in Odoo (document currency)
    changed: bool = False


@dataclasses.dataclass
class Payment:
    """What Odoo holds of an AvidXchange payment."""

    key: int  # the avidxchange.payment's id
    ref: str  # AvidXchange's PaymentId
    registered: bool  # live in Odoo: registered and not undone
    needs_attention: bool
    odoo_amount: float | None  # what its posted Odoo payments say, None when none


@dataclasses.dataclass
class Difference:
    category: str
    key: object  # a Bill's or Payment's key, or AvidXchange's id when Odoo has none
    odoo: object = None
    avidxchange: object = None


@dataclasses.dataclass
class Result:
    differences: list
    open_odoo: dict  # currency: open amount of the bills sent, in Odoo
    open_avidxchange: dict  # currency: open amount of the same invoices, in AvidXchange


def compare(bills, payments, invoices, avidxchange_payments, ours, period=None):
    """Every difference between Odoo (``bills``, ``payments``) and
    AvidXchange (``invoices``: its invoice items by ``Id``;
    ``avidxchange_payments``: its payment items as listed).

    ``ours``: AvidXchange's ids of every invoice this connection sent (a
    payment of none of them is another system's business); ``period``:
    ``(first, last)`` ISO dates, the payments AvidXchange made then (by
    ``PaymentDate``) are compared, every payment counts for what is left to
    pay. An item that is not what the contract says is left out of the
    amounts: the report compares, the import checks."""
    avidxchange_payments = [item for item in avidxchange_payments if _pays_ours(item, ours)]
    differences, open_odoo, open_avx = _compare_bills(
        bills, invoices, _relieved_by_live_payments(avidxchange_payments)
    )
    live = {
        ref: item
        for ref, item in _live_payments(avidxchange_payments)
        if period is None or period[0] <= str(item.get("PaymentDate") or "") <= period[1]
    }
    differences += _compare_payments(payments, live)
    order = [category for category, _label in CATEGORIES]
    differences.sort(key=lambda d: order.index(d.category))
    return Result(differences, _rounded(open_odoo), _rounded(open_avx))


def _compare_bills(bills, invoices, relieved):
    """The bills' differences, and the open amounts per currency on each side."""
    differences, open_odoo, open_avx = [], {}, {}
    for bill in bills:
        invoice = invoices.get(bill.avidxchange_id)
        if bill.changed:
            differences.append(Difference(BILL_CHANGED, bill.key))
        if bill.residual and bill.status in OPEN_INVOICE_STATUSES:
            open_odoo[bill.currency] = open_odoo.get(bill.currency, 0.0) + bill.residual
        if invoice is None:
            differences.append(Difference(BILL_UNKNOWN, bill.key, bill.avidxchange_id))
            continue
        status = invoice.get(const.ANSWER_STATUS_KEY)
        if status != bill.status:
            differences.append(Difference(STATUS_DIFFERS, bill.key, bill.status, status))
        gross = _number(invoice.get(const.INVOICE_AMOUNT_KEY))
        if gross is None or status not in (*OPEN_INVOICE_STATUSES, "Paid"):
            continue  # rejected or void: not AvidXchange's to pay
        left = round(gross - relieved.get(bill.avidxchange_id, 0.0), 2)
        if status in OPEN_INVOICE_STATUSES and left:
            currency = invoice.get("Currency") or bill.currency
            open_avx[currency] = open_avx.get(currency, 0.0) + left
        if abs(left - bill.residual) > CENT and not bill.changed:
            differences.append(
                Difference(RESIDUAL_DIFFERS, bill.key, bill.residual, max(left, 0.0))
            )
    return differences, open_odoo, open_avx


def _compare_payments(payments, live):
    """The payments' differences: ``live``, AvidXchange's standing payments by id."""
    differences, known = [], set()
    for payment in payments:
        known.add(payment.ref)
        item = live.get(payment.ref)
        if payment.needs_attention:
            differences.append(Difference(REPORT_ATTENTION, payment.key))
        elif payment.registered and item is None:
            differences.append(Difference(PAYMENT_NOT_LIVE, payment.key, payment.ref))
        elif payment.registered:
            amount = _number(item.get("Amount"))
            if payment.odoo_amount is None or (
                amount is not None and abs(payment.odoo_amount - amount) > CENT
            ):
                differences.append(
                    Difference(PAYMENT_EDITED, payment.key, payment.odoo_amount, amount)
                )
        elif item is not None and _is_paid(item):
            differences.append(Difference(PAYMENT_MISSED, payment.key, None, payment.ref))
    differences += [
        Difference(PAYMENT_MISSED, ref, None, ref)
        for ref, item in live.items()
        if ref not in known and _is_paid(item)
    ]
    return differences


def _live_payments(items):
    """``(PaymentId, item)`` of the payments that stand: neither void nor in error."""
    for item in items:
        ref = payment_id_of(item)
        if ref is None:
            continue
        category = const.PAYMENT_STATUS_CATEGORIES.get(_status(item))
        if category != const.PAYMENT_UNDONE:
            yield ref, item


def _is_paid(item):
    return const.PAYMENT_STATUS_CATEGORIES.get(_status(item)) in (
        const.PAYMENT_PAID,
        const.PAYMENT_CLEARED,
    )


def _relieved_by_live_payments(items):
    """What the standing, paid payments relieved each invoice of
    (``AmountPaid + Discount``), by invoice ``Id``."""
    relieved = {}
    for _ref, item in _live_payments(items):
        if not _is_paid(item):
            continue
        for line in item.get("Invoices") or []:
            if not isinstance(line, dict) or not isinstance(line.get(const.ANSWER_ID_KEY), str):
                continue
            # a credit memo's line is negative: the credit consumed
            paid = abs(_number(line.get("AmountPaid")) or 0.0)
            discount = _number(line.get("Discount")) or 0.0
            relieved[line[const.ANSWER_ID_KEY]] = (
                relieved.get(line[const.ANSWER_ID_KEY], 0.0) + paid + discount
            )
    return relieved


def _pays_ours(item, ours):
    lines = item.get("Invoices") if isinstance(item, dict) else None
    return isinstance(lines, list) and any(
        isinstance(line, dict) and line.get(const.ANSWER_ID_KEY) in ours for line in lines
    )


def _status(item):
    status = item.get(const.ANSWER_STATUS_KEY) if isinstance(item, dict) else None
    return status.get("Description") if isinstance(status, dict) else status


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _rounded(amounts):
    return {currency: round(amount, 2) for currency, amount in sorted(amounts.items())}
