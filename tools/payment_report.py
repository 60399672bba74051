"""A payment report from AvidXchange, checked before anything is posted.

Everything in a report is untrusted: a field may be missing, of the wrong type,
negative, not a number, or a status nobody told us about. ``parse_report``
turns a report into a :class:`PaymentReport` whose every value has the type
and range the contract promises, or raises :class:`ReportError` naming every
problem in words an AP clerk can act on. Nothing here knows Odoo: what the
report means for the books (bills, currencies, residuals) is checked by the
payment model on top of this.
"""

import dataclasses
import datetime
import json
import math
import re

from .. import const
from .redaction import redact, storable

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# A money amount within half a thousandth of a cent of a two-decimal number has
# two decimals (floats cannot say 0.1 exactly).
MONEY_TOLERANCE = 0.5 * 10 ** -(const.MONEY_DECIMALS + 3)


class ReportError(Exception):
    """The report cannot be trusted; ``problems`` lists why, one sentence each."""

    def __init__(self, problems):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Allocation:
    """What one payment does to one invoice."""

    invoice_id: str | None  # AvidXchange's id of the invoice
    external_id: str | None  # ours (ExternalInvoiceId)
    number: str | None
    paid: float
    discount: float

    @property
    def relieved(self):
        """What the invoice is relieved of (the contract: AmountPaid + Discount)."""
        return self.paid + self.discount

    @property
    def is_credit(self):
        """A vendor credit the payment consumed (a credit memo's line)."""
        return self.paid < 0

    @property
    def label(self):
        return self.number or self.external_id or self.invoice_id or "?"


@dataclasses.dataclass(frozen=True)
class PaymentReport:
    payment_id: str
    status: str  # the description as AvidXchange sent it
    category: str  # const.PAYMENT_NOT_PAID_YET / _PAID / _CLEARED / _UNDONE
    method: str | None
    check_number: str | None
    trace_number: str | None
    amount: float
    currency: str
    payment_date: datetime.date | None
    cleared_date: datetime.date | None
    modified: datetime.datetime  # LastModifiedDate: AvidXchange's clock, naive UTC
    allocations: tuple
    gl_codes: tuple  # (group, code) of each GL posting
    reasons: tuple  # why an Error payment failed, as AvidXchange says it
    has_check_image: bool = False  # HasClearedCheckImages: the cleared check can be fetched

    def terms(self):
        """What the report says was paid, comparably (JSON-able): currency,
        amount, and what each invoice is relieved of."""
        lines = sorted(
            [a.invoice_id or "", a.external_id or "", a.paid, a.discount] for a in self.allocations
        )
        return {"currency": self.currency, "amount": self.amount, "invoices": lines}


def describe_terms(terms):
    """``terms`` in words, for a clerk."""
    lines = "; ".join(
        f"{invoice or external}: {paid:.2f} + {discount:.2f} discount"
        for invoice, external, paid, discount in terms["invoices"]
    )
    return f"{terms['amount']:.2f} {terms['currency']} ({lines})"


def payment_id_of(item):
    """The PaymentId of a list item, if it has a usable one."""
    if isinstance(item, dict):
        value = item.get("PaymentId")
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def report_text(item):
    """A report as kept on its record: bank details masked (the audit trail
    keeps the same)."""
    return json.dumps(redact(item), indent=1, sort_keys=True)


def capped_text(text):
    """``text`` (a report as kept) cut to what a record keeps, marked as cut."""
    return text[: const.REPORT_MAX_CHARS] + "\n…"


def parse_history_item(item):
    """One item of a payment's status history as the values of a status
    change (``status``, ``date``, ``note``), or None when it is no such thing."""
    if not isinstance(item, dict):
        return None
    status = storable(item.get(const.ANSWER_STATUS_KEY), const.PAYMENT_HISTORY_MAX_CHARS)
    if not status:
        return None
    return {
        "status": status,
        "date": parse_stamp(item.get("Date")),
        "note": storable(item.get("Note"), const.PAYMENT_HISTORY_MAX_CHARS) or False,
    }


def parse_report(item):
    """``item`` as a :class:`PaymentReport`, or :class:`ReportError`."""
    problems = []
    if not isinstance(item, dict):
        raise ReportError([f"The payment report is not an object but {_kind(item)}."])
    unstorable = next(_unstorable_texts(item), None)
    if unstorable:
        problem = (
            "The payment report holds text that cannot be stored (a NUL or an invalid "
            f"character) at {unstorable}."
        )
        raise ReportError([problem])
    payment_id = payment_id_of(item)
    if payment_id is None:
        problems.append("The payment report has no PaymentId.")
    status, category = _status(item.get(const.ANSWER_STATUS_KEY), problems)
    method = _description(item.get("PaymentMethod"))
    if method is not None and method not in const.PAYMENT_METHODS:
        problems.append(f"The payment method {method!r} is not one the contract knows.")
    amount = _money(item.get("Amount"), "The payment's Amount", problems)
    currency = item.get("Currency")
    if not (isinstance(currency, str) and CURRENCY_RE.match(currency)):
        problems.append(f"The payment's Currency {currency!r} is not an ISO 4217 code.")
    modified = _timestamp(item.get("LastModifiedDate"), problems)
    allocations = _allocations(item.get("Invoices"), problems)
    if amount is not None and allocations and not problems:
        total = sum(allocation.paid for allocation in allocations)
        if abs(total - amount) > MONEY_TOLERANCE * 10:
            problems.append(
                f"The invoices' AmountPaid add up to {total:.2f}, not to the payment's "
                f"Amount of {amount:.2f}."
            )
    if amount is not None and amount < 0:
        problems.append(f"The payment's Amount is negative ({amount:.2f}).")
    if allocations and not problems and not any(a.relieved for a in allocations):
        problems.append("The payment pays nothing: every AmountPaid and Discount is 0.")
    elif not problems:
        problems += [
            f"Invoice line {number} pays nothing (AmountPaid and Discount are 0)."
            for number, allocation in enumerate(allocations, start=1)
            if not allocation.paid and not allocation.discount
        ]
    payment_date = _date(item.get("PaymentDate"), "PaymentDate", problems)
    cleared_date = _date(item.get("ClearedDate"), "ClearedDate", problems)
    if problems:
        raise ReportError(problems)
    return PaymentReport(
        payment_id=payment_id,
        status=status,
        category=category,
        method=method,
        check_number=_text(item.get("CheckNumber")),
        trace_number=_text(item.get("TraceNumber")),
        amount=amount,
        currency=currency,
        payment_date=payment_date,
        cleared_date=cleared_date,
        modified=modified,
        allocations=tuple(allocations),
        gl_codes=tuple(_gl_codes(item.get("GLPostings"))),
        reasons=tuple(_reasons(item.get("Exceptions"))),
        has_check_image=item.get("HasClearedCheckImages") is True,
    )


# === PARTS === #


def _status(value, problems):
    description = _description(value)
    if description is None:
        problems.append(
            f"The payment's Status {_shown(value)} is not an object with a Description."
        )
        return None, None
    category = const.PAYMENT_STATUS_CATEGORIES.get(description)
    if category is None:
        problems.append(
            f"AvidXchange reports the status {description!r}, which this connector does "
            "not know: look the payment up in AvidXchange before doing anything by hand."
        )
    return description, category


def _allocations(value, problems):
    if not isinstance(value, list) or not value:
        problems.append("The payment names no invoice.")
        return []
    allocations = []
    for number, line in enumerate(value, start=1):
        where = f"Invoice line {number}"
        if not isinstance(line, dict):
            problems.append(f"{where} is not an object but {_kind(line)}.")
            continue
        invoice_id, external_id = (
            _text(line.get(const.ANSWER_ID_KEY)),
            _text(line.get(const.INVOICE_EXTERNAL_ID_KEY)),
        )
        if not (invoice_id or external_id):
            problems.append(f"{where} names no invoice (neither Id nor ExternalInvoiceId).")
        paid = _money(line.get("AmountPaid"), f"{where}'s AmountPaid", problems)
        discount = _money(line.get("Discount") or 0, f"{where}'s Discount", problems)
        # A negative AmountPaid is a vendor credit the payment consumed (the
        # contract's credit memos): it takes no discount. A negative discount
        # is never one.
        if discount is not None and discount < 0:
            problems.append(f"{where}'s Discount is negative ({discount:.2f}).")
        if paid is not None and paid < 0 and discount:
            problems.append(
                f"{where} consumes a credit ({paid:.2f}) and takes a discount ({discount:.2f})."
            )
        if paid is not None and discount is not None:
            allocations.append(
                Allocation(invoice_id, external_id, _text(line.get("Number")), paid, discount)
            )
    return allocations


def read_money(value):
    """``value`` as an amount when AvidXchange sent one (see ``_money``), else None."""
    return _money(value, "", [])


def _money(value, what, problems):
    """A finite JSON number with two decimals at most (never a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{what} is not a number: {_shown(value)}.")
        return None
    if abs(value) >= const.MONEY_MAX:  # before any float conversion: ints may be huge
        problems.append(f"{what} is out of range: {_shown(value)}.")
        return None
    if not math.isfinite(value):
        problems.append(f"{what} is not a finite number: {value}.")
        return None
    if abs(value - round(value, const.MONEY_DECIMALS)) > MONEY_TOLERANCE:
        problems.append(f"{what} has more than two decimals: {value}.")
        return None
    return round(float(value), const.MONEY_DECIMALS)


def _timestamp(value, problems):
    moment = parse_stamp(value)
    if moment is None:
        problems.append(f"The payment's LastModifiedDate {_shown(value)} is not a UTC timestamp.")
    return moment


def parse_stamp(value):
    """An ISO 8601 timestamp with a zone as a naive UTC datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return None
        return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None


def _date(value, what, problems, subject="payment"):
    """A ``YYYY-MM-DD`` date, or None when not given; else the ``subject``'s
    ``what`` is said among the ``problems``."""
    if value is None:
        return None
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.date.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        problems.append(f"The {subject}'s {what} {_shown(value)} is not a date.")
    return moment


def _description(value):
    if isinstance(value, dict) and isinstance(value.get("Description"), str):
        return value["Description"].strip() or None
    return None


def _gl_codes(value):
    for posting in value if isinstance(value, list) else []:
        if isinstance(posting, dict) and _text(posting.get("EnterpriseCodeValue")):
            group = _text(posting.get("GroupName")) or const.GL_ACCOUNT_CODE_GROUP
            yield group, _text(posting["EnterpriseCodeValue"])


def _reasons(value):
    for exception in value if isinstance(value, list) else []:
        reason = exception.get("ReasonCode") if isinstance(exception, dict) else None
        if _description(reason):
            yield _description(reason)


def _text(value):
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _unstorable_texts(value, path="the report"):
    """Where ``value`` holds a text the database cannot keep: a NUL, or a
    lone surrogate (not UTF-8)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield path
        else:
            if "\x00" in value:
                yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unstorable_texts(key, path)
            yield from _unstorable_texts(item, f"{path} > {key}" if isinstance(key, str) else path)
    elif isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from _unstorable_texts(item, f"{path} > {number}")


def _kind(value):
    return {list: "a list", str: "a text", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _shown(value):
    """A value for a message: short, whatever it is."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
