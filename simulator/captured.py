"""Invoices captured in AvidXchange, closed in batches for an accounting system to import.

The contract's section "Invoices captured in AvidXchange": vendors send invoices to
AvidXchange, which captures, codes and approves them, then closes them in batches; the
accounting system lists the batches closed on some days, reads each batch's invoices and
their images, and marks the batch imported (``exportHistories``). A batch can be closed
again later with changes. Captured invoices are invoices like the others (same table, same
``Id`` sequence, paid by ``pay``), with no ``ExternalInvoiceId``: they were born here.

A mixin of ``SimState``: its lock, clock and records are used as they are.
"""

import base64
import binascii
import copy
import uuid
from datetime import date, datetime, timedelta, timezone
from urllib.parse import quote

from .documents import PDF_MEDIA_TYPE, invoice_image_pdf
from .faults import API_PREFIX
from .validation import (
    CURRENCY_RE,
    DISTRIBUTION_TOLERANCE,
    INVOICE_TYPES,
    MAX_ATTACHMENT_BYTES,
    ApiError,
    control_date,
    control_money,
    export_history_content,
    format_timestamp,
    is_number,
    money,
    parse_date,
    parse_timestamp,
)

# What GET /accountingSystems answers until told otherwise (the contract's example).
DEFAULT_ACCOUNTING_SYSTEMS = [{"ID": 17, "Name": "Odoo"}]
# closeDateFrom..closeDateTo: days, both inclusive, at most this many days apart.
MAX_CLOSE_WINDOW = timedelta(days=30)
DETAILS_REL = "full-details"
# The keys of an invoice in a batch, in the contract's order.
CAPTURED_KEYS = (
    "Id",
    "Number",
    "InvoiceType",
    "InvoiceDate",
    "InvoiceDueDate",
    "GrossAmount",
    "Currency",
    "PONumber",
    "Memo",
    "LastChangedDate",
    "ImageUrl",
    "BuyerVendor",
    "Distributions",
)
# What a change given to ``reclose_batch`` may set (the rest is AvidXchange's).
CHANGEABLE_KEYS = frozenset(CAPTURED_KEYS) - {"Id", "LastChangedDate", "ImageUrl"}
# capture_invoice's options: the key of the invoice each one sets.
CAPTURE_OPTIONS = {
    "invoice_type": "InvoiceType",
    "currency": "Currency",
    "invoice_date": "InvoiceDate",
    "due_date": "InvoiceDueDate",
    "po_number": "PONumber",
    "memo": "Memo",
}
DEFAULT_DISTRIBUTION_CODE = {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600000"}


def batch_details_path(batch_guid):
    """The ``full-details`` link of a batch: relative to the base URL."""
    return f"{API_PREFIX}/invoices/batches/{quote(batch_guid, safe='')}/invoices"


def _image_path(invoice_id):
    return f"{API_PREFIX}/invoices/{quote(invoice_id, safe='')}/image"


def _text(value, name, required=False):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _vendor(vendor):
    """``BuyerVendor``: ``VendorName`` required; the code (maybe ``code|address``) and
    the tax id optional (null when not given: a vendor known to AvidXchange only)."""
    if not isinstance(vendor, dict):
        raise TypeError("vendor must be an object with VendorName, VendorExternalSystemID...")
    return {
        "VendorName": _text(vendor.get("VendorName"), "VendorName", required=True),
        # empty (the contract's word) may be "" as well as null
        "VendorExternalSystemID": vendor.get("VendorExternalSystemID")
        if vendor.get("VendorExternalSystemID") == ""
        else _text(vendor.get("VendorExternalSystemID"), "VendorExternalSystemID"),
        "FedTaxId": _text(vendor.get("FedTaxId"), "FedTaxId"),
    }


def _distribution(line, index):
    where = f"Distributions[{index}]"
    if not isinstance(line, dict):
        raise TypeError(f"{where} must be an object")
    quantity = line.get("Quantity")
    if quantity is not None and not is_number(quantity):
        raise ValueError(f"{where}.Quantity must be a number")
    codes = line.get("EnterpriseCodes") or []
    if not isinstance(codes, list) or not all(
        isinstance(code, dict) and {"GroupName", "EnterpriseCodeValue"} <= code.keys()
        for code in codes
    ):
        raise ValueError(f"{where}.EnterpriseCodes: objects with GroupName, EnterpriseCodeValue")
    return {
        "Amount": control_money(line.get("Amount"), f"{where}.Amount"),
        "Description": _text(line.get("Description"), f"{where}.Description"),
        "Quantity": quantity,
        "EnterpriseCodes": [
            {"GroupName": c["GroupName"], "EnterpriseCodeValue": c["EnterpriseCodeValue"]}
            for c in codes
        ],
    }


def captured_content(values):
    """A captured invoice's content (without ``Id``, ``LastChangedDate``, ``ImageUrl``),
    checked as AvidXchange guarantees it: positive amounts, distributions adding up to
    ``GrossAmount`` within 0.01. ``ValueError`` says what is wrong."""
    invoice_type = values.get("InvoiceType") or "Invoice"
    if invoice_type not in INVOICE_TYPES:
        raise ValueError(f"InvoiceType must be one of {INVOICE_TYPES}")
    currency = values.get("Currency") or "USD"
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise ValueError("Currency must be an ISO 4217 code")
    lines = values.get("Distributions")
    if not isinstance(lines, list) or not lines:
        raise ValueError("Distributions must list at least one distribution")
    distributions = [_distribution(line, n) for n, line in enumerate(lines)]
    total = money(sum(d["Amount"] for d in distributions))
    gross = values.get("GrossAmount")
    gross = total if gross is None else control_money(gross, "GrossAmount")
    if abs(gross - total) > DISTRIBUTION_TOLERANCE + 1e-9:
        raise ValueError(f"Distributions add up to {total:.2f}, not GrossAmount {gross:.2f}")
    if gross <= 0:
        raise ValueError("GrossAmount must be > 0 (a credit memo has positive amounts too)")
    due = values.get("InvoiceDueDate")
    return {
        "Number": _text(values.get("Number"), "Number", required=True),
        "InvoiceType": invoice_type,
        "InvoiceDate": control_date(values.get("InvoiceDate"), "InvoiceDate"),
        "InvoiceDueDate": None if due is None else control_date(due, "InvoiceDueDate"),
        "GrossAmount": gross,
        "Currency": currency,
        "PONumber": _text(values.get("PONumber"), "PONumber"),
        "Memo": _text(values.get("Memo"), "Memo"),
        "BuyerVendor": _vendor(values.get("BuyerVendor")),
        "Distributions": distributions,
    }


def _image(image, number):
    """``(file name, content type, bytes)`` of an invoice's image: ``True`` for a PDF
    made up here, or ``{"FileName", "ContentType", "Content" (base64)}``."""
    if image is True:
        return f"{number}.pdf", PDF_MEDIA_TYPE, None  # drawn when asked (see invoice_image)
    if not isinstance(image, dict):
        raise TypeError("image must be true or {FileName, ContentType, Content (base64)}")
    try:
        data = base64.b64decode(image.get("Content") or "", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("image Content must be base64") from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValueError(f"image: at most {MAX_ATTACHMENT_BYTES} bytes decoded")
    name = _text(image.get("FileName"), "image FileName", required=True)
    kind = _text(image.get("ContentType"), "image ContentType", required=True)
    return name, kind, data


def _moment(value, name):
    """A ``DateClosed`` given to a control method: a datetime or an ISO 8601 text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must name its zone")
        return value.astimezone(timezone.utc)
    moment = parse_timestamp(value)
    if moment is None:
        raise ValueError(f"{name} must be an ISO 8601 timestamp with a zone, got {value!r}")
    return moment


class CapturedInvoices:
    """Captured invoices, their batches and the marks of their import (``SimState``'s)."""

    # --- capture ------------------------------------------------------------------------

    def _default_company(self, company_id):
        if company_id is not None:
            return self._company(company_id)
        if len(self._companies) != 1:
            raise ValueError("several companies: pass company_id")
        return next(iter(self._companies.values()))

    def capture_invoice(self, number, vendor, amount=None, distributions=None, **options):
        """An invoice captured, coded and approved in AvidXchange; returns its ``Id``.

        ``distributions``: the contract's shape (``Amount``, ``Description``,
        ``Quantity``, ``EnterpriseCodes``); by default one of ``amount`` coded 600000.
        ``options``: ``invoice_type``, ``currency``, ``invoice_date``, ``due_date``,
        ``po_number``, ``memo`` (see ``CAPTURE_OPTIONS``); ``image``: ``True`` (a PDF
        drawn here) or ``{FileName, ContentType, Content}``, none by default (``GET
        {ImageUrl}`` then answers 404); ``fields``: keys set exactly as given over the
        checked content, however wrong (a fault on demand); ``company_id``.
        """
        image = options.pop("image", None)
        fields = options.pop("fields", None)
        company_id = options.pop("company_id", None)
        unknown = set(options) - set(CAPTURE_OPTIONS)
        if unknown:
            raise TypeError(f"capture_invoice() got unexpected options {sorted(unknown)}")
        if distributions is None:
            if amount is None:
                raise ValueError("give amount or distributions")
            distributions = [
                {
                    "Amount": amount,
                    "Description": "Goods",
                    "Quantity": 1,
                    "EnterpriseCodes": [dict(DEFAULT_DISTRIBUTION_CODE)],
                }
            ]
        values = {CAPTURE_OPTIONS[name]: value for name, value in options.items()}
        content = captured_content(
            {
                **values,
                "Number": number,
                "GrossAmount": amount,
                "BuyerVendor": vendor,
                "Distributions": distributions,
            }
        )
        picture = None if image in (None, False) else _image(image, content["Number"])
        if fields is not None and not isinstance(fields, dict):
            raise ValueError("fields must be an object")
        with self.lock:
            company = self._default_company(company_id)
            content.update(
                Status="Approved",  # captured, coded and approved: ready to close
                AmountPaid=0.0,
                DiscountTaken=0.0,
                Balance=content["GrossAmount"],
            )
            record = self._new_record("INV", content)
            record.update(
                LastChangedDate=record["LastModifiedDate"],
                ImageUrl=_image_path(record["Id"]),
                _captured=True,
                _batch=None,
                _image=picture,
                _fields=copy.deepcopy(fields or {}),
            )
            company.invoices[record["Id"]] = record
            return record["Id"]

    def _captured(self, company, invoice_id):
        invoice = company.invoices.get(invoice_id)
        if invoice is None or not invoice.get("_captured"):
            raise KeyError(f"Unknown captured invoice {invoice_id}")
        return invoice

    @staticmethod
    def _as_listed(invoice):
        """An invoice as a batch lists it: the contract's keys, then ``fields``."""
        listed = {key: copy.deepcopy(invoice.get(key)) for key in CAPTURED_KEYS}
        listed.update(copy.deepcopy(invoice["_fields"]))
        return listed

    def invoice_image(self, company_id, invoice_id):
        """``(found, image)``: whether the company has the invoice, and its image
        (``None`` when AvidXchange has none)."""
        with self.lock:
            company = self._companies.get(company_id)
            invoice = company.invoices.get(invoice_id) if company else None
            if invoice is None:
                return False, None
            picture = invoice.get("_image")
            if picture is None:
                return True, None
            name, kind, data = picture
            if data is None:
                data = invoice_image_pdf(invoice)
            content = base64.b64encode(data).decode("ascii")
            return True, {"FileName": name, "ContentType": kind, "Content": content}

    # --- batches ------------------------------------------------------------------------

    def _system_id(self, company, system_id):
        known = [system.get("ID") for system in company.accounting_systems]
        if system_id is None:
            if not known:
                raise ValueError("the company has no accounting system")
            return known[0]
        if system_id not in known:
            raise ValueError(f"unknown accounting system {system_id!r}")
        return system_id

    def _take_into(self, company, batch, invoice_ids):
        for invoice_id in invoice_ids:
            invoice = self._captured(company, invoice_id)
            if invoice["_batch"] not in (None, batch["BatchGUID"]):
                raise ValueError(f"invoice {invoice_id} is in batch {invoice['_batch']}")
            if invoice_id not in batch["_invoices"]:
                batch["_invoices"].append(invoice_id)
            invoice["_batch"] = batch["BatchGUID"]

    def _close_moment(self, date_closed, after=None):
        moment = self._now() if date_closed is None else _moment(date_closed, "date_closed")
        if after is not None and moment <= after:
            raise ValueError("a batch closed again is closed later than before")
        return moment

    def _check_currency(self, company, batch):
        currencies = {company.invoices[i]["Currency"] for i in batch["_invoices"]}
        if len(currencies) > 1:
            raise ValueError("a batch holds invoices of one currency")

    def close_batch(
        self,
        invoice_ids,
        batch_name=None,
        date_closed=None,
        accounting_system_id=None,
        company_id=None,
    ):
        """Close captured invoices in a batch for an accounting system; returns its
        ``BatchGUID``. ``date_closed``: now by default (a datetime or ISO text)."""
        if not isinstance(invoice_ids, list) or not invoice_ids:
            raise ValueError("invoice_ids must list at least one captured invoice")
        with self.lock:
            company = self._default_company(company_id)
            guid = str(uuid.uuid4())
            seq = self._next_id("BATCH")
            moment = self._close_moment(date_closed)
            batch = {
                "BatchGUID": guid,
                "BatchName": batch_name or f"AP {moment.date().isoformat()} #{seq}",
                "_system": self._system_id(company, accounting_system_id),
                "_closed": moment,
                "_seq": seq,
                "_invoices": [],
            }
            self._take_into(company, batch, invoice_ids)
            self._check_currency(company, batch)
            company.batches[guid] = batch
            return guid

    def reclose_batch(self, batch_guid, add=(), remove=(), change=None, date_closed=None):
        """Close a batch again, later, with invoices added, removed or changed
        (``change``: ``{Id: {key: value}}`` in the contract's keys); returns its
        ``BatchGUID``. A removed invoice is in no batch any more."""
        change = change or {}
        if not isinstance(change, dict) or not all(isinstance(v, dict) for v in change.values()):
            raise ValueError("change must be an object {invoice Id: {key: value}}")
        with self.lock:
            company, batch = self._find_batch(batch_guid)
            moment = self._close_moment(date_closed, after=batch["_closed"])
            for invoice_id in remove:
                if invoice_id not in batch["_invoices"]:
                    raise ValueError(f"invoice {invoice_id} is not in batch {batch_guid}")
            for invoice_id, values in change.items():
                if invoice_id not in batch["_invoices"] or invoice_id in remove:
                    raise ValueError(f"invoice {invoice_id} is not in batch {batch_guid}")
                self._change_captured(company, invoice_id, values)
            for invoice_id in remove:
                batch["_invoices"].remove(invoice_id)
                company.invoices[invoice_id]["_batch"] = None
            self._take_into(company, batch, list(add))
            self._check_currency(company, batch)
            batch["_closed"] = moment
            return batch_guid

    def _change_captured(self, company, invoice_id, values):
        invoice = self._captured(company, invoice_id)
        unknown = set(values) - CHANGEABLE_KEYS
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}")
        current = {key: invoice.get(key) for key in CHANGEABLE_KEYS}
        if "Distributions" in values and "GrossAmount" not in values:
            current["GrossAmount"] = None  # the new distributions' total
        content = captured_content({**current, **values})
        if content != {key: invoice.get(key) for key in content}:
            invoice.update(content)
            self._touch(invoice)
            invoice["LastChangedDate"] = invoice["LastModifiedDate"]
            self._recompute_invoice(company, invoice)

    def _find_batch(self, batch_guid):
        for company in self._companies.values():
            if batch_guid in company.batches:
                return company, company.batches[batch_guid]
        raise KeyError(f"Unknown batch {batch_guid}")

    def _batch_public(self, company, batch):
        invoices = [company.invoices[i] for i in batch["_invoices"]]
        total = sum(
            -i["GrossAmount"] if i["InvoiceType"] == "CreditMemo" else i["GrossAmount"]
            for i in invoices
        )
        currencies = {i["Currency"] for i in invoices}
        return {
            "BatchGUID": batch["BatchGUID"],
            "BatchName": batch["BatchName"],
            "InvoiceCount": len(invoices),
            "BatchTotal": money(total),  # credit memos count against it
            "Currency": currencies.pop() if len(currencies) == 1 else None,
            "DateClosed": format_timestamp(batch["_closed"]),
            "Links": [{"Rel": DETAILS_REL, "Href": batch_details_path(batch["BatchGUID"])}],
        }

    def get_batch(self, batch_guid, company_id=None):
        """One batch as the API shows it; ``None`` when unknown (to ``company_id``)."""
        with self.lock:
            try:
                company, batch = self._find_batch(batch_guid)
            except KeyError:
                return None
            if company_id is not None and company.company_id != company_id:
                return None
            return self._batch_public(company, batch)

    def batches(self, company_id=None):
        """Every batch, ordered by ``DateClosed``."""
        with self.lock:
            companies = (
                list(self._companies.values())
                if company_id is None
                else [self._company(company_id)]
            )
            found = [(c, b) for c in companies for b in c.batches.values()]
            found.sort(key=lambda pair: (pair[1]["_closed"], pair[1]["_seq"]))
            return [self._batch_public(c, b) for c, b in found]

    def closed_batches(self, company_id, system_id, day_from, day_to):
        """``GET /invoices/batches/closed/acctgSysId/{ID}``: the batches of the system
        closed (last) on these days, both inclusive, ordered by ``DateClosed``."""
        first, last = (parse_date(day) for day in (day_from, day_to))
        for name, value, parsed in (
            ("closeDateFrom", day_from, first),
            ("closeDateTo", day_to, last),
        ):
            if parsed is None:
                raise ApiError(400, f"{name}: expected a date as YYYY-MM-DD, got {value!r}")
        first, last = date.fromisoformat(first), date.fromisoformat(last)
        if last < first:
            raise ApiError(400, "closeDateTo is before closeDateFrom")
        if last - first > MAX_CLOSE_WINDOW:
            raise ApiError(
                400, "closeDateFrom..closeDateTo are more than 30 days apart: read day by day"
            )
        with self.lock:
            company = self._company(company_id)
            if system_id not in [str(s.get("ID")) for s in company.accounting_systems]:
                raise ApiError(404, f"Accounting system {system_id} not found")
            found = [
                batch
                for batch in company.batches.values()
                if str(batch["_system"]) == system_id and first <= batch["_closed"].date() <= last
            ]
            found.sort(key=lambda batch: (batch["_closed"], batch["_seq"]))
            return [self._batch_public(company, batch) for batch in found]

    def batch_invoices(self, company_id, batch_guid):
        """The invoices of a batch as its ``full-details`` link lists them; ``None``
        when the company has no such batch."""
        with self.lock:
            company = self._companies.get(company_id)
            batch = company.batches.get(batch_guid) if company else None
            if batch is None:
                return None
            return [self._as_listed(company.invoices[i]) for i in batch["_invoices"]]

    # --- accounting systems and marks ---------------------------------------------------

    def accounting_systems(self, company_id):
        with self.lock:
            return copy.deepcopy(self._company(company_id).accounting_systems)

    def set_accounting_systems(self, systems, company_id=None):
        """What ``GET /accountingSystems`` answers, as given (``[{"ID", "Name"}]``),
        for ``company_id`` or every company."""
        if not isinstance(systems, list):
            raise TypeError("systems must be a list of {ID, Name}")
        with self.lock:
            companies = (
                list(self._companies.values())
                if company_id is None
                else [self._company(company_id)]
            )
            for company in companies:
                company.accounting_systems = copy.deepcopy(systems)

    def mark_exported(self, company_id, body):
        """``POST /invoices/batches/exportHistories``: ``(created, mark)``, created
        the first time the batch is marked."""
        content = export_history_content(body)
        with self.lock:
            company = self._company(company_id)
            batch = company.batches.get(content["BatchId"])
            if batch is None:
                raise ApiError(422, f"BatchId: unknown batch {content['BatchId']!r}")
            created = not any(m["BatchId"] == content["BatchId"] for m in company.export_histories)
            mark = {
                "Id": f"EXH-{self._next_id('EXH')}",
                **content,
                "DateCreated": format_timestamp(self._now()),
            }
            company.export_histories.append({**mark, "_closed": format_timestamp(batch["_closed"])})
            return created, mark

    def export_histories(self, batch_guid=None, company_id=None):
        """The marks received, oldest first, each with ``BatchDateClosed``: the
        batch's ``DateClosed`` when it was marked."""
        with self.lock:
            companies = (
                list(self._companies.values())
                if company_id is None
                else [self._company(company_id)]
            )
            marks = [m for c in companies for m in c.export_histories]
            if batch_guid is not None:
                marks = [m for m in marks if m["BatchId"] == batch_guid]
            marks.sort(key=lambda m: m["DateCreated"])
            return [
                {
                    **{k: v for k, v in m.items() if not k.startswith("_")},
                    "BatchDateClosed": m["_closed"],
                }
                for m in marks
            ]

    def _imported(self, company, invoice):
        """Whether AvidXchange may pay the invoice by itself (auto-advance): one
        captured here waits until the batch it is in is marked imported (1)."""
        if not invoice.get("_captured"):
            return True
        batch = invoice.get("_batch")
        return batch is not None and any(
            m["BatchId"] == batch and m["ExportHistoryStatusId"] == 1
            for m in company.export_histories
        )
