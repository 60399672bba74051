"""An invoice captured in AvidXchange, checked before it becomes a bill.

AvidXchange captures, codes and approves invoices that no one keyed in Odoo,
then closes them in batches for Odoo to import (the contract's "Invoices
captured in AvidXchange"). Everything in such an invoice is untrusted:
``parse_captured`` turns one into a :class:`CapturedInvoice` whose every
value has the type and range the contract promises, or raises
:class:`~.payment_report.ReportError` naming every problem in words an AP
clerk can act on. ``differences`` says what changed between two versions of
one invoice (a batch closed again). Nothing here knows Odoo: which vendor,
accounts and analytic accounts the codes mean is the model's to find.
"""

import dataclasses
import datetime
import re

from .. import const
from .payment_report import (
    CURRENCY_RE,
    ReportError,
    _date,
    _money,
    _shown,
    _text,
    _unstorable_texts,
)

# Distributions add up to the invoice's GrossAmount within a cent.
TOTAL_TOLERANCE = 0.01
# What a tax id is compared on: its letters and digits ("12-3456789" is 123456789).
TAX_ID_NOISE = re.compile(r"[^0-9A-Za-z]")


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One coded line of a captured invoice."""

    amount: float
    description: str | None
    quantity: float | None
    account_code: str | None  # the code of its "Accounting Codes" group
    dimensions: tuple  # ((group, code), ...) of every other group, as sent


@dataclasses.dataclass(frozen=True)
class CapturedInvoice:
    """A captured invoice whose every value is as the contract promises."""

    invoice_id: str
    number: str | None
    move_type: str  # in_invoice or in_refund (a CreditMemo)
    invoice_date: datetime.date
    due_date: datetime.date | None
    gross: float
    currency: str | None  # None: the company's currency (Currency is [assumed])
    po_number: str | None
    memo: str | None
    image_url: str | None
    vendor_name: str | None
    vendor_code: str | None  # ours, without AvidXchange's "|address id"
    # (its FedTaxId is not here: a report is kept masked; see tax_id_key)
    distributions: tuple


def invoice_id_of(item):
    """The ``Id`` of a captured invoice as listed, or None when it has no usable one."""
    if isinstance(item, dict):
        return _text(item.get(const.ANSWER_ID_KEY))
    return None


def vendor_code(value):
    """Our code of a vendor from ``VendorExternalSystemID``: the part before
    ``|`` (AvidXchange's address id follows it), None when empty."""
    text = _text(value)
    if text is None:
        return None
    return text.split(const.VENDOR_ADDRESS_SEPARATOR, 1)[0].strip() or None


def tax_id_key(value):
    """A tax id as compared: letters and digits only, upper case; None when none."""
    text = _text(value)
    return TAX_ID_NOISE.sub("", text).upper() or None if text else None


def parse_captured(item):
    """``item`` as a :class:`CapturedInvoice`, or :class:`ReportError`."""
    if not isinstance(item, dict):
        raise ReportError([f"The invoice is not an object: {_shown(item)}."])
    problems = [
        f"The invoice has a text the database cannot keep at {path}."
        for path in _unstorable_texts(item, "the invoice")
    ]
    invoice_id = invoice_id_of(item)
    if invoice_id is None:
        problems.append("The invoice has no Id.")
    kind = item.get(const.INVOICE_TYPE_KEY)
    move_type = const.CAPTURED_MOVE_TYPES.get(kind) if isinstance(kind, str) else None
    if move_type is None:
        problems.append(
            f"The invoice's InvoiceType {_shown(kind)} is neither "
            f"{' nor '.join(const.CAPTURED_MOVE_TYPES)}."
        )
    invoice_date = _date(item.get(const.INVOICE_DATE_KEY), "InvoiceDate", problems, "invoice")
    if item.get(const.INVOICE_DATE_KEY) is None:
        problems.append("The invoice has no InvoiceDate.")
    due_date = _date(item.get(const.INVOICE_DUE_DATE_KEY), "InvoiceDueDate", problems, "invoice")
    gross = _money(item.get(const.INVOICE_AMOUNT_KEY), "The invoice's GrossAmount", problems)
    if gross is not None and gross <= 0:
        problems.append(f"The invoice's GrossAmount is not positive: {gross}.")
    currency = item.get(const.INVOICE_CURRENCY_KEY)
    if currency is not None and not (isinstance(currency, str) and CURRENCY_RE.match(currency)):
        problems.append(f"The invoice's Currency {_shown(currency)} is not an ISO 4217 code.")
        currency = None
    vendor = item.get(const.INVOICE_VENDOR_KEY)
    if vendor is None:
        vendor = {}
    elif not isinstance(vendor, dict):
        problems.append(f"The invoice's BuyerVendor is not an object: {_shown(vendor)}.")
        vendor = {}
    distributions = _distributions(item.get(const.INVOICE_DISTRIBUTIONS_KEY), problems)
    if gross is not None and distributions and not problems:
        total = round(sum(d.amount for d in distributions), const.MONEY_DECIMALS)
        if abs(total - gross) > TOTAL_TOLERANCE + 1e-9:
            problems.append(
                f"The invoice's distributions add up to {total:.2f}, not its GrossAmount "
                f"{gross:.2f}."
            )
    if problems:
        raise ReportError(problems)
    return CapturedInvoice(
        invoice_id=invoice_id,
        number=_text(item.get(const.INVOICE_NUMBER_KEY)),
        move_type=move_type,
        invoice_date=invoice_date,
        due_date=due_date,
        gross=gross,
        currency=currency,
        po_number=_text(item.get(const.INVOICE_PO_NUMBER_KEY)),
        memo=_text(item.get(const.INVOICE_MEMO_KEY)),
        image_url=_text(item.get(const.INVOICE_IMAGE_URL_KEY)),
        vendor_name=_text(vendor.get(const.VENDOR_NAME_KEY)),
        vendor_code=vendor_code(vendor.get(const.INVOICE_VENDOR_CODE_KEY)),
        distributions=distributions,
    )


def differences(old, new):
    """What changed from ``old`` to ``new`` (two versions of one invoice) that
    the books see, in words, one item each; empty when nothing did (a memo,
    say, changed alone)."""
    changes = []
    for label, before, after in (
        ("number", old.number, new.number),
        ("type", old.move_type, new.move_type),
        ("date", old.invoice_date, new.invoice_date),
        ("due date", old.due_date, new.due_date),
        ("currency", old.currency, new.currency),
        ("purchase order", old.po_number, new.po_number),
        ("vendor", _vendor(old), _vendor(new)),
    ):
        if before != after:
            changes.append(f"{label} {_said(before)} → {_said(after)}")
    if old.gross != new.gross:
        changes.append(f"amount {old.gross:.2f} → {new.gross:.2f}")
    if old.distributions != new.distributions:
        changes.append(
            f"lines ({len(old.distributions)} → {len(new.distributions)})"
            if len(old.distributions) != len(new.distributions)
            else "lines"
        )
    return changes


# === PRIVATE HELPERS === #


def _distributions(value, problems):
    if not isinstance(value, list) or not value:
        problems.append(f"The invoice has no Distributions: {_shown(value)}.")
        return ()
    lines = []
    for number, entry in enumerate(value, start=1):
        what = f"Distribution {number}"
        if not isinstance(entry, dict):
            problems.append(f"{what} is not an object: {_shown(entry)}.")
            continue
        amount = _money(entry.get(const.DISTRIBUTION_AMOUNT_KEY), f"{what}'s Amount", problems)
        quantity = entry.get(const.DISTRIBUTION_QUANTITY_KEY)
        if quantity is not None and (
            isinstance(quantity, bool)
            or not isinstance(quantity, int | float)
            or not 0 < quantity < const.MONEY_MAX
        ):
            problems.append(f"{what}'s Quantity is not a positive number: {_shown(quantity)}.")
            quantity = None
        codes = entry.get(const.DISTRIBUTION_CODES_KEY)
        account_codes, dimensions = [], []
        for code in codes if isinstance(codes, list) else []:
            group = _text(code.get(const.CODE_GROUP_KEY)) if isinstance(code, dict) else None
            text = _text(code.get(const.CODE_VALUE_KEY)) if isinstance(code, dict) else None
            if not group or not text:
                problems.append(f"{what} has a code without a GroupName or a value.")
            elif group == const.GL_ACCOUNT_CODE_GROUP:
                account_codes.append(text)
            else:
                dimensions.append((group, text))
        if len(set(account_codes)) > 1:
            problems.append(f"{what} names several GL accounts: {', '.join(account_codes)}.")
        description = entry.get(const.DISTRIBUTION_DESCRIPTION_KEY)
        lines.append(
            Distribution(
                amount=amount,
                description=description.strip() or None if isinstance(description, str) else None,
                quantity=float(quantity) if quantity is not None else None,
                account_code=account_codes[0] if account_codes else None,
                dimensions=tuple(dimensions),
            )
        )
    return tuple(lines)


def _vendor(invoice):
    return invoice.vendor_code or invoice.vendor_name


def _said(value):
    return "(none)" if value in (None, "") else str(value)
