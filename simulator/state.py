"""What the simulated AvidXchange tenant knows, and how its records move.

All data lives here behind one re-entrant lock, so that the HTTP threads, the auto-advance
thread and the test code driving the lifecycle never see a half-applied change. The rules
that depend on stored data (unique external ids, known vendors, payable balances) are
enforced here; the shape of request bodies is checked in ``validation``.
"""

import base64
import contextlib
import copy
import secrets
import threading
from datetime import datetime, timedelta, timezone

from .captured import DEFAULT_ACCOUNTING_SYSTEMS, CapturedInvoices
from .documents import PDF_MEDIA_TYPE, check_image_pdf
from .validation import (
    CURRENCY_RE,
    ApiError,
    attachment_content,
    control_date,
    control_money,
    enterprise_code_content,
    format_timestamp,
    invoice_content,
    invoice_external_id,
    is_number,
    money,
    purchase_order_content,
    today,
    vendor_content,
)

# The simulator's own copy of the contract (it never imports the module's const.py):
# each invoice status, and whether an invoice in it may still be paid.
INVOICE_STATUS_PAYABLE = {
    "Received": True,
    "PendingApproval": True,
    "Approved": True,
    "Rejected": False,
    "Scheduled": True,
    "Paid": False,
    "Void": False,
}
INVOICE_STATUSES = tuple(INVOICE_STATUS_PAYABLE)
PAYABLE_STATUSES = tuple(status for status, payable in INVOICE_STATUS_PAYABLE.items() if payable)
# Ids are this project's choice; only "Issued" = 3 appears in the contract's example.
PAYMENT_STATUSES = {"Pending": 1, "Issued": 3, "Cleared": 4, "Void": 5, "Error": 6}
PAYMENT_METHODS = {"Check": 1, "ACH": 2, "VirtualCard": 3, "AvidPayNetwork": 4}
PAYMENT_ERROR_REASONS = {
    "Invalid routing number": 1,
    "Account closed": 2,
    "Returned by bank": 3,
    "Missing bank account": 4,
}
OTHER_ERROR_REASON_ID = 99
# AvidPay's lifecycle word for a payment paid out, by method (the contract's list); the
# payment history shows it before the summary "Issued" [assumed].
PAID_OUT_STEPS = {
    "Check": "Sent to Check Printer",
    "ACH": "ACH Credit Issued",
    "VirtualCard": "VCC Processing",
    "AvidPayNetwork": "Issued to Supplier",
}

DEFAULT_GL_GROUP = "Accounting Codes"
DEFAULT_GL_CODE = "101200"
MONEY_TOLERANCE = 0.005

NEW_PAYMENT_STATUSES = ("Pending", "Issued", "Cleared")
INACTIVE_PAYMENT_STATUSES = ("Void", "Error")


def _is_credit(invoice):
    return invoice.get("InvoiceType") == "CreditMemo"


def _vendor_code(invoice):
    """Who the invoice's vendor is: its code (an address part ignored), or its name
    for a vendor known to AvidXchange only (a captured invoice)."""
    vendor = invoice["BuyerVendor"]
    code = (vendor.get("VendorExternalSystemID") or "").split("|")[0]
    return code or vendor.get("VendorName") or ""


def _has_cleared_check_image(method, status):
    """Only a check, once cleared, has an image (``getclearedcheckimage``); a voided
    one no longer has."""
    return method == "Check" and status == "Cleared"


def _public(record):
    """A deep copy without the bookkeeping keys (those starting with ``_``);
    an injected item (see ``inject_payment``) exactly as it was given."""
    if "_raw" in record:
        return copy.deepcopy(record["_raw"])
    return copy.deepcopy({k: v for k, v in record.items() if not k.startswith("_")})


class _Company:
    """The records of one AvidXchange company id."""

    def __init__(self, company_id, name):
        self.company_id = company_id
        self.name = name
        self.clear()

    def clear(self):
        self.vendors = {}
        self.invoices = {}
        self.invoice_by_external = {}
        self.payments = {}
        self.enterprise_codes = {}
        self.purchase_orders = {}
        self.accounting_systems = copy.deepcopy(DEFAULT_ACCOUNTING_SYSTEMS)
        self.batches = {}  # BatchGUID: batch (see captured.py)
        self.export_histories = []  # the marks of imported batches, oldest first

    def table(self, kind):
        return getattr(self, kind)


class SimState(CapturedInvoices):
    """Clients, tokens and per-company records of the simulated tenant (thread safe)."""

    def __init__(self, token_ttl=3600):
        self.lock = threading.RLock()
        self.default_token_ttl = token_ttl
        self.token_ttl = token_ttl
        self._clients = {}
        self._tokens = {}
        self._companies = {}
        self._clear_data()

    def _clear_data(self):
        for company in self._companies.values():
            company.clear()
        self._sequences = {}
        self.refused_codes = {}  # CodeValue: the reason AvidXchange gives
        self._next_check = 100001
        self._next_trace = 1
        self._auto_payments = 0
        self._last_moment = None
        self._run_moment = None  # set while a payment run stamps its batch
        self.clock_offset = timedelta(0)

    def reset(self):
        """Forget all records and counters; clients and their live tokens stay."""
        with self.lock:
            self._clear_data()
            self.token_ttl = self.default_token_ttl

    # --- clients and tokens -------------------------------------------------------------

    def add_client(self, client_id, client_secret, company_ids, company_name=None):
        if isinstance(company_ids, str):
            company_ids = [company_ids]
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        company_ids = list(company_ids or [])
        if not company_ids or not all(isinstance(c, str) and c for c in company_ids):
            raise ValueError("company_ids must name at least one company id")
        with self.lock:
            for company_id in company_ids:
                company = self._companies.get(company_id)
                if company is None:
                    name = company_name or f"AvidXchange Company {company_id}"
                    self._companies[company_id] = _Company(company_id, name)
                elif company_name:
                    company.name = company_name
            self._clients[client_id] = {"secret": client_secret, "companies": set(company_ids)}

    def check_client(self, client_id, client_secret):
        with self.lock:
            client = self._clients.get(client_id)
        if client is None:
            return False
        return secrets.compare_digest(client["secret"].encode(), client_secret.encode())

    def issue_token(self, client_id):
        now = datetime.now(timezone.utc)
        with self.lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            token = secrets.token_urlsafe(32)
            self._tokens[token] = (client_id, now + timedelta(seconds=self.token_ttl))
            return token, self.token_ttl

    def authenticate(self, authorization):
        """The client id owning a valid ``Bearer`` token, else a 401."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Missing or malformed Authorization: Bearer <token> header")
        with self.lock:
            found = self._tokens.get(token.strip())
        if found is None:
            raise ApiError(401, "Invalid access token")
        if found[1] <= datetime.now(timezone.utc):
            raise ApiError(401, "Access token expired")
        return found[0]

    def check_company(self, client_id, company_id):
        if not company_id:
            raise ApiError(400, "Missing X-Avid-Company-Id header")
        with self.lock:
            allowed = company_id in self._clients.get(client_id, {}).get("companies", ())
            if not allowed or company_id not in self._companies:
                raise ApiError(403, f"Client may not access company {company_id}")

    def set_token_ttl(self, seconds):
        if not is_number(seconds) or seconds < 0:
            raise ValueError("seconds must be a number >= 0")
        with self.lock:
            self.token_ttl = int(seconds)

    def expire_tokens(self):
        with self.lock:
            self._tokens.clear()

    # --- helpers ------------------------------------------------------------------------

    def _company(self, company_id):
        company = self._companies.get(company_id)
        if company is None:
            raise KeyError(f"Unknown company {company_id}")
        return company

    def set_clock_offset(self, seconds):
        """AvidXchange's clock runs ``seconds`` ahead of this machine's (behind
        when negative): its stamps and its "now" follow it."""
        with self.lock:
            self.clock_offset = timedelta(seconds=float(seconds))

    def now(self):
        """AvidXchange's idea of now."""
        return datetime.now(timezone.utc) + self.clock_offset

    def _now(self):
        """UTC now, strictly increasing, so that each change gets its own
        timestamp; inside a payment run (``one_stamp``), the run's stamp."""
        if self._run_moment is not None:
            return self._run_moment
        moment = self.now()
        if self._last_moment is not None and moment <= self._last_moment:
            moment = self._last_moment + timedelta(microseconds=1)
        self._last_moment = moment
        return moment

    @contextlib.contextmanager
    def one_stamp(self):
        """Every change made inside shares one ``LastModifiedDate``, a whole
        second with no fractional part: how a payment run stamps its batch
        (the contract: "Stamps are not unique"). Changes after it come later."""
        with self.lock:
            moment = self.now().replace(microsecond=0) + timedelta(seconds=1)
            if self._last_moment is not None and moment <= self._last_moment:
                moment = self._last_moment.replace(microsecond=0) + timedelta(seconds=1)
            self._run_moment = moment
            try:
                yield moment
            finally:
                self._run_moment = None
                self._last_moment = moment

    def _next_id(self, prefix):
        self._sequences[prefix] = self._sequences.get(prefix, 0) + 1
        return self._sequences[prefix]

    def _new_record(self, prefix, content):
        seq = self._next_id(prefix)
        record = {"Id": f"{prefix}-{seq}", **content, "_seq": seq}
        self._touch(record, status_changed=True)
        return record

    def _touch(self, record, status_changed=False):
        moment = self._now()
        record["_mtime"] = moment
        record["LastModifiedDate"] = format_timestamp(moment)
        if status_changed:
            record["_since"] = moment

    def _find(self, kind, record_id):
        for company in self._companies.values():
            record = company.table(kind).get(record_id)
            if record is not None:
                return company, record
        raise KeyError(f"Unknown {kind[:-1]} {record_id}")

    def _public_or_none(self, kind, record_id):
        """What the API shows of the record of ``kind`` with this id, None if unknown."""
        with self.lock:
            try:
                return _public(self._find(kind, record_id)[1])
            except KeyError:
                return None

    def company_info(self, company_id):
        with self.lock:
            company = self._company(company_id)
            return {"CompanyId": company.company_id, "Name": company.name}

    def list_records(self, kind, company_id=None, modified_from=None, modified_to=None, amid=None):
        """Records ordered by LastModifiedDate then creation; both bounds inclusive.

        ``amid``: a callable run once the list is ordered and before it is
        copied out, as when a record changes while AvidXchange builds a page:
        the changed record keeps its place and shows its new stamp."""
        return self.page_records(kind, company_id, modified_from, modified_to, amid=amid)[1]

    def page_records(
        self,
        kind,
        company_id=None,
        modified_from=None,
        modified_to=None,
        first=0,
        count=None,
        amid=None,
    ):
        """``(how many records, copies of ``count`` of them from ``first``)``,
        ordered as ``list_records`` orders them: only those are copied."""
        with self.lock:
            if company_id is None:
                companies = list(self._companies.values())
            else:
                companies = [self._company(company_id)]
            records = [r for c in companies for r in c.table(kind).values()]
            if modified_from is not None:
                records = [r for r in records if r["_mtime"] >= modified_from]
            if modified_to is not None:
                records = [r for r in records if r["_mtime"] <= modified_to]
            records.sort(key=lambda r: (r["_mtime"], r.get("_seq", 0)))
            if amid is not None:
                amid()
            end = None if count is None else first + count
            return len(records), [_public(r) for r in records[first:end]]

    def get_record(self, kind, company_id, key):
        """One record by its key inside a company, or ``None``."""
        with self.lock:
            company = self._companies.get(company_id)
            record = company.table(kind).get(key) if company else None
            return _public(record) if record is not None else None

    def _upsert(self, company, kind, key, prefix, content):
        table = company.table(kind)
        record = table.get(key)
        if record is None:
            table[key] = self._new_record(prefix, content)
            return True, _public(table[key])
        current = {k: v for k, v in record.items() if k not in ("Id", "LastModifiedDate")}
        if {k: v for k, v in current.items() if not k.startswith("_")} != content:
            keep = {k: v for k, v in record.items() if k.startswith("_") or k == "Id"}
            record.clear()
            record.update({"Id": keep.pop("Id"), **content, **keep})
            self._touch(record)
        return False, _public(record)

    # --- vendors, enterprise codes, purchase orders -------------------------------------

    def put_vendor(self, company_id, code, body):
        """Create or replace a vendor; returns ``(created, vendor)``."""
        content = vendor_content(code, body)
        with self.lock:
            company = self._company(company_id)
            return self._upsert(company, "vendors", code, "VEN", content)

    def put_enterprise_codes(self, company_id, items):
        """Batch upsert; each item succeeds or fails on its own (HTTP 200 either way)."""
        if not isinstance(items, list):
            raise ApiError(400, "body must be a JSON array of enterprise codes")
        results = []
        with self.lock:
            company = self._company(company_id)
            for item in items:
                try:
                    content = enterprise_code_content(item)
                    if content["CodeValue"] in self.refused_codes:
                        raise ApiError(422, self.refused_codes[content["CodeValue"]])
                except ApiError as exc:
                    errors = [{"Message": exc.detail}]
                    results.append({"Successful": False, "Errors": errors, "Item": item})
                    continue
                key = (content["GroupName"], content["CodeValue"])
                _created, stored = self._upsert(company, "enterprise_codes", key, "EC", content)
                results.append({"Successful": True, "Errors": [], "Item": stored})
        return {"Results": results}

    def refuse_code(self, code_value, reason):
        with self.lock:
            self.refused_codes[str(code_value)] = reason

    def put_purchase_order(self, company_id, code, body):
        """Create or replace a purchase order; returns ``(created, purchase_order)``."""
        with self.lock:
            company = self._company(company_id)
            content = purchase_order_content(code, body, company.vendors)
            return self._upsert(company, "purchase_orders", code, "PO", content)

    # --- invoices -----------------------------------------------------------------------

    def create_invoice(self, company_id, body):
        """Store a submitted invoice; 409 (with the stored one) when its id is known."""
        external_id = invoice_external_id(body)
        with self.lock:
            company = self._company(company_id)
            existing_id = company.invoice_by_external.get(external_id)
            if existing_id is not None:
                raise ApiError(
                    409,
                    f"Invoice with ExternalInvoiceId {external_id} already exists",
                    item=self._invoice_summary(company.invoices[existing_id]),
                )
            content = invoice_content(body, company.vendors)
            content.update(
                Status="Received",
                AmountPaid=0.0,
                DiscountTaken=0.0,
                Balance=content["GrossAmount"],
            )
            record = self._new_record("INV", content)
            company.invoices[record["Id"]] = record
            company.invoice_by_external[external_id] = record["Id"]
            return self._invoice_summary(record)

    @staticmethod
    def _invoice_summary(record):
        return {
            "Id": record["Id"],
            "ExternalInvoiceId": record["ExternalInvoiceId"],
            "Status": record["Status"],
        }

    def get_invoice(self, invoice_id):
        return self._public_or_none("invoices", invoice_id)

    def add_attachment(self, company_id, invoice_id, body):
        """Keep a file sent for an invoice; returns ``(created, {"Id": ...})``.

        The same file (same name, same bytes) sent again is the one already kept: a
        client that lost the first answer and retries must not give approvers two
        copies. A file does not change the invoice, so its LastModifiedDate stays.
        """
        with self.lock:
            invoice = self._company(company_id).invoices.get(invoice_id)
            if invoice is None:
                raise ApiError(404, f"Invoice {invoice_id} not found")
            description, data = attachment_content(body)
            attachments = invoice.setdefault("_attachments", [])
            for attachment in attachments:
                same_name = attachment["FileName"] == description["FileName"]
                if same_name and attachment["_data"] == data:
                    return False, {"Id": attachment["Id"]}
            attachment_id = f"ATT-{self._next_id('ATT')}"
            attachments.append({"Id": attachment_id, **description, "_data": data})
            return True, {"Id": attachment_id}

    def attachments(self, invoice_id):
        """The files kept for an invoice, oldest first, ``Content`` in base64."""
        with self.lock:
            _company, invoice = self._find("invoices", invoice_id)
            return [
                {
                    **_public(attachment),
                    "Size": len(attachment["_data"]),
                    "Content": base64.b64encode(attachment["_data"]).decode("ascii"),
                }
                for attachment in invoice.get("_attachments", ())
            ]

    def _set_status(self, record, status, **extra):
        record["Status"] = status
        if status not in ("Rejected", "Void"):
            record.pop("RejectionReason", None)  # only a rejected or void invoice says why
        record.update(extra)
        self._touch(record, status_changed=True)

    def approve_invoice(self, invoice_id):
        with self.lock:
            _company, invoice = self._find("invoices", invoice_id)
            if invoice["Status"] != "Approved":
                if invoice["Status"] not in ("Received", "PendingApproval"):
                    raise ValueError(f"Cannot approve invoice in status {invoice['Status']}")
                self._set_status(invoice, "Approved")
            return _public(invoice)

    def reject_invoice(self, invoice_id, reason="Rejected by approver"):
        with self.lock:
            _company, invoice = self._find("invoices", invoice_id)
            if invoice["Status"] not in ("Received", "PendingApproval", "Approved"):
                raise ValueError(f"Cannot reject invoice in status {invoice['Status']}")
            if invoice["AmountPaid"] or invoice["DiscountTaken"]:
                raise ValueError("Cannot reject an invoice that is partly paid")
            self._set_status(invoice, "Rejected", RejectionReason=reason)
            return _public(invoice)

    def set_invoice_status(self, invoice_id, status):
        """Escape hatch for tests: force any status, no rules applied."""
        if status not in INVOICE_STATUSES:
            raise ValueError(f"Unknown invoice status {status!r}")
        with self.lock:
            _company, invoice = self._find("invoices", invoice_id)
            if invoice["Status"] != status:
                self._set_status(invoice, status)
            return _public(invoice)

    def _recompute_invoice(self, company, invoice):
        """Derive paid amount, balance and status from the payments that still count.

        On a credit memo ``AmountPaid`` is the credit consumed: its payment lines'
        ``AmountPaid`` (negative) turned positive, so that ``GrossAmount = AmountPaid
        + DiscountTaken + Balance`` holds for both types.
        """
        sign = -1 if _is_credit(invoice) else 1
        paid = discount = 0.0
        active = pending = False
        for payment in company.payments.values():
            if "_raw" in payment:
                continue  # an injected fault pays nothing
            state = payment["Status"]["Description"]
            if state in INACTIVE_PAYMENT_STATUSES:
                continue
            for line in payment["Invoices"]:
                if line["Id"] == invoice["Id"]:
                    paid += sign * line["AmountPaid"]
                    discount += line["Discount"]
                    active = True
                    pending = pending or state == "Pending"
        balance = money(invoice["GrossAmount"] - paid - discount)
        status = invoice["Status"]
        if status not in ("Rejected", "Void"):
            if not active:
                status = "Approved" if status in ("Scheduled", "Paid") else status
            elif pending:
                status = "Scheduled"
            elif balance <= MONEY_TOLERANCE:
                status = "Paid"
            elif status not in ("Approved", "Scheduled"):
                status = "Approved"
        new = {"AmountPaid": money(paid), "DiscountTaken": money(discount), "Balance": balance}
        if any(invoice[k] != v for k, v in new.items()) or status != invoice["Status"]:
            invoice.update(new)
            status_changed = status != invoice["Status"]
            invoice["Status"] = status
            self._touch(invoice, status_changed=status_changed)

    # --- payments -----------------------------------------------------------------------

    def pay(
        self,
        allocations,
        method="Check",
        check_number=None,
        trace_number=None,
        payment_date=None,
        status="Issued",
        gl_postings=None,
        currency=None,
        company_id=None,
    ):
        """Create a payment over one or more invoices; returns the payment.

        An allocation on a credit memo gives the credit to consume as a positive
        ``amount`` (default: all that is left of it); the payment lists it with a
        negative ``AmountPaid``, and its ``Amount`` is net of it.
        """
        if method not in PAYMENT_METHODS:
            raise ValueError(f"method must be one of {sorted(PAYMENT_METHODS)}")
        if status not in NEW_PAYMENT_STATUSES:
            raise ValueError(f"status must be one of {NEW_PAYMENT_STATUSES}")
        if isinstance(allocations, dict):
            allocations = [allocations]
        if not allocations:
            raise ValueError("allocations must list at least one invoice")
        with self.lock:
            company, lines, currencies = self._payment_lines(allocations, company_id)
            if currency is None:
                if len(currencies) > 1:
                    raise ValueError("invoices in several currencies: pass currency")
                currency = currencies.pop()
            elif not isinstance(currency, str) or not CURRENCY_RE.match(currency):
                raise ValueError("currency must be an ISO 4217 code")
            total = money(sum(line["AmountPaid"] for line in lines))
            if method == "Check" and check_number is None:
                check_number = str(self._next_check)
                self._next_check += 1
            if method == "ACH" and trace_number is None:
                trace_number = f"091000019{self._next_trace:06d}"
                self._next_trace += 1
            if gl_postings is None:
                gl_postings = [
                    {
                        "GroupName": DEFAULT_GL_GROUP,
                        "EnterpriseCodeValue": DEFAULT_GL_CODE,
                        "Amount": total,
                    }
                ]
            content = {
                "Status": {"Id": PAYMENT_STATUSES[status], "Description": status},
                "PaymentMethod": {"Id": PAYMENT_METHODS[method], "Description": method},
                "CheckNumber": None if check_number is None else str(check_number),
                "TraceNumber": None if trace_number is None else str(trace_number),
                "Amount": total,
                "Currency": currency,
                "PaymentDate": control_date(payment_date, "payment_date"),
                "ClearedDate": today() if status == "Cleared" else None,
                "HasClearedCheckImages": _has_cleared_check_image(method, status),
                "LastModifiedDate": None,
                "Invoices": lines,
                "GLPostings": self._gl_postings(gl_postings),
            }
            seq = self._next_id("PAY")
            record = {"PaymentId": f"PAY-{seq}", **content, "_seq": seq, "_history": []}
            self._touch(record, status_changed=True)
            for step, note in self._creation_steps(record):
                self._add_history(record, step, note)
            company.payments[record["PaymentId"]] = record
            for line in lines:
                self._recompute_invoice(company, company.invoices[line["Id"]])
            return _public(record)

    def pay_run(self, payments):
        """A payment run: pay each of ``payments`` (each the keyword arguments
        of :meth:`pay`) in one go, all stamped in the same second."""
        with self.one_stamp():
            return [self.pay(**payment) for payment in payments]

    def _payment_lines(self, allocations, company_id):
        company = None
        invoices = []
        lines = []
        for allocation in allocations:
            if not isinstance(allocation, dict) or "invoice_id" not in allocation:
                raise ValueError("each allocation is a dict with invoice_id, amount, discount")
            owner, invoice = self._find("invoices", allocation["invoice_id"])
            if company_id is not None and owner.company_id != company_id:
                raise ValueError(f"invoice {invoice['Id']} is not in company {company_id}")
            if company is not None and owner is not company:
                raise ValueError("all invoices of one payment must belong to one company")
            company = owner
            if any(line["Id"] == invoice["Id"] for line in lines):
                raise ValueError(f"invoice {invoice['Id']} is listed twice")
            if invoice["Status"] not in PAYABLE_STATUSES:
                raise ValueError(f"invoice {invoice['Id']} is {invoice['Status']}, not payable")
            invoices.append(invoice)
            lines.append(self._payment_line(invoice, allocation))
        self._check_credits(invoices, lines)
        return company, lines, {invoice["Currency"] for invoice in invoices}

    @staticmethod
    def _payment_line(invoice, allocation):
        """What a payment pays of an invoice, or consumes of a credit memo: then a
        negative ``AmountPaid`` and no discount."""
        discount = control_money(allocation.get("discount") or 0.0, "discount")
        amount = allocation.get("amount")
        if _is_credit(invoice):
            label = f"credit memo {invoice['Id']}"
            if discount:
                raise ValueError(f"{label}: a credit takes no discount")
            amount = control_money(invoice["Balance"] if amount is None else amount, "amount")
            if amount <= 0:
                raise ValueError(f"{label}: amount is the credit consumed, a number > 0")
        else:
            label = f"invoice {invoice['Id']}"
            amount = money(invoice["Balance"] - discount) if amount is None else amount
            amount = control_money(amount, "amount")
            if amount < 0 or discount < 0 or amount + discount <= 0:
                raise ValueError("amount and discount must be >= 0 and not both zero")
        if amount + discount > invoice["Balance"] + MONEY_TOLERANCE:
            raise ValueError(
                f"{label}: {amount + discount:.2f} exceeds the balance {invoice['Balance']:.2f}"
            )
        line = {"Id": invoice["Id"]}
        if invoice.get("ExternalInvoiceId"):  # none on an invoice captured in AvidXchange
            line["ExternalInvoiceId"] = invoice["ExternalInvoiceId"]
        line.update(
            Number=invoice["Number"],
            AmountPaid=money(-amount) if _is_credit(invoice) else amount,
            Discount=discount,
        )
        return line

    @staticmethod
    def _check_credits(invoices, lines):
        """A credit memo is not payable by itself: a payment consumes it for its own
        vendor, and only as far as the payment still pays that vendor something."""
        if not any(_is_credit(invoice) for invoice in invoices):
            return  # a payment of discounts only (Amount 0) stays allowed, as it was
        vendors = sorted({_vendor_code(invoice) for invoice in invoices})
        if len(vendors) > 1:
            raise ValueError(
                f"a payment that consumes a credit pays one vendor, not {', '.join(vendors)}"
            )
        total = money(sum(line["AmountPaid"] for line in lines))
        if total <= 0:
            raise ValueError(
                f"the payment's Amount would be {total:.2f}: a credit memo is not payable "
                "by itself, and credits must leave an amount to pay"
            )

    @staticmethod
    def _gl_postings(postings):
        result = []
        for posting in postings:
            if not isinstance(posting, dict):
                raise TypeError("gl_postings items are dicts")
            missing = {"GroupName", "EnterpriseCodeValue", "Amount"} - posting.keys()
            if missing:
                raise ValueError(f"gl_postings item misses {sorted(missing)}")
            result.append(
                {
                    "GroupName": posting["GroupName"],
                    "EnterpriseCodeValue": posting["EnterpriseCodeValue"],
                    "Amount": control_money(posting["Amount"], "gl_postings Amount"),
                }
            )
        return result

    @staticmethod
    def _creation_steps(payment):
        """``(status, note)`` of what a new payment went through: a Pending one was
        only created; an Issued one was paid out the AvidPay way of its method first;
        a Cleared one was also cleared."""
        status = payment["Status"]["Description"]
        if status == "Pending":
            return [("Pending", "Payment created; not paid out yet")]
        method = payment["PaymentMethod"]["Description"]
        amount = f"{payment['Amount']:.2f} {payment['Currency']}"
        paid_out = {
            "Check": f"Check {payment['CheckNumber']} sent to the check printer",
            "ACH": f"ACH credit sent, trace number {payment['TraceNumber']}",
            "VirtualCard": "Virtual card sent to the vendor",
            "AvidPayNetwork": "Paid to the vendor through the AvidPay Network",
        }[method]
        steps = [(PAID_OUT_STEPS[method], paid_out), ("Issued", f"{amount} issued by {method}")]
        if status == "Cleared":
            steps.append(("Cleared", f"Cleared on {payment['ClearedDate']}"))
        return steps

    @staticmethod
    def _add_history(payment, status, note):
        """One entry of ``GET /payments/{Id}/paymenthistory``, stamped like the change."""
        entry = {"Status": status, "Date": payment["LastModifiedDate"], "Note": note}
        payment["_history"].append(entry)

    def payment_history(self, company_id, payment_id):
        """The payment's history, oldest first; ``None`` for no such payment in the company.
        An injected item has none: AvidXchange knows nothing of it but what was given."""
        with self.lock:
            company = self._companies.get(company_id)
            payment = company.payments.get(payment_id) if company else None
            if payment is None:
                return None
            return copy.deepcopy(payment.get("_history", []))

    def cleared_check_image(self, company_id, payment_id):
        """``(found, image)``: whether the company has the payment, and the image of
        its cleared check (``None`` unless ``HasClearedCheckImages``)."""
        with self.lock:
            company = self._companies.get(company_id)
            payment = company.payments.get(payment_id) if company else None
            if payment is None:
                return False, None
            if "_raw" in payment or not payment["HasClearedCheckImages"]:
                return True, None  # an injected item says what it likes; no image behind it
            return True, {
                "FileName": f"check-{payment['CheckNumber']}.pdf",
                "ContentType": PDF_MEDIA_TYPE,
                "Content": base64.b64encode(check_image_pdf(payment)).decode("ascii"),
            }

    def _change_payment(self, payment_id, allowed, status, note, **extra):
        with self.lock:
            company, payment = self._find("payments", payment_id)
            current = payment["Status"]["Description"]
            if current not in allowed:
                raise ValueError(f"payment {payment_id} is {current}; cannot become {status}")
            payment["Status"] = {"Id": PAYMENT_STATUSES[status], "Description": status}
            payment.update(extra)
            method = payment["PaymentMethod"]["Description"]
            payment["HasClearedCheckImages"] = _has_cleared_check_image(method, status)
            self._touch(payment, status_changed=True)
            self._add_history(payment, status, note)
            for line in payment["Invoices"]:
                self._recompute_invoice(company, company.invoices[line["Id"]])
            return _public(payment)

    def clear_payment(self, payment_id, cleared_date=None):
        cleared_date = control_date(cleared_date, "cleared_date")
        return self._change_payment(
            payment_id,
            ("Pending", "Issued"),
            "Cleared",
            f"Cleared on {cleared_date}",
            ClearedDate=cleared_date,
        )

    def void_payment(self, payment_id):
        return self._change_payment(
            payment_id, ("Pending", "Issued", "Cleared"), "Void", "Payment voided"
        )

    def error_payment(self, payment_id, reason="Missing bank account"):
        reason_id = PAYMENT_ERROR_REASONS.get(reason, OTHER_ERROR_REASON_ID)
        return self._change_payment(
            payment_id,
            ("Pending", "Issued"),
            "Error",
            reason,
            Exceptions=[{"ReasonCode": {"Id": reason_id, "Description": reason}}],
        )

    def inject_payment(self, item, company_id):
        """List ``item`` among the payments exactly as given, however wrong (a
        fault on demand: a client must survive whatever AvidXchange sends). An
        object without a ``LastModifiedDate`` is given one; the item is
        ordered by the time it was injected."""
        with self.lock:
            company = self._company(company_id)
            seq = self._next_id("PAY")
            key = item.get("PaymentId") if isinstance(item, dict) else None
            record = {"_raw": copy.deepcopy(item), "_seq": seq}
            self._touch(record)
            if isinstance(item, dict) and "LastModifiedDate" not in item:
                record["_raw"]["LastModifiedDate"] = record["LastModifiedDate"]
            company.payments[key if isinstance(key, str) and key else f"RAW-{seq}"] = record
            return _public(record)

    def report_again(self, payment_id):
        """Move LastModifiedDate to now and change nothing else: the next poll sees it again."""
        with self.lock:
            _company, payment = self._find("payments", payment_id)
            self._touch(payment)
            return _public(payment)

    def get_payment(self, payment_id):
        return self._public_or_none("payments", payment_id)

    # --- auto-advance -------------------------------------------------------------------

    def advance(self, min_age=0.0):
        """Approve invoices Received for ``min_age`` s; fully pay those Approved as long.

        Credit memos are approved too, then consumed by their vendor's next payment,
        never paid alone. Payments alternate Check / ACH so that a demo shows both.
        Returns the ids touched.
        """
        done = {"approved": [], "paid": []}
        with self.lock:
            cutoff = datetime.now(timezone.utc) - timedelta(seconds=min_age)
            for company in self._companies.values():
                for invoice in sorted(company.invoices.values(), key=lambda r: r["_seq"]):
                    if invoice["_since"] > cutoff:
                        continue
                    if invoice["Status"] in ("Received", "PendingApproval"):
                        self._set_status(invoice, "Approved")
                        done["approved"].append(invoice["Id"])
                    elif self._payable_alone(company, invoice):
                        method = ("Check", "ACH")[self._auto_payments % 2]
                        self._auto_payments += 1
                        allocations = [{"invoice_id": invoice["Id"]}]
                        allocations += self._credits_to_apply(company, invoice)
                        payment = self.pay(allocations, method=method)
                        done["paid"].append(payment["PaymentId"])
        return done

    def _payable_alone(self, company, invoice):
        return (
            invoice["Status"] == "Approved"
            and invoice["Balance"] > 0
            and not _is_credit(invoice)
            and self._imported(company, invoice)
        )

    def _credits_to_apply(self, company, invoice):
        """AvidXchange applies a vendor's credit to its next payment: the approved credit
        memos of the invoice's vendor and currency, oldest first, each one whole and only
        while the payment keeps an amount to pay (a larger credit waits for a larger
        payment)."""
        allocations = []
        left = invoice["Balance"]
        for memo in sorted(company.invoices.values(), key=lambda r: r["_seq"]):
            if not _is_credit(memo) or memo["Status"] != "Approved" or memo["Balance"] <= 0:
                continue
            if not self._imported(company, memo):
                continue
            same_vendor = _vendor_code(memo) == _vendor_code(invoice)
            if not same_vendor or memo["Currency"] != invoice["Currency"]:
                continue
            if memo["Balance"] < left - MONEY_TOLERANCE:
                allocations.append({"invoice_id": memo["Id"], "amount": memo["Balance"]})
                left = money(left - memo["Balance"])
        return allocations
