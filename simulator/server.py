"""HTTP face of the simulator and the ``AvidSimulator`` object that tests drive.

The handler speaks the API contract the module codes against: a WSO2-like token endpoint,
the ``/avidconnect/v1`` data paths, and an unauthenticated ``/_sim`` admin API that mirrors
the Python control methods for tools that cannot import this package.
"""

import base64
import binascii
import contextlib
import json
import logging
import math
import random
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from .faults import API_PREFIX, TOKEN_PATH, FaultQueue, full_path
from .state import SimState
from .validation import ApiError, error_body, format_timestamp, parse_timestamp

_logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_sim/"
COMPANY_HEADER = "X-Avid-Company-Id"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_WINDOW = timedelta(days=30)  # lastModifiedFrom..lastModifiedTo
PAGED_PARAMS = ("pageNumber", "pageSize", "lastModifiedFrom", "lastModifiedTo")
# A truncated document: what a proxy cutting the answer short would deliver.
MALFORMED_BODY = b'{"Items": [{"PaymentId": "PAY-'

# Where AvidXchange's web application shows an invoice (InvoiceUrl) [assumed].
APP_INVOICE_PATH = "/app/invoices/"

# The shape of a path: literal segments, ``ID`` where a record's id stands ->
# {HTTP method: (handler, allowed query params)}. A handler takes the company, the
# record's id (the resource itself on a path without one: ``list`` serves every list)
# and the body. A path takes the route whose literal segments come first (left to
# right), so that ``/invoices/batches/X`` is a batch, never a sub-resource of an
# invoice ``batches``; elsewhere the second segment is always an id, whatever its text.
ID = "{id}"
BATCH_PARAMS = ("pageNumber", "pageSize")
CLOSED_BATCH_PARAMS = ("closeDateFrom", "closeDateTo", *BATCH_PARAMS)
ROUTES = {
    ("ping",): {"GET": ("ping", ())},
    ("vendors",): {"GET": ("list", PAGED_PARAMS)},
    ("vendors", ID): {"GET": ("get_vendor", ()), "PUT": ("put_vendor", ())},
    ("invoices",): {"GET": ("list", PAGED_PARAMS), "POST": ("post_invoice", ())},
    ("invoices", ID): {"GET": ("get_invoice", ())},
    ("invoices", ID, "attachments"): {"POST": ("post_attachment", ())},
    ("invoices", ID, "image"): {"GET": ("get_invoice_image", ())},
    ("payments",): {"GET": ("list", PAGED_PARAMS)},
    ("payments", ID): {"GET": ("get_payment", ())},
    ("payments", ID, "paymenthistory"): {"GET": ("get_payment_history", ())},
    ("payments", ID, "getclearedcheckimage"): {"GET": ("get_cleared_check_image", ())},
    ("enterpriseCodes",): {"PUT": ("put_enterprise_codes", ())},
    ("purchaseOrders", ID): {"PUT": ("put_purchase_order", ())},
    # Invoices captured in AvidXchange (captured.py)
    ("accountingSystems",): {"GET": ("get_accounting_systems", ())},
    ("invoices", "batches", "closed", "acctgSysId", ID): {
        "GET": ("get_closed_batches", CLOSED_BATCH_PARAMS)
    },
    ("invoices", "batches", "exportHistories"): {"POST": ("post_export_history", ())},
    ("invoices", "batches", ID): {"GET": ("get_batch", ())},
    ("invoices", "batches", ID, "invoices"): {"GET": ("get_batch_invoices", BATCH_PARAMS)},
}
# Routes by length, those with the leftmost literal segments first.
_ROUTE_ORDER = sorted(ROUTES, key=lambda route: [part == ID for part in route])

# AvidSimulator methods reachable as POST /_sim/<name> (GET too for the read-only ones).
ADMIN_ACTIONS = frozenset(
    {
        "add_client",
        "approve_invoice",
        "reject_invoice",
        "refuse_code",
        "set_invoice_status",
        "pay",
        "pay_run",
        "clear_payment",
        "void_payment",
        "error_payment",
        "report_again",
        "inject_payment",
        "advance",
        "capture_invoice",
        "close_batch",
        "reclose_batch",
        "set_accounting_systems",
        "get_batch",
        "batches",
        "export_histories",
        "get_vendor",
        "get_invoice",
        "get_payment",
        "invoices",
        "attachments",
        "payments",
        "vendors",
        "enterprise_codes",
        "purchase_orders",
        "fail_next",
        "slow_next",
        "drop_next",
        "malformed_next",
        "answer_next",
        "pending_faults",
        "set_token_ttl",
        "set_latency",
        "set_clock_offset",
        "expire_tokens",
        "reject_credentials",
        "clear_faults",
        "requests",
        "count",
        "clear_requests",
        "reset",
    }
)
ADMIN_READ_ONLY = frozenset(
    {
        "requests",
        "count",
        "pending_faults",
        "get_vendor",
        "get_invoice",
        "get_payment",
        "vendors",
        "invoices",
        "attachments",
        "payments",
        "enterprise_codes",
        "purchase_orders",
        "get_batch",
        "batches",
        "export_histories",
    }
)


def _route_key(segments):
    """The ``ROUTES`` key of a path split on ``/`` (see ``ROUTES``), or None."""
    if not all(segments):
        return None
    for route in _ROUTE_ORDER:
        if len(route) == len(segments) and all(
            part in (ID, segment) for part, segment in zip(route, segments, strict=True)
        ):
            return route
    return None


def _invoice_url(origin, invoice_id):
    """Where AvidXchange's web application shows the invoice ``invoice_id``."""
    return origin + APP_INVOICE_PATH + quote(invoice_id, safe="")


def _parse_json(raw):
    """Decode a request body; NaN/Infinity and bad UTF-8 are malformed too (400)."""

    def _reject_constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None


class RequestLog:
    """What clients asked, for assertions. Never holds secrets or token values."""

    def __init__(self):
        self._lock = threading.Lock()
        self._entries = []

    def add(self, entry):
        with self._lock:
            self._entries.append(entry)

    def select(self, method=None, path=None):
        path = full_path(path)
        with self._lock:
            entries = list(self._entries)
        if method is not None:
            entries = [e for e in entries if e["method"] == method.upper()]
        if path is not None:
            if path.endswith("*"):
                entries = [e for e in entries if e["path"].startswith(path[:-1])]
            else:
                entries = [e for e in entries if e["path"] == path]
        return json.loads(json.dumps(entries))

    def clear(self):
        with self._lock:
            self._entries.clear()


class _Server(ThreadingHTTPServer):
    """Keeps track of open connections so that ``stop()`` really ends keep-alive ones."""

    daemon_threads = True

    def __init__(self, address, sim):
        self.sim = sim
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        return super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        return super().shutdown_request(request)

    def close_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """One instance per connection; ``_handle`` runs once per request on it."""

    protocol_version = "HTTP/1.1"
    server_version = "AvidXchangeSimulator/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK would add ~40 ms to every keep-alive answer.
    disable_nagle_algorithm = True
    _unanswered = False  # see _handle_unanswered
    _amid = None  # a "call" fault run while a list is built (see call_amid)

    def log_message(self, fmt, *args):
        _logger.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    # --- plumbing -----------------------------------------------------------------------

    @property
    def sim(self):
        return self.server.sim

    def _handle(self):
        url = urlsplit(self.path)
        self._path = url.path
        self._query = parse_qs(url.query, keep_blank_values=True)
        self._entry = None
        self._entry_logged = False
        self._amid = None
        raw = self._read_body()
        if raw is None:
            return
        if self._path.startswith(ADMIN_PREFIX) or self._path == ADMIN_PREFIX.rstrip("/"):
            self._admin(raw)
            return
        time.sleep(self.sim._latency_seconds())  # a gateway's round trip (set_latency)
        self._entry = {
            "time": format_timestamp(datetime.now(timezone.utc)),
            "method": self.command,
            "path": self._path,
            "query": {k: v[0] if len(v) == 1 else v for k, v in self._query.items()},
            "company_id": self.headers.get(COMPANY_HEADER),
            "authorization": "Authorization" in self.headers,
            "body": None,
            "status": None,
            "fault": None,
        }
        if self._path.startswith(API_PREFIX) and raw:
            try:
                self._entry["body"] = _parse_json(raw)
            except ApiError:
                self._entry["body"] = raw.decode("utf-8", "replace")
        try:
            self._serve(raw)
        finally:
            self._log_entry()

    def _log_entry(self):
        """Log the request before its answer leaves: a client that counts requests
        right after an answer must find this one counted."""
        if self._entry is not None and not self._entry_logged:
            self._entry_logged = True
            self.sim._log.add(self._entry)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._reply(411, error_body(411, "Send the body with a Content-Length"))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._reply(400, error_body(400, "Invalid Content-Length"))
            return None
        return self.rfile.read(length) if length else b""

    def _reply(self, status, payload, headers=None):
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self._reply_raw(status, data, "application/json", headers)

    def _reply_raw(self, status, data, content_type, headers=None):
        if self._unanswered:
            return  # handled, but the answer is the fault's (see _handle_unanswered)
        if self._entry is not None:
            self._entry["status"] = status
            self._log_entry()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _drop(self):
        """Hang up without a byte of answer, like a gateway timing out mid-request."""
        self.close_connection = True
        self._log_entry()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # --- faults and routing -------------------------------------------------------------

    def _serve(self, raw):
        is_api = self._path.startswith(API_PREFIX + "/")
        if is_api or self._path == TOKEN_PATH:
            fault = self.sim._faults.take(self.command, self._path)
            if fault is not None:
                self._entry["fault"] = fault.kind
                if fault.kind == "slow":
                    time.sleep(fault.seconds)
                elif fault.kind == "drop":
                    self._handle_unanswered(raw, fault)
                    self._drop()
                    return
                elif fault.kind == "malformed":
                    self._handle_unanswered(raw, fault)
                    self._reply_raw(200, MALFORMED_BODY, "application/json")
                    return
                elif fault.kind == "call" and fault.amid:
                    self._amid = fault.action  # run while the list is built
                elif fault.kind == "call":
                    fault.action()  # then answer as usual
                elif fault.kind == "answer":
                    self._reply(fault.status, fault.body)
                    return
                else:
                    self._reply_fault(fault)
                    return
        self._dispatch(raw, is_api)

    def _dispatch(self, raw, is_api):
        if self._path == TOKEN_PATH:
            self._token(raw)
        elif is_api:
            self._api(self._path[len(API_PREFIX) + 1 :], raw)
        else:
            self._reply(404, error_body(404, f"No resource at {self._path}"))

    def _handle_unanswered(self, raw, fault):
        """A fault ``processed`` after the fact: the request is handled (the
        invoice is stored...) and only its answer is lost or garbled."""
        if not fault.processed:
            return
        self._unanswered = True
        try:
            self._dispatch(raw, self._path.startswith(API_PREFIX + "/"))
        finally:
            self._unanswered = False

    def _reply_fault(self, fault):
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(math.ceil(fault.retry_after))
        if isinstance(fault.body, str):
            self._reply_raw(fault.status, fault.body.encode("utf-8"), "text/plain", headers)
            return
        body = fault.body
        if body is None and fault.status == 429:
            body = {
                "code": "900800",
                "message": "Message throttled out",
                "description": "You have exceeded your quota. Try again later.",
            }
        elif body is None:
            body = error_body(fault.status, "Simulated failure")
        self._reply(fault.status, body, headers)

    # --- token endpoint -----------------------------------------------------------------

    def _basic_credentials(self):
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, client_secret = decoded.partition(":")
        return (client_id, client_secret) if sep else None

    def _token(self, raw):
        if self.command != "POST":
            self._reply(405, error_body(405, "Use POST"), {"Allow": "POST"})
            return
        credentials = self._basic_credentials()
        if (
            credentials is None
            or self.sim._faults.reject_credentials
            or not self.sim._state.check_client(*credentials)
        ):
            body = {"error": "invalid_client", "error_description": "Client authentication failed"}
            self._reply(401, body, {"WWW-Authenticate": 'Basic realm="AvidXchange"'})
            return
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        grant_type = form.get("grant_type", [None])[0]
        if grant_type != "client_credentials":
            error = "invalid_request" if grant_type is None else "unsupported_grant_type"
            detail = f"grant_type must be client_credentials, got {grant_type!r}"
            self._reply(400, {"error": error, "error_description": detail})
            return
        token, ttl = self.sim._state.issue_token(credentials[0])
        body = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
        body["scope"] = "default"
        self._reply(200, body, {"Cache-Control": "no-store"})

    # --- data endpoints -----------------------------------------------------------------

    def _api(self, subpath, raw):
        headers = None
        try:
            handler, arg = self._route(subpath)
            state = self.sim._state
            client_id = state.authenticate(self.headers.get("Authorization"))
            company_id = self.headers.get(COMPANY_HEADER)
            state.check_company(client_id, company_id)
            body = _parse_json(raw) if self.command in ("PUT", "POST") else None
            status, payload = handler(company_id, arg, body)
        except ApiError as exc:
            status, payload, headers = exc.status, exc.body(), exc.headers
            if exc.status == 401:
                headers = {"WWW-Authenticate": 'Bearer realm="AvidXchange"'}
        except Exception:
            _logger.exception("Simulator failed on %s %s", self.command, self.path)
            status, payload = 500, error_body(500, "Simulator internal error")
        self._reply(status, payload, headers)

    def _route(self, subpath):
        """The handler for this path and method; checks query parameter names too."""
        segments = subpath.split("/")
        route = _route_key(segments)
        methods = ROUTES.get(route)
        if methods is None:
            raise ApiError(404, f"No resource at {self._path}")
        if self.command not in methods:
            allow = ", ".join(sorted(methods))
            raise ApiError(405, f"{self.command} not allowed here", headers={"Allow": allow})
        name, allowed = methods[self.command]
        unknown = sorted(set(self._query) - set(allowed))
        if unknown:
            raise ApiError(400, f"Unknown query parameter(s): {', '.join(unknown)}")
        repeated = sorted(k for k, v in self._query.items() if len(v) > 1)
        if repeated:
            raise ApiError(400, f"Query parameter(s) given more than once: {', '.join(repeated)}")
        arg = unquote(segments[route.index(ID)]) if ID in route else segments[0]
        return getattr(self, f"_api_{name}"), arg

    def _param(self, name):
        return self._query.get(name, [None])[0]

    def _window(self):
        bounds = []
        for name in ("lastModifiedFrom", "lastModifiedTo"):
            value = self._param(name)
            moment = None if value is None else parse_timestamp(value)
            if value is not None and moment is None:
                raise ApiError(
                    400, f"{name}: expected an ISO 8601 timestamp with a zone, got {value!r}"
                )
            bounds.append(moment)
        modified_from, modified_to = bounds
        until = modified_to or self.sim._state.now()  # To defaults to now
        if modified_from is not None and until - modified_from > MAX_WINDOW:
            raise ApiError(
                400,
                "lastModifiedFrom..lastModifiedTo spans more than 30 days: "
                "read it window by window",
            )
        return bounds

    def _origin(self):
        """``http://host:port`` as the client reached us (the Host it sent), so that
        the addresses we hand out work from where the client stands."""
        host = self.headers.get("Host") or self.sim.base_url.split("//", 1)[1]
        return f"http://{host}"

    def _positive_int(self, name, default, maximum=None):
        value = self._param(name)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise ApiError(400, f"{name}: expected a positive integer, got {value!r}")
        if maximum is not None and int(value) > maximum:
            raise ApiError(400, f"{name}: at most {maximum}")
        return int(value)

    def _paged(self, kind, company_id):
        """The page asked for of the records changed in the window; only that
        page is copied out of the store, so a page costs about the same
        however many records the company holds."""
        modified_from, modified_to = self._window()
        page, size = self._page_asked()
        total, items = self.sim._state.page_records(
            kind, company_id, modified_from, modified_to, (page - 1) * size, size, self._amid
        )
        return self._page(items, total, page, size)

    def _page_asked(self):
        """``(pageNumber, pageSize)``, checked."""
        page = self._positive_int("pageNumber", 1)
        return page, self._positive_int("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)

    def _page_of(self, items):
        """The page of ``items`` asked for (``pageNumber``, ``pageSize``)."""
        page, size = self._page_asked()
        return self._page(items[(page - 1) * size : page * size], len(items), page, size)

    def _page(self, items, total, page, size):
        """A page of ``total`` items with its ``Paging`` and, but on the last
        page, an absolute ``next`` link."""
        pages = max(1, math.ceil(total / size))
        links = []
        if page < pages:
            params = {k: v[0] for k, v in self._query.items()}
            params.update(pageNumber=str(page + 1), pageSize=str(size))
            href = f"{self._origin()}{self._path}?{urlencode(params)}"
            links.append({"Rel": "next", "Href": href})
        paging = {
            "PageNumber": page,
            "PageSize": size,
            "Pages": pages,
            "TotalItems": total,
            "Links": links,
        }
        return 200, {"Items": items, "Paging": paging}

    def _found(self, record, what, key):
        if record is None:
            raise ApiError(404, f"{what} {key} not found")
        return 200, record

    def _api_ping(self, company_id, _arg, _body):
        return 200, self.sim._state.company_info(company_id)

    def _api_list(self, company_id, kind, _body):
        return self._paged(kind, company_id)

    def _api_get_vendor(self, company_id, code, _body):
        return self._found(self.sim._state.get_record("vendors", company_id, code), "Vendor", code)

    def _api_put_vendor(self, company_id, code, body):
        created, vendor = self.sim._state.put_vendor(company_id, code, body)
        return (201 if created else 200), vendor

    def _api_get_invoice(self, company_id, invoice_id, _body):
        """The stored invoice plus ``InvoiceUrl``: the address is the web application's,
        not a stored field, so it is built from the host the client reached."""
        status, invoice = self._found(
            self.sim._state.get_record("invoices", company_id, invoice_id), "Invoice", invoice_id
        )
        invoice["InvoiceUrl"] = _invoice_url(self._origin(), invoice_id)
        return status, invoice

    def _api_post_invoice(self, company_id, _arg, body):
        return 201, self.sim._state.create_invoice(company_id, body)

    def _api_post_attachment(self, company_id, invoice_id, body):
        created, attachment = self.sim._state.add_attachment(company_id, invoice_id, body)
        return (201 if created else 200), attachment

    def _api_get_payment(self, company_id, payment_id, _body):
        payment = self.sim._state.get_record("payments", company_id, payment_id)
        return self._found(payment, "Payment", payment_id)

    def _api_get_payment_history(self, company_id, payment_id, _body):
        history = self.sim._state.payment_history(company_id, payment_id)
        return self._found(None if history is None else {"Items": history}, "Payment", payment_id)

    def _api_get_cleared_check_image(self, company_id, payment_id, _body):
        found, image = self.sim._state.cleared_check_image(company_id, payment_id)
        if found and image is None:
            raise ApiError(404, f"No cleared check image for payment {payment_id}")
        return self._found(image, "Payment", payment_id)

    def _api_get_invoice_image(self, company_id, invoice_id, _body):
        found, image = self.sim._state.invoice_image(company_id, invoice_id)
        if found and image is None:
            raise ApiError(404, f"No image for invoice {invoice_id}")
        return self._found(image, "Invoice", invoice_id)

    def _api_get_accounting_systems(self, company_id, _arg, _body):
        """Not paged: every accounting system of the company."""
        return 200, {"Items": self.sim._state.accounting_systems(company_id)}

    def _api_get_closed_batches(self, company_id, system_id, _body):
        days = [self._param(name) for name in ("closeDateFrom", "closeDateTo")]
        if None in days:
            raise ApiError(400, "closeDateFrom and closeDateTo are required")
        self._positive_int("pageNumber", 1)  # refused before the dates are read
        self._positive_int("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return self._page_of(self.sim._state.closed_batches(company_id, system_id, *days))

    def _api_get_batch(self, company_id, batch_guid, _body):
        batch = self.sim._state.get_batch(batch_guid, company_id)
        return self._found(batch, "Batch", batch_guid)

    def _api_get_batch_invoices(self, company_id, batch_guid, _body):
        invoices = self.sim._state.batch_invoices(company_id, batch_guid)
        if invoices is None:
            raise ApiError(404, f"Batch {batch_guid} not found")
        return self._page_of(invoices)

    def _api_post_export_history(self, company_id, _arg, body):
        created, mark = self.sim._state.mark_exported(company_id, body)
        return (201 if created else 200), mark

    def _api_put_enterprise_codes(self, company_id, _arg, body):
        return 200, self.sim._state.put_enterprise_codes(company_id, body)

    def _api_put_purchase_order(self, company_id, code, body):
        created, order = self.sim._state.put_purchase_order(company_id, code, body)
        return (201 if created else 200), order

    # --- admin endpoint -----------------------------------------------------------------

    def _admin(self, raw):
        action = self._path[len(ADMIN_PREFIX) :]
        try:
            if action not in ADMIN_ACTIONS:
                raise ApiError(404, f"Unknown simulator action {action!r}")
            if self.command == "GET" and action in ADMIN_READ_ONLY:
                kwargs = {k: v[-1] for k, v in self._query.items()}
            elif self.command == "POST":
                kwargs = _parse_json(raw) if raw.strip() else {}
                if not isinstance(kwargs, dict):
                    raise ApiError(400, "The body must be a JSON object of keyword arguments")
            else:
                raise ApiError(405, f"Use POST /_sim/{action}")
            result = getattr(self.sim, action)(**kwargs)
            self._reply(200, {"result": result})
        except ApiError as exc:
            self._reply(exc.status, exc.body(), exc.headers)
        except KeyError as exc:
            self._reply(404, error_body(404, str(exc.args[0] if exc.args else exc)))
        except (TypeError, ValueError) as exc:
            self._reply(400, error_body(400, str(exc)))
        except Exception:
            _logger.exception("Simulator admin action %s failed", action)
            self._reply(500, error_body(500, "Simulator internal error"))


class AvidSimulator:
    """A local AvidXchange API: start it, point the client at ``base_url``, drive it.

    Every method is thread safe. Lifecycle methods raise ``KeyError`` for unknown ids and
    ``ValueError`` for changes the simulated workflow does not allow.
    """

    def __init__(
        self,
        host="127.0.0.1",
        port=0,
        token_ttl=3600,
        auto_advance=None,
        client_id=None,
        client_secret=None,
        company_id=None,
        company_name=None,
        latency_ms=0,
        jitter_ms=0,
    ):
        self.host = host
        self._started_latency = (latency_ms, jitter_ms)
        self.set_latency(latency_ms, jitter_ms)
        self._requested_port = port
        self.auto_advance = auto_advance
        self._state = SimState(token_ttl)
        self._faults = FaultQueue()
        self._log = RequestLog()
        self._server = None
        self._thread = None
        self._advance_thread = None
        self._stopping = threading.Event()
        if client_id is not None or client_secret is not None or company_id is not None:
            self.add_client(client_id, client_secret, company_id, company_name=company_name)

    # --- running ------------------------------------------------------------------------

    def start(self):
        """Bind and serve in a daemon thread; returns ``self`` once it accepts requests."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self._requested_port), self)
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="avid-simulator",
            daemon=True,
        )
        self._thread.start()
        if self.auto_advance:
            self._advance_thread = threading.Thread(
                target=self._advance_loop, name="avid-simulator-advance", daemon=True
            )
            self._advance_thread.start()
        return self

    def stop(self):
        """Stop serving, close open keep-alive connections, join the threads."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        if self._advance_thread is not None:
            self._advance_thread.join()
        self._server = self._thread = self._advance_thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def _advance_loop(self):
        interval = min(1.0, max(0.05, self.auto_advance / 4))
        while not self._stopping.wait(interval):
            try:
                self._state.advance(self.auto_advance)
            except Exception:
                _logger.exception("Simulator auto-advance failed")

    @property
    def port(self):
        if self._server is None:
            return self._requested_port
        return self._server.server_address[1]

    @property
    def base_url(self):
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def token_url(self):
        return self.base_url + TOKEN_PATH

    @property
    def api_url(self):
        return self.base_url + API_PREFIX

    def invoice_url(self, invoice_id):
        """The ``InvoiceUrl`` that ``GET /invoices/{Id}`` answers to a client of ``base_url``."""
        return _invoice_url(self.base_url, invoice_id)

    # --- clients and the request log ----------------------------------------------------

    def add_client(self, client_id, client_secret, company_ids, company_name=None):
        """Register (or replace) a client allowed to act for ``company_ids``."""
        self._state.add_client(client_id, client_secret, company_ids, company_name)

    def requests(self, method=None, path=None):
        """Logged requests; ``path`` is exact, or a prefix when it ends with ``*``."""
        return self._log.select(method, path)

    def count(self, method=None, path=None):
        return len(self._log.select(method, path))

    def clear_requests(self):
        self._log.clear()

    # --- lifecycle ----------------------------------------------------------------------

    def approve_invoice(self, invoice_id):
        return self._state.approve_invoice(invoice_id)

    def reject_invoice(self, invoice_id, reason="Rejected by approver"):
        return self._state.reject_invoice(invoice_id, reason)

    def refuse_code(self, code_value, reason="Code is locked in AvidXchange"):
        """Enterprise codes with this value fail, item by item, until ``reset()``."""
        return self._state.refuse_code(code_value, reason)

    def set_invoice_status(self, invoice_id, status):
        return self._state.set_invoice_status(invoice_id, status)

    def pay(self, allocations, **options):
        """Pay invoices; ``allocations`` = ``[{"invoice_id", "amount", "discount"}]``;
        ``options``: those of ``SimState.pay`` (method, check or trace number, date,
        status, GL postings, currency, company)."""
        return self._state.pay(allocations, **options)

    def pay_run(self, payments):
        """Pay several times at once, every payment stamped in the same whole
        second; ``payments``: a list of :meth:`pay` keyword arguments."""
        if not isinstance(payments, list) or not all(isinstance(p, dict) for p in payments):
            raise ValueError("payments must be a list of objects of pay() arguments")
        return self._state.pay_run(payments)

    def clear_payment(self, payment_id, cleared_date=None):
        return self._state.clear_payment(payment_id, cleared_date)

    def void_payment(self, payment_id):
        return self._state.void_payment(payment_id)

    def error_payment(self, payment_id, reason="Missing bank account"):
        return self._state.error_payment(payment_id, reason)

    def report_again(self, payment_id):
        return self._state.report_again(payment_id)

    def inject_payment(self, item, company_id):
        """List ``item`` among the payments of ``company_id`` exactly as given."""
        return self._state.inject_payment(item, company_id)

    def advance(self, min_age=0.0):
        """One auto-advance step now (approve Received, pay Approved)."""
        return self._state.advance(min_age)

    # --- invoices captured in AvidXchange -----------------------------------------------

    def capture_invoice(self, number, vendor, **options):
        """An invoice captured, coded and approved in AvidXchange; returns its ``Id``.
        ``vendor``: ``{"VendorName", "VendorExternalSystemID", "FedTaxId"}``;
        ``options``: those of ``SimState.capture_invoice`` (amount, distributions,
        invoice_type, currency, dates, po_number, memo, image, fields, company_id)."""
        return self._state.capture_invoice(number, vendor, **options)

    def close_batch(self, invoice_ids, **options):
        """Close captured invoices in a batch; returns its ``BatchGUID``.
        ``options``: batch_name, date_closed (default now), accounting_system_id,
        company_id."""
        return self._state.close_batch(invoice_ids, **options)

    def reclose_batch(self, batch_guid, add=(), remove=(), change=None, date_closed=None):
        """Close a batch again, later, with invoices added, removed or changed
        (``change``: ``{Id: {contract key: value}}``)."""
        return self._state.reclose_batch(batch_guid, add, remove, change, date_closed)

    def set_accounting_systems(self, systems, company_id=None):
        """What ``GET /accountingSystems`` answers (default ``[{"ID": 17, "Name": "Odoo"}]``)."""
        return self._state.set_accounting_systems(systems, company_id)

    def get_batch(self, batch_guid):
        return self._state.get_batch(batch_guid)

    def batches(self, company_id=None):
        return self._state.batches(company_id)

    def export_histories(self, batch_guid=None, company_id=None):
        """The batches marked imported (``exportHistories``), oldest first."""
        return self._state.export_histories(batch_guid, company_id)

    # --- lookups ------------------------------------------------------------------------

    def get_vendor(self, company_id, code):
        return self._state.get_record("vendors", company_id, code)

    def get_invoice(self, invoice_id):
        return self._state.get_invoice(invoice_id)

    def get_payment(self, payment_id):
        return self._state.get_payment(payment_id)

    def attachments(self, invoice_id):
        """The files ``POST /invoices/{Id}/attachments`` kept for ``invoice_id``, oldest
        first: ``[{"Id", "FileName", "ContentType", "Size", "Content" (base64)}]``."""
        return self._state.attachments(invoice_id)

    def vendors(self, company_id=None):
        return self._state.list_records("vendors", company_id)

    def invoices(self, company_id=None):
        return self._state.list_records("invoices", company_id)

    def payments(self, company_id=None):
        return self._state.list_records("payments", company_id)

    def enterprise_codes(self, company_id=None):
        return self._state.list_records("enterprise_codes", company_id)

    def purchase_orders(self, company_id=None):
        return self._state.list_records("purchase_orders", company_id)

    # --- faults -------------------------------------------------------------------------

    def fail_next(self, n=1, status=429, retry_after=None, body=None, path=None, method=None):
        """Answer the next ``n`` matching requests with ``status`` (429: WSO2 body)."""
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        return self._faults.add(
            "fail", n, path, method, status=status, retry_after=retry_after, body=body
        )

    def slow_next(self, n=1, seconds=2.0, path=None, method=None):
        """Sleep ``seconds`` before answering the next ``n`` matching requests normally."""
        return self._faults.add("slow", n, path, method, seconds=float(seconds))

    def drop_next(self, n=1, path=None, method=None, processed=False):
        """Close the connection without answering the next ``n`` matching
        requests; ``processed``: after handling them (the answer is lost)."""
        return self._faults.add("drop", n, path, method, processed=processed)

    def answer_next(self, n=1, body=None, status=200, path=None, method=None):
        """Answer the next ``n`` matching requests ``status`` with the JSON ``body``
        as given, however wrong (a token that is a number, endless paging...)."""
        return self._faults.add("answer", n, path, method, status=status, body=body)

    def malformed_next(self, n=1, path=None, method=None, processed=False):
        """Answer the next ``n`` matching requests 200 with a truncated JSON
        body; ``processed``: after handling them (the answer is garbled)."""
        return self._faults.add("malformed", n, path, method, processed=processed)

    def pending_faults(self):
        return self._faults.pending()

    def set_clock_offset(self, seconds):
        """AvidXchange's clock runs ``seconds`` ahead of ours (behind when negative)."""
        self._state.set_clock_offset(seconds)

    def call_before(self, action, path=None, method=None, skip=0):
        """Run ``action()`` before answering the first request matching ``path``
        and ``method`` after ``skip`` of them, e.g. change a payment while a
        client pages through the list (Python API only: it takes a callable)."""
        return self._faults.add("call", 1, path, method, action=action, skip=skip)

    def call_amid(self, action, path=None, method=None, skip=0):
        """Like :meth:`call_before`, but ``action()`` runs once the list asked
        for is ordered and before its page is copied out: a record it changes
        keeps its place on that page with its new, latest stamp, as when
        AvidXchange changes a payment while it builds the page."""
        return self._faults.add("call", 1, path, method, action=action, skip=skip, amid=True)

    def set_latency(self, latency_ms=0, jitter_ms=0):
        """Every request of the API (and the token endpoint, not ``/_sim``) is
        answered after ``latency_ms`` plus up to ``jitter_ms`` more, drawn per
        request, as AvidXchange's gateway answers in 100-500 ms."""
        latency, jitter = float(latency_ms), float(jitter_ms)
        if not (0 <= latency <= 60_000 and 0 <= jitter <= 60_000):
            raise ValueError("latency_ms and jitter_ms must be between 0 and 60000")
        self._latency = (latency, jitter)

    def _latency_seconds(self):
        latency, jitter = self._latency
        return (latency + (random.uniform(0, jitter) if jitter else 0)) / 1000

    def set_token_ttl(self, seconds):
        """Tokens issued from now on live ``seconds`` (existing tokens keep their expiry)."""
        self._state.set_token_ttl(seconds)

    def expire_tokens(self):
        """Invalidate every token issued so far."""
        self._state.expire_tokens()

    def reject_credentials(self, reject=True):
        """While on, the token endpoint answers 401 even for good credentials."""
        self._faults.reject_credentials = bool(reject)

    def clear_faults(self):
        """Drop queued faults and turn ``reject_credentials`` off."""
        self._faults.clear()

    def reset(self):
        """Forget all records, faults, the request log and the TTL override;
        the latency is back to the one the simulator was started with.

        Registered clients and their live tokens are kept, so a test suite can reset between
        tests without its client noticing.
        """
        self._state.reset()
        self._faults.clear()
        self._log.clear()
        self.set_latency(*self._started_latency)
