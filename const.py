"""Everything this module assumes about the AvidXchange partner API.

AvidXchange documents its API to registered partners only. The contract we code
against is ``shared/avidxchange-api.md`` of the project; the items it marks
*[assumed]* are marked the same way here. A partner holding the real
documentation should have to change this file, and no other, when an
assumption turns out wrong.
"""

# === ENVIRONMENTS === #

PRODUCTION_BASE_URL = "https://apistore.avidxchange.net"
SANDBOX_BASE_URL = "https://sandbox.apistore.avidxchange.net"  # [assumed]
TOKEN_PATH = "/token"
# Credentials go to these hosts only (and their subdomains), over https; the
# server administrator may allow others (see tools/hosts.py).
AVIDXCHANGE_HOST_SUFFIX = "avidxchange.net"
ALLOWED_HOSTS_PARAMETER = "account_avidxchange.allowed_hosts"
ALLOWED_HOSTS_OPTION = "avidxchange_allowed_hosts"
API_PREFIX = "/avidconnect/v1"  # [assumed]

# === REQUEST SHAPE === #

COMPANY_HEADER = "X-Avid-Company-Id"  # [assumed]
JSON_MEDIA_TYPE = "application/json"
TOKEN_GRANT_TYPE = "client_credentials"

# Paths below API_PREFIX; ``{}`` takes the url-quoted key.
PATH_VENDOR = "/vendors/{}"
PATH_INVOICES = "/invoices"
PATH_INVOICE = "/invoices/{}"
PATH_INVOICE_ATTACHMENTS = "/invoices/{}/attachments"
PATH_PAYMENTS = "/payments"
PATH_PAYMENT = "/payments/{}"
# Seen in AvidXchange's own connector code; their answers' shapes are [assumed].
PATH_PAYMENT_HISTORY = "/payments/{}/paymenthistory"
PATH_CHECK_IMAGE = "/payments/{}/getclearedcheckimage"
# A payment's status history keeps this many entries at most, and texts this long.
PAYMENT_HISTORY_MAX_ITEMS = 200
PAYMENT_HISTORY_MAX_CHARS = 500
PATH_ENTERPRISE_CODES = "/enterpriseCodes"
PATH_PURCHASE_ORDER = "/purchaseOrders/{}"

# Paging: ``{"Items": [...], "Paging": {..., "Links": [{"Rel": "next", "Href": ...}]}}``
PAGE_NUMBER_PARAM = "pageNumber"
PAGE_SIZE_PARAM = "pageSize"
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 500
MODIFIED_FROM_PARAM = "lastModifiedFrom"
MODIFIED_TO_PARAM = "lastModifiedTo"
NEXT_LINK_REL = "next"
# lastModifiedFrom..lastModifiedTo spans this at most; a wider range answers 400.
MAX_WINDOW_DAYS = 30
# Payments are read again from a little before the mark, in case AvidXchange
# lists a change stamped a little earlier than one it listed already. [assumed]
PAYMENT_WINDOW_OVERLAP_MINUTES = 10
# Empty past windows read in one go when catching up (a year and a bit).
MAX_WINDOWS_PER_READ = 13
# No answer is read beyond this (a page of 500 payments is well under it).
MAX_ANSWER_BYTES = 20 * 2**20
# More pages than this for one read is a server that never ends: stop there.
MAX_PAGES_PER_READ = 1000
# How far AvidXchange's clock may be from ours: a window that ended longer
# ago than this by our clock is over by theirs too. [assumed]
MAX_CLOCK_SKEW_HOURS = 24

# === STATUSES AND CODES === #

INVOICE_STATUSES = (
    "Received",
    "PendingApproval",
    "Approved",
    "Rejected",
    "Scheduled",
    "Paid",
    "Void",
)

# Statuses in which AvidXchange no longer holds an invoice to pay.
INVOICE_STATUSES_RELEASED = ("Rejected", "Void")
INVOICE_STATUS_REJECTED = "Rejected"
INVOICE_STATUS_APPROVED = "Approved"
# A Rejected (or Void) invoice says why in this key, the approver's words,
# which may be long or empty. [assumed name]
REJECTION_REASON_KEY = "RejectionReason"
REJECTION_REASON_MAX_CHARS = 2000

# What a payment's status means for the books: every description we know
# falls in one of four categories. A description not listed needs a person's
# attention; it is never read as "nothing happened".
PAYMENT_NOT_PAID_YET = "not_paid_yet"
PAYMENT_PAID = "paid"  # paid out: registered in Odoo
PAYMENT_CLEARED = "cleared"  # final
PAYMENT_UNDONE = "undone"  # void or failed: what was registered is undone
PAYMENT_STATUS_CATEGORIES = {  # [assumed: which descriptions the API returns]
    "Pending": PAYMENT_NOT_PAID_YET,
    "Pending Approval": PAYMENT_NOT_PAID_YET,
    "Held": PAYMENT_NOT_PAID_YET,
    "Processing": PAYMENT_NOT_PAID_YET,
    "Debit Requested": PAYMENT_NOT_PAID_YET,
    "Funds Received": PAYMENT_NOT_PAID_YET,
    "Issued": PAYMENT_PAID,
    "Sent to Check Printer": PAYMENT_PAID,
    "Issued to Supplier": PAYMENT_PAID,
    "ACH Credit Issued": PAYMENT_PAID,
    "VCC Processing": PAYMENT_PAID,
    "Cleared": PAYMENT_CLEARED,
    "Void": PAYMENT_UNDONE,
    "Error": PAYMENT_UNDONE,
}

# API value: label
PAYMENT_METHODS = {
    "Check": "Check",
    "ACH": "ACH",
    "VirtualCard": "Virtual Card",
    "AvidPayNetwork": "AvidPay Network",
}

GL_ACCOUNT_CODE_GROUP = "Accounting Codes"

# The bill's image for AvidXchange's approvers: its main attachment, sent once,
# at most this large once decoded (AvidXchange answers 413 beyond). [assumed]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# The audit trail keeps the size of a file's base64 ``Content``, not the file.
FILE_CONTENT_KEY = "Content"

# Submissions of one bill whose answer cannot be read before it is in error.
MAX_UNCONFIRMED_ATTEMPTS = 3

# A vendor bill goes as an invoice, a vendor credit note as a credit memo,
# with positive amounts; AvidXchange consumes it in the vendor's next payment
# (a negative AmountPaid). [assumed]
INVOICE_TYPES = {"in_invoice": "Invoice", "in_refund": "CreditMemo"}

# How a vendor (ExternalVendorCode) and a bill (ExternalInvoiceId) are known
# to AvidXchange. ``database`` is the start of ``database.uuid``: two
# databases on one AvidXchange company (a staging copy, a migration) share
# company and record ids, never this. Links keep the id they were made with.
EXTERNAL_ID_FORMAT = "ODOO-{database}-{company}-{record}"
EXTERNAL_ID_DATABASE_CHARS = 8

# Money travels as JSON numbers with at most this many decimals.
MONEY_DECIMALS = 2
# No payment is this large: a larger amount is a broken report, not money.
MONEY_MAX = 1e13
# A payment report longer than this (as JSON text) is not kept whole nor
# applied: about 3,000 invoice lines. [assumed]
REPORT_MAX_CHARS = 1_000_000

# === ERRORS, RETRIES AND TIMEOUTS === #

# Retried with exponential backoff; 401 is answered with one new token instead,
# and 409 on an invoice means "already received" (the answer names the invoice).
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
HTTP_CREATED = 201
HTTP_CONFLICT = 409
HTTP_UNAUTHORIZED = 401

DEFAULT_CONNECT_TIMEOUT = 10.0  # seconds
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 5  # per request, the first one included
DEFAULT_BACKOFF_FACTOR = 0.5  # waits of about 0.5, 1, 2, 4 ... seconds
DEFAULT_BACKOFF_MAX = 30.0
DEFAULT_TOTAL_TIMEOUT = 120.0  # all attempts and waits of one request together

# A token is renewed when fewer than this many seconds of it remain.
TOKEN_RENEW_MARGIN = 60
# A token answer without expires_in lives this long (seconds); one that says
# more than a day is not believed.
TOKEN_DEFAULT_LIFETIME = 300
TOKEN_MAX_LIFETIME = 86400

# OAuth error codes we may repeat to a user; anything else in a token error
# body may echo the credentials (gateway errors do) and is never shown.
OAUTH_ERROR_CODES = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)

# === SECRETS === #

# Keys whose values never reach a log, an audit entry or an error message.
# Matched at any depth of a JSON body, however the key is spelled: case,
# "_", "-" and spaces are ignored ("client_secret", "clientSecret" and
# "Client-Secret" are one key).
SENSITIVE_KEYS = frozenset(
    {
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "token",
        "clientsecret",
        "secret",
        "password",
        "authorization",
        "apikey",
        "fedtaxid",
        "ssn",
        "accountnumber",
        "bankaccountnumber",
        "bankaccount",
        "routingnumber",
        "iban",
    }
)
REDACTED = "********"

# A dry run answers the writes it keeps with ids like these (never sent, never
# stored: the dry run rolls back).
DRY_RUN_ID_PREFIX = "DRY-RUN-"

# === ANSWER KEYS OF THE OUTGOING LINKS === #
# (appended by the links refactor, issue 18: the lead merges this block)

# What AvidXchange answers about a record it took (a vendor, an invoice).
ANSWER_ID_KEY = "Id"
ANSWER_STATUS_KEY = "Status"
# An invoice as AvidXchange holds it (a 409's invoice is compared on these).
INVOICE_URL_KEY = "InvoiceUrl"
INVOICE_EXTERNAL_ID_KEY = "ExternalInvoiceId"
INVOICE_AMOUNT_KEY = "GrossAmount"
INVOICE_CURRENCY_KEY = "Currency"
INVOICE_VENDOR_KEY = "BuyerVendor"
INVOICE_VENDOR_CODE_KEY = "VendorExternalSystemID"
# A purchase order AvidXchange still matches invoices against, or no longer.
PURCHASE_ORDER_OPEN = "Open"
PURCHASE_ORDER_CLOSED = "Closed"

# === INVOICES CAPTURED IN AVIDXCHANGE (AvidXchange -> Odoo) === #
# (appended for issue 19: the lead merges this block) Paths and fields seen in
# AvidXchange's own ERP connectors; the answers' shapes are [assumed].

# The accounting systems of the AvidXchange company, not paged:
# ``{"Items": [{"ID": 17, "Name": "Odoo"}]}``; a connection picks one by name.
PATH_ACCOUNTING_SYSTEMS = "/accountingSystems"
ACCOUNTING_SYSTEM_ID_KEY = "ID"
ACCOUNTING_SYSTEM_NAME_KEY = "Name"
# The batches of an accounting system closed on some days (paged).
PATH_CLOSED_BATCHES = "/invoices/batches/closed/acctgSysId/{}"
CLOSE_DATE_FROM_PARAM = "closeDateFrom"  # YYYY-MM-DD, inclusive
CLOSE_DATE_TO_PARAM = "closeDateTo"  # YYYY-MM-DD, inclusive
# closeDateFrom..closeDateTo are at most this many days apart (a wider range
# answers 400): a backlog is read window by window.
MAX_CLOSE_WINDOW_DAYS = 30
# One batch: ``{"BatchGUID", "BatchName", "InvoiceCount", "BatchTotal",
# "Currency", "DateClosed", "Links": [{"Rel": "full-details", "Href": ...}]}``.
PATH_BATCH = "/invoices/batches/{}"
BATCH_GUID_KEY = "BatchGUID"
BATCH_DATE_CLOSED_KEY = "DateClosed"  # a later one when the batch is closed again
BATCH_LINKS_KEY = "Links"
LINK_REL_KEY = "Rel"
LINK_HREF_KEY = "Href"
# The link to the batch's invoices (paged): relative to the base URL, under
# API_PREFIX; a link to anywhere else is never followed.
BATCH_DETAILS_REL = "full-details"
# A captured invoice (besides ANSWER_ID_KEY, INVOICE_AMOUNT_KEY,
# INVOICE_CURRENCY_KEY, INVOICE_VENDOR_KEY, INVOICE_VENDOR_CODE_KEY above).
INVOICE_NUMBER_KEY = "Number"
INVOICE_TYPE_KEY = "InvoiceType"
INVOICE_DATE_KEY = "InvoiceDate"
INVOICE_DUE_DATE_KEY = "InvoiceDueDate"
INVOICE_PO_NUMBER_KEY = "PONumber"
INVOICE_MEMO_KEY = "Memo"
INVOICE_CHANGED_KEY = "LastChangedDate"
INVOICE_IMAGE_URL_KEY = "ImageUrl"
INVOICE_DISTRIBUTIONS_KEY = "Distributions"
VENDOR_NAME_KEY = "VendorName"
VENDOR_TAX_ID_KEY = "FedTaxId"  # [assumed]
# VendorExternalSystemID is the code we gave the vendor, maybe followed by
# this and the vendor's address id in AvidXchange (ignored).
VENDOR_ADDRESS_SEPARATOR = "|"
DISTRIBUTION_AMOUNT_KEY = "Amount"
DISTRIBUTION_DESCRIPTION_KEY = "Description"
DISTRIBUTION_QUANTITY_KEY = "Quantity"  # [assumed]
DISTRIBUTION_CODES_KEY = "EnterpriseCodes"
CODE_GROUP_KEY = "GroupName"  # the GL account's group is GL_ACCOUNT_CODE_GROUP
CODE_VALUE_KEY = "EnterpriseCodeValue"
# InvoiceType: an invoice or a credit memo, both with positive amounts; the
# Odoo move each becomes (the reverse of INVOICE_TYPES).
INVOICE_TYPE_INVOICE = "Invoice"
INVOICE_TYPE_CREDIT_MEMO = "CreditMemo"
CAPTURED_MOVE_TYPES = {INVOICE_TYPE_INVOICE: "in_invoice", INVOICE_TYPE_CREDIT_MEMO: "in_refund"}
# A captured invoice's image, ``GET {ImageUrl}``: ``{"FileName", "ContentType",
# "Content" (base64)}``, 404 when there is none; at most this large decoded.
MAX_INVOICE_IMAGE_BYTES = 10 * 1024 * 1024
# Marking a batch imported: 201 the first time, 200 when marked again; the
# batch is still listed by its closing dates.
PATH_EXPORT_HISTORIES = "/invoices/batches/exportHistories"
EXPORT_HISTORY_SUCCESS = 1  # the accounting system imported the batch [assumed]
EXPORT_HISTORY_FAILED = 2  # its import failed [assumed]
EXPORT_HISTORY_STATUSES = (EXPORT_HISTORY_SUCCESS, EXPORT_HISTORY_FAILED)
EXPORT_BATCH_ID_KEY = "BatchId"
EXPORT_START_KEY = "StartDate"  # when the import began, a timestamp
EXPORT_END_KEY = "EndDate"  # when it ended
EXPORT_STATUS_KEY = "ExportHistoryStatusId"
# A captured invoice's bill is linked as a sent one is, by its AvidXchange Id;
# the link's own external id (never sent: AvidXchange has no ExternalInvoiceId
# for it) is this, unique per connection: the last guard of "imported once".
CAPTURED_EXTERNAL_ID_FORMAT = "AVX-{}"
# Seconds Odoo's purchase matching may spend on one captured invoice's lines.
PO_MATCHING_TIMEOUT = 5

# === SENDS: RESERVE, CALL, RECORD; THE SHARED RATE LIMIT (issue 20) === #
# A scheduled send reserves its links ("being sent", ``sending_since``) and
# commits before it calls AvidXchange. A reservation older than this was left
# by a run that died between its two commits: AvidXchange may have what it
# sent; the next run sends it again, and AvidXchange's 409 says.
SENDING_TIMEOUT_MINUTES = 10
# Requests a minute one connection makes, all Odoo workers and hosts together
# (the connection's ``requests_per_minute``; 0: no limit) [assumed: the
# gateway's published quota is not in the contract].
DEFAULT_REQUESTS_PER_MINUTE = 1200
# A 429 without Retry-After pauses every worker this long; a Retry-After
# longer than the cap is cut to it (the request's own retries still honour it).
THROTTLE_PAUSE_SECONDS = 5.0
THROTTLE_PAUSE_MAX_SECONDS = 120.0
# Bills (and their images) one run sends at a time, in a small pool of
# threads that make the requests only (tools/parallel.py).
DEFAULT_PARALLEL_REQUESTS = 8
