"""What we send for a bill, from plain values: the ``POST /invoices`` body,
its distributions and analytic shares, and whether an invoice AvidXchange
holds (its 409 answer) is the one we sent.

No ORM here: ``models/avidxchange_invoice_link.py`` reads the bill and calls
these. ``currency`` is anything with ``name`` and ``decimal_places`` (a
``res.currency`` record does).
"""

from .. import const
from .payload import add_up_to, compact, money
from .payment_report import read_money

# Shares smaller than this (in percent) are rounding noise, not a share.
SHARE_EPSILON = 0.0001
# Two amounts closer than this are the same money (half a cent).
SAME_AMOUNT = 0.005
# The description AvidXchange takes on a distribution, at most.
DESCRIPTION_MAX_CHARS = 250


# === ANALYTIC SHARES === #


def analytic_shares(rows):
    """``{plans: [(percentage, codes)]}`` of one line's analytic distribution.

    ``rows`` are the distribution's rows as ``(percentage, plans, codes)``:
    the plans its accounts belong to (their root plans) and their codes.
    Rows are grouped by the plans they cover: each group's percentages add
    up to 100 at most, and groups are independent. Rows that share a plan
    (Odoo's rows "Sales + Project X" 60%, "Ops" 40%) are not independent:
    then each row is a distribution of its own.
    """
    groups = {}
    for percentage, plans, codes in rows:
        if codes and percentage:
            groups.setdefault(frozenset(plans), []).append((float(percentage), list(codes)))
    covered = [plan for plans in groups for plan in plans]
    if len(covered) != len(set(covered)):
        groups = {frozenset(): [entry for entries in groups.values() for entry in entries]}
    return groups


def line_shares(groups):
    """``[(percentage, codes)]`` of one line, from its ``analytic_shares``:
    one per combination of the groups' rows (plans are independent: 60/40
    by department and 100 to one location make 60 and 40 at that location),
    the share no row of a group covers coded without that group. More than
    the whole line is spread in proportion."""
    shares = [(100.0, [])]
    for entries in groups.values():
        rest = 100.0 - sum(share for share, _codes in entries)
        options = entries + ([(rest, [])] if rest > SHARE_EPSILON else [])
        shares = [
            (share * option / 100.0, codes + option_codes)
            for share, codes in shares
            for option, option_codes in options
        ]
    shares = [(share, codes) for share, codes in shares if share > SHARE_EPSILON]
    spread = sum(share for share, _codes in shares)
    if spread > 100.0 + SHARE_EPSILON:  # more than the whole line: in proportion
        shares = [(share * 100.0 / spread, codes) for share, codes in shares]
    return shares


# === DISTRIBUTIONS === #


def line_distributions(amount, description, account_codes, groups, currency):
    """One invoice line as distributions: coded with ``account_codes`` (its
    GL account's, or none) and split by its analytic ``groups`` (see
    ``analytic_shares``). Cents are reconciled to the line's ``amount``."""
    shares = line_shares(groups)
    total = money(amount, currency)
    amounts = add_up_to(
        [money(total * share / 100.0, currency) for share, _codes in shares], total, currency
    )
    text = (description or "").strip()[:DESCRIPTION_MAX_CHARS] or None
    return [
        compact({"Amount": part, "Description": text, "EnterpriseCodes": account_codes + codes})
        for part, (_share, codes) in zip(amounts, shares, strict=True)
    ]


def reconciled(distributions, total, currency):
    """``distributions`` without the empty ones, their amounts made to add
    up to ``total`` (rounding each line may leave a cent; the largest line
    absorbs it)."""
    distributions = [distribution for distribution in distributions if distribution["Amount"]]
    if distributions:
        amounts = add_up_to([d["Amount"] for d in distributions], total, currency)
        for distribution, amount in zip(distributions, amounts, strict=True):
            distribution["Amount"] = amount
    return distributions


# === THE INVOICE === #


def invoice_payload(
    *,
    external_id,
    move_type,
    number,
    invoice_date,
    due_date,
    total,
    currency,
    vendor_code,
    distributions,
    po_number=None,
    memo=None,
):
    """The bill (or credit note, as a credit memo) as the contract's
    ``POST /invoices`` body. Amounts are in the bill's currency, positive,
    and the distributions add up to the total. Optional values that are
    empty are left out."""
    total = money(total, currency)
    return compact(
        {
            "ExternalInvoiceId": external_id,
            "InvoiceType": const.INVOICE_TYPES[move_type],
            "Number": number,
            "InvoiceDate": _date(invoice_date),
            "InvoiceDueDate": _date(due_date),
            "GrossAmount": total,
            "Currency": currency.name,
            "PONumber": po_number,
            "Memo": memo,
            const.INVOICE_VENDOR_KEY: {const.INVOICE_VENDOR_CODE_KEY: vendor_code},
            "Distributions": reconciled(distributions, total, currency),
        }
    )


def _date(value):
    return value.isoformat() if value else False


# === THE 409 COMPARISON === #


def held_invoice(theirs):
    """``(amount, vendor code, currency)`` of an invoice AvidXchange holds,
    each None when it did not say (or not in a shape we read)."""
    amount = read_money(theirs.get(const.INVOICE_AMOUNT_KEY))
    vendor = theirs.get(const.INVOICE_VENDOR_KEY)
    vendor = vendor.get(const.INVOICE_VENDOR_CODE_KEY) if isinstance(vendor, dict) else None
    currency = theirs.get(const.INVOICE_CURRENCY_KEY)
    return amount, vendor, currency if isinstance(currency, str) else None


def is_invoice_sent(theirs, payload):
    """Whether ``theirs``, the invoice AvidXchange holds under our bill's
    id, is the bill of ``payload``: same id, amount, vendor and (when it
    says one) currency. Another database, or a bill renumbered since, must
    not be taken for it."""
    amount, vendor, _currency = held_invoice(theirs)
    ours = payload[const.INVOICE_VENDOR_KEY][const.INVOICE_VENDOR_CODE_KEY]
    currency = theirs.get(const.INVOICE_CURRENCY_KEY, payload["Currency"])
    return (
        theirs.get(const.INVOICE_EXTERNAL_ID_KEY) == payload["ExternalInvoiceId"]
        and amount is not None
        and abs(amount - payload["GrossAmount"]) < SAME_AMOUNT
        and vendor == ours
        and currency == payload["Currency"]
    )
