"""How the simulated API reads request bodies, and the shapes of its refusals.

Kept apart from the store so that the rules a client author must satisfy (required fields,
no ``false``/``""`` for optional ones, money as JSON numbers with two decimals, amounts
that add up) can be read in one place. Functions here return normalised content or raise
``ApiError``; they never touch stored data.
"""

import base64
import binascii
import re
from datetime import date, datetime, timezone
from http import HTTPStatus

DISTRIBUTION_TOLERANCE = 0.01
# What POST /invoices submits [assumed: credit memos travel as invoices of another type].
INVOICE_TYPES = ("Invoice", "CreditMemo")
DEFAULT_INVOICE_TYPE = "Invoice"
# "at most 10 MB decoded" [assumed]: read as 10 MiB, the larger of the two readings, so
# that a client keeping under either one is never refused.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

VENDOR_TEXT_FIELDS = ("NameOnCheck", "FedTaxId", "Email", "Telephone1", "Website")
ADDRESS_FIELDS = ("Line1", "Line2", "City", "State", "PostalCode", "Country")
# Keys the server owns: a client sending them is ignored rather than trusted.
RECORD_OWNED = ("Id", "LastModifiedDate")
INVOICE_OWNED = (
    *RECORD_OWNED,
    "Status",
    "AmountPaid",
    "DiscountTaken",
    "Balance",
    "RejectionReason",
    "InvoiceUrl",
)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$"
)
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# type/subtype, optionally with parameters (text/plain; charset=utf-8)
_MEDIA_TYPE_RE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;.*)?$")


class ApiError(Exception):
    """A request the simulated API refuses; carries the HTTP status and the error body."""

    def __init__(self, status, detail, item=None, headers=None):
        super().__init__(detail)
        self.status = int(status)
        self.detail = detail
        self.item = item
        self.headers = headers or {}

    def body(self):
        payload = error_body(self.status, self.detail)
        if self.item is not None:
            payload["Item"] = self.item
        return payload


def error_body(status, detail):
    """The contract's error shape: ``{"exception": {"reason": ..., "detail": ...}}``."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return {"exception": {"reason": reason, "detail": detail}}


def format_timestamp(moment):
    """ISO 8601 UTC with microseconds and ``Z``; fixed width, so strings sort like times."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value):
    """Parse an ISO 8601 timestamp that names its zone; ``None`` when it is not one."""
    match = _TIMESTAMP_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    # Rebuilt in the one form Python 3.10's fromisoformat reads (no "Z", 6 digits).
    minutes, seconds, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"
    text = f"{minutes}:{seconds or '00'}.{(fraction or '')[:6]:0<6}{zone}"
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def money(value):
    """Round to cents; ``+ 0.0`` turns ``-0.0`` into ``0.0``."""
    return round(float(value), 2) + 0.0


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def today():
    return datetime.now(timezone.utc).date().isoformat()


def parse_date(value):
    """``YYYY-MM-DD`` normalised, or ``None`` when ``value`` is not such a date."""
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def control_date(value, name):
    """A date given to a Python control method (``date`` or text); default today."""
    if value is None:
        return today()
    if isinstance(value, date):
        return value.isoformat()
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"{name} must be a date or 'YYYY-MM-DD', got {value!r}")
    return parsed


def control_money(value, name):
    if not is_number(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return money(value)


def drop_none(values):
    return {k: v for k, v in values.items() if v is not None}


class Fields:
    """Reads the fields of one JSON object and reports the first problem as a 422.

    Field names in messages carry their path (``Distributions[1].Amount``) so that the
    client author sees at once which value was refused.
    """

    def __init__(self, data, prefix=""):
        if not isinstance(data, dict):
            raise ApiError(422, f"{prefix.rstrip('.') or 'body'}: must be a JSON object")
        self.data = data
        self.prefix = prefix

    def fail(self, field, message):
        raise ApiError(422, f"{self.prefix}{field}: {message}")

    def _get(self, field, required):
        value = self.data.get(field)
        if value is None and required:
            self.fail(field, "is required")
        if value is False:
            self.fail(field, "must not be false; leave it out or send null")
        return value

    def text(self, field, required=False, allow_empty=False):
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "must be a string")
        if not value.strip() and not allow_empty:
            if required:
                self.fail(field, "is required and must not be empty")
            self.fail(field, 'must not be ""; leave it out or send null')
        return value

    def flag(self, field):
        value = self.data.get(field)
        if value is not None and not isinstance(value, bool):
            self.fail(field, "must be true, false or null")
        return value

    def number(self, field, required=False):
        value = self._get(field, required)
        if value is not None and not is_number(value):
            self.fail(field, "must be a JSON number")
        return value

    def amount(self, field, required=False):
        value = self.number(field, required)
        if value is None:
            return None
        if round(value, 2) != value:
            self.fail(field, "must have at most two decimals")
        return money(value)

    def day(self, field, required=False):
        """``YYYY-MM-DD``, normalised."""
        return parse_date(self._text_as(field, required, parse_date, "a date as YYYY-MM-DD"))

    def currency(self, field, required=False):
        return self._text_as(field, required, CURRENCY_RE.match, "an ISO 4217 code such as USD")

    def _text_as(self, field, required, valid, expected):
        """A text that ``valid`` accepts, else a 422 saying it must be ``expected``."""
        value = self.text(field, required)
        if value is not None and not valid(value):
            self.fail(field, f"must be {expected}")
        return value

    def child(self, field, required=False):
        value = self._get(field, required)
        if value is None:
            return None
        return Fields(value, f"{self.prefix}{field}.")

    def children(self, field, required=False):
        value = self._get(field, required)
        if value is None:
            value = []
        if not isinstance(value, list):
            self.fail(field, "must be a JSON array")
        if required and not value:
            self.fail(field, "must not be empty")
        return [Fields(item, f"{self.prefix}{field}[{i}].") for i, item in enumerate(value)]

    def rest(self, known, owned=()):
        """Fields the contract does not name are kept as sent (a tolerant server)."""
        return {
            k: v
            for k, v in self.data.items()
            if k not in known and k not in owned and v is not None
        }

    def keep_rest(self, values, known=None, owned=()):
        """``values`` read from these fields, Nones dropped, then the fields the
        contract does not name, kept as sent (``known``: the names read, by default
        those of ``values``; ``owned``: the server's own, never taken as sent)."""
        return {**drop_none(values), **self.rest(set(values) if known is None else known, owned)}


def vendor_content(code, body):
    """The vendor to store for ``PUT /vendors/{code}``."""
    fields = Fields(body)
    body_code = fields.text("ExternalVendorCode", required=True)
    if body_code != code:
        fields.fail("ExternalVendorCode", f"{body_code!r} does not match the path {code!r}")
    content = {"ExternalVendorCode": body_code, "Name": fields.text("Name", required=True)}
    for name in VENDOR_TEXT_FIELDS:
        content[name] = fields.text(name)
    active = fields.flag("Active")
    content["Active"] = True if active is None else active
    address = fields.child("Address")
    if address is not None:
        # The contract's own example sends "Line2": "", so empty lines are accepted here.
        values = {name: address.text(name, allow_empty=True) for name in ADDRESS_FIELDS}
        content["Address"] = address.keep_rest(values)
    known = {"ExternalVendorCode", "Name", "Active", "Address", *VENDOR_TEXT_FIELDS}
    return fields.keep_rest(content, known, RECORD_OWNED)


def enterprise_code_content(item):
    """One enterprise code of a ``PUT /enterpriseCodes`` batch."""
    fields = Fields(item)
    content = {
        "GroupName": fields.text("GroupName", required=True),
        "CodeValue": fields.text("CodeValue", required=True),
        "Description": fields.text("Description"),
        "IsActive": fields.flag("IsActive"),
    }
    if content["IsActive"] is None:
        content["IsActive"] = True
    return drop_none(content)


def purchase_order_content(code, body, known_vendors):
    """The purchase order to store for ``PUT /purchaseOrders/{code}``."""
    fields = Fields(body)
    body_code = fields.text("ExternalPurchaseOrderCode", required=True)
    if body_code != code:
        fields.fail("ExternalPurchaseOrderCode", f"{body_code!r} does not match the path {code!r}")
    content = {
        "ExternalPurchaseOrderCode": body_code,
        "VendorExternalSystemID": fields.text("VendorExternalSystemID", required=True),
        "OrderDate": fields.day("OrderDate"),
        "Currency": fields.currency("Currency"),
        "Total": fields.amount("Total"),
        "Status": fields.text("Status"),
    }
    if content["VendorExternalSystemID"] not in known_vendors:
        fields.fail("VendorExternalSystemID", "unknown vendor for this company")
    lines = []
    for line in fields.children("Lines"):
        values = {
            "LineNumber": line.number("LineNumber"),
            "Description": line.text("Description"),
            "Quantity": line.number("Quantity"),
            "UnitPrice": line.amount("UnitPrice"),
            "Amount": line.amount("Amount"),
            "QuantityReceived": line.number("QuantityReceived"),
        }
        lines.append(line.keep_rest(values))
    content["Lines"] = lines
    return fields.keep_rest(content, owned=RECORD_OWNED)


def invoice_external_id(body):
    """Read first: a known ``ExternalInvoiceId`` answers 409 before other checks."""
    return Fields(body).text("ExternalInvoiceId", required=True)


def invoice_type(fields):
    """``InvoiceType``: ``Invoice`` unless said otherwise; any other value is a 422,
    never a bill taken for a credit (or the reverse)."""
    value = fields.text("InvoiceType")
    if value is None:
        return DEFAULT_INVOICE_TYPE
    if value not in INVOICE_TYPES:
        fields.fail("InvoiceType", f"must be one of {', '.join(INVOICE_TYPES)}, got {value!r}")
    return value


def invoice_content(body, known_vendors):
    """The invoice to store for ``POST /invoices`` (without the server-owned fields)."""
    fields = Fields(body)
    content = {
        "ExternalInvoiceId": fields.text("ExternalInvoiceId", required=True),
        "Number": fields.text("Number", required=True),
        "InvoiceDate": fields.day("InvoiceDate", required=True),
        "InvoiceDueDate": fields.day("InvoiceDueDate"),
        "GrossAmount": fields.amount("GrossAmount", required=True),
        "Currency": fields.currency("Currency", required=True),
        "PONumber": fields.text("PONumber"),
        "Memo": fields.text("Memo"),
        "InvoiceType": invoice_type(fields),
    }
    if content["InvoiceType"] == "CreditMemo" and content["GrossAmount"] <= 0:
        # the type says it is a credit: a negative amount would say it twice
        fields.fail("GrossAmount", "a credit memo is sent with positive amounts")
    vendor = fields.child("BuyerVendor", required=True)
    vendor_code = vendor.text("VendorExternalSystemID", required=True)
    if vendor_code not in known_vendors:
        vendor.fail("VendorExternalSystemID", f"unknown vendor {vendor_code!r}")
    content["BuyerVendor"] = {"VendorExternalSystemID": vendor_code}
    distributions = []
    for line in fields.children("Distributions", required=True):
        codes = [
            {
                "GroupName": code.text("GroupName", required=True),
                "EnterpriseCodeValue": code.text("EnterpriseCodeValue", required=True),
            }
            for code in line.children("EnterpriseCodes")
        ]
        values = {
            "Amount": line.amount("Amount", required=True),
            "Description": line.text("Description"),
            "EnterpriseCodes": codes,
        }
        distributions.append(line.keep_rest(values))
    total = money(sum(d["Amount"] for d in distributions))
    if abs(total - content["GrossAmount"]) > DISTRIBUTION_TOLERANCE + 1e-9:
        fields.fail(
            "Distributions",
            f"amounts add up to {total:.2f}, not GrossAmount {content['GrossAmount']:.2f}",
        )
    content["Distributions"] = distributions
    return fields.keep_rest(content, owned=INVOICE_OWNED)


def attachment_content(body):
    """The file of ``POST /invoices/{Id}/attachments``: ``(description, decoded bytes)``.

    ``Content`` must be strict base64 (no line breaks): a client that wraps or
    mangles it would otherwise store a file the approvers cannot open. Too large a
    file is a 413, as the gateway would answer, not a 422.
    """
    fields = Fields(body)
    description = {
        "FileName": fields.text("FileName", required=True),
        "ContentType": fields.text("ContentType", required=True),
    }
    if not _MEDIA_TYPE_RE.match(description["ContentType"]):
        fields.fail("ContentType", "must be a media type such as application/pdf")
    encoded = fields.text("Content", required=True)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "Content: must be base64 (RFC 4648, without line breaks)") from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ApiError(
            413, f"Content: {len(data)} bytes once decoded; at most {MAX_ATTACHMENT_BYTES}"
        )
    return description, data


# ExportHistoryStatusId: 1 = imported, 2 = the import failed [assumed].
EXPORT_HISTORY_STATUSES = (1, 2)


def export_history_content(body):
    """The mark of ``POST /invoices/batches/exportHistories``: the batch, when its
    import started and ended (timestamps with a zone), and how it went."""
    fields = Fields(body)
    content = {"BatchId": fields.text("BatchId", required=True)}
    for name in ("StartDate", "EndDate"):
        value = fields.text(name, required=True)
        if parse_timestamp(value) is None:
            fields.fail(name, "must be an ISO 8601 timestamp with a zone")
        content[name] = value
    if parse_timestamp(content["EndDate"]) < parse_timestamp(content["StartDate"]):
        fields.fail("EndDate", "is before StartDate")
    status = fields.number("ExportHistoryStatusId", required=True)
    if status not in EXPORT_HISTORY_STATUSES or isinstance(status, float):
        fields.fail("ExportHistoryStatusId", "must be 1 (imported) or 2 (failed)")
    content["ExportHistoryStatusId"] = status
    return content
