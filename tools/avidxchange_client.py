"""The one place that talks HTTP to AvidXchange.

A client lives for one sync cycle of one backend: it holds one
``requests.Session`` (keep-alive), fetches an OAuth 2.0 client-credentials token
when the cycle starts and renews it when fewer than ``TOKEN_RENEW_MARGIN``
seconds remain, or once after a 401. Retries with exponential backoff and
jitter, ``Retry-After`` and the per-request deadline are urllib3's ``Retry``
(subclassed for the jitter, the deadline and the retry log), mounted on the
session, so there is no hand-written retry loop.

Every exchange can be handed to a ``recorder`` callable as an :class:`Exchange`
with redacted bodies; the audit trail of the Odoo side is built from those.
What an exchange is *about* (an operation and a record, opaque to the client)
is set around the calls with :meth:`AvidXchangeClient.recording`.
Secrets (the client secret, tokens, the ``Authorization`` header) never reach a
log record, an exchange or an exception message.
"""

import base64
import contextlib
import copy
import dataclasses
import datetime
import json
import logging
import random
import time
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError, ResponseError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

from .. import const
from .exceptions import (
    AuthenticationError,
    AvidXchangeError,
    CredentialsRejectedError,
    InvalidResponseError,
    PermanentError,
    RetryableError,
)
from .paging import ChangesCursor, PagingError
from .redaction import redacted_text

_logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Exchange:
    """One request as the audit trail keeps it: nothing secret in it."""

    method: str
    path: str  # below the base URL, with the query string
    status: int | None  # the last answer's HTTP status; None when none came
    duration: float  # seconds, all attempts and waits included
    attempts: int
    request_body: str | None
    response_body: str | None
    error: str | None = None
    operation: str | None = None  # what the caller was doing (see ``recording``)
    record: object = None  # what it concerns, opaque to the client


@dataclasses.dataclass
class PlannedRequest:
    """A write a dry run would have sent (see ``planned``): nothing secret,
    no file content (its size only)."""

    method: str
    path: str
    body: str | None
    operation: str | None
    record: object


@dataclasses.dataclass
class ItemResult:
    """One entry of a batch answer (``Results``): batches answer 200 even when
    some items fail, so each item carries its own outcome."""

    successful: bool
    errors: list
    item: dict


class ForeignLinkError(InvalidResponseError):
    """A link AvidXchange gave (a batch's ``full-details``, an ``ImageUrl``)
    that leads elsewhere than below the API on the base URL: an absolute
    address, another host, another path. It is never followed: the token
    never leaves for it."""


class _CycleRetry(Retry):
    """urllib3's Retry with jitter, a deadline for the whole request, and a note
    of every retry.

    The deadline keeps a sync cycle from hanging on one request: a retry (or a
    ``Retry-After``) that would end after it is not attempted, and the last
    answer is returned as it is. ``retry_log`` is shared by the copies urllib3
    makes, so the client can tell how many attempts a request took.
    """

    def __init__(
        self,
        *args,
        deadline=None,
        backoff_cap=const.DEFAULT_BACKOFF_MAX,
        retry_log=None,
        planned_backoff=0.0,
        on_throttle=None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.on_throttle = on_throttle
        self.deadline = deadline
        self.backoff_cap = backoff_cap
        self.retry_log = [] if retry_log is None else retry_log
        self.planned_backoff = planned_backoff

    def new(self, **kwargs):
        kwargs.setdefault("deadline", self.deadline)
        kwargs.setdefault("backoff_cap", self.backoff_cap)
        kwargs.setdefault("retry_log", self.retry_log)
        kwargs.setdefault("on_throttle", self.on_throttle)
        return super().new(**kwargs)

    def get_backoff_time(self):
        return self.planned_backoff

    def increment(self, method=None, url=None, response=None, error=None, **kwargs):
        new_retry = super().increment(method, url, response=response, error=error, **kwargs)
        # Exponential from the first retry on, capped, with "equal jitter" so
        # that clients throttled together do not all come back together.
        backoff = min(self.backoff_cap, self.backoff_factor * 2 ** len(self.retry_log))
        new_retry.planned_backoff = backoff / 2 + random.uniform(0, backoff / 2)
        wait = new_retry.planned_backoff
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response) or wait  # as urllib3's sleep() decides
        if response is not None and response.status == 429 and self.on_throttle:
            self.on_throttle(wait)  # every worker of the connection waits too
        if self.deadline is not None and time.monotonic() + wait > self.deadline:
            raise MaxRetryError(kwargs.get("_pool"), url, error or ResponseError("deadline"))
        cause = f"HTTP {response.status}" if response is not None else type(error).__name__
        self.retry_log.append(cause)
        _logger.info(
            "AvidXchange %s %s: %s, retry %d in %.1f s",
            method,
            urlsplit(url).path,
            cause,
            len(self.retry_log),
            wait,
        )
        return new_retry


class AvidXchangeClient:
    """A session with one AvidXchange company, for one sync cycle.

    :param base_url: gateway URL (the data paths hang under ``API_PREFIX``)
    :param token_url: token endpoint; defaults to ``base_url + TOKEN_PATH``
    :param recorder: optional callable receiving an :class:`Exchange` per request
    """

    def __init__(
        self,
        base_url,
        client_id,
        client_secret,
        company_id,
        *,
        token_url=None,
        connect_timeout=const.DEFAULT_CONNECT_TIMEOUT,
        read_timeout=const.DEFAULT_READ_TIMEOUT,
        max_attempts=const.DEFAULT_MAX_ATTEMPTS,
        backoff_factor=const.DEFAULT_BACKOFF_FACTOR,
        backoff_max=const.DEFAULT_BACKOFF_MAX,
        total_timeout=const.DEFAULT_TOTAL_TIMEOUT,
        page_size=const.PAGE_SIZE_DEFAULT,
        recorder=None,
        max_answer_bytes=const.MAX_ANSWER_BYTES,
        planned=None,
        budget=None,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_url = self.base_url + const.API_PREFIX
        self.token_url = token_url or self.base_url + const.TOKEN_PATH
        self.company_id = company_id
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max(1, int(max_attempts))
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.total_timeout = total_timeout
        self.page_size = max(1, min(int(page_size), const.PAGE_SIZE_MAX))
        self.recorder = recorder
        self.max_answer_bytes = max_answer_bytes
        # A dry run: writes are not sent but appended here (reads go out as
        # usual), and answered as AvidXchange would take them.
        self.planned = planned
        # The connection's requests-per-minute budget, shared by every worker
        # (``take()`` before each request, ``pause(seconds)`` on a 429): see
        # tools/rate_budget.py. None: no limit but AvidXchange's own 429s.
        self.budget = budget
        self._about = (None, None)  # (operation, record) of the exchanges being made
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode(
            "ascii"
        )
        self._secrets = [s for s in (client_secret, self._basic) if s]
        self._token = None
        self._token_expires = 0.0
        self._session = requests.Session()
        self._adapter = HTTPAdapter()
        self._session.mount("http://", self._adapter)
        self._session.mount("https://", self._adapter)

    # === LIFECYCLE === #

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._session.close()

    def fork(self, recorder):
        """A client for another thread (see tools/parallel.py): the same
        connection, token and budget, a session of its own; its exchanges
        go to ``recorder``, for the caller to record in its own thread."""
        twin = copy.copy(self)
        twin.recorder = recorder
        twin._secrets = list(self._secrets)
        twin._session = requests.Session()
        twin._adapter = HTTPAdapter()
        twin._session.mount("http://", twin._adapter)
        twin._session.mount("https://", twin._adapter)
        return twin

    @contextlib.contextmanager
    def recording(self, operation, record=None):
        """Record the exchanges made inside the block as ``operation`` on
        ``record``; what was recorded before comes back after it."""
        previous = self._about
        self._about = (operation, record)
        try:
            yield self
        finally:
            self._about = previous

    def start_cycle(self):
        """Forget the token: each polling cycle starts with a fresh one."""
        self._forget_token()

    # === API === #

    def check_connection(self):
        """Fetch a token and list one payment: proves the credentials, the host
        and the company id with the cheapest call the contract has."""
        self._ensure_token()
        now = time.time()
        params = {
            const.MODIFIED_FROM_PARAM: _iso_utc(now - 60),
            const.MODIFIED_TO_PARAM: _iso_utc(now),
            const.PAGE_NUMBER_PARAM: 1,
            const.PAGE_SIZE_PARAM: 1,
        }
        page = self._call("GET", const.PATH_PAYMENTS, params=params)
        self._check_page(page)
        return page

    def put_vendor(self, code, vendor):
        """Create or update a vendor; idempotent. Returns it with its ``Id``."""
        answer = self._call("PUT", const.PATH_VENDOR.format(quote(code, safe="")), body=vendor)
        return self._require(answer, const.ANSWER_ID_KEY)

    def submit_invoice(self, invoice):
        """Submit a bill. Returns ``(answer, already_known)``: a 409 means
        AvidXchange has this ``ExternalInvoiceId`` already, and its answer
        names that invoice, which we adopt instead of failing."""
        answer, status = self._call(
            "POST", const.PATH_INVOICES, body=invoice, accept=(const.HTTP_CONFLICT,), status=True
        )
        if status == const.HTTP_CONFLICT:
            existing = self._require(answer, "Item")["Item"]
            return self._require(existing, const.ANSWER_ID_KEY), True
        return self._require(answer, const.ANSWER_ID_KEY), False

    def add_invoice_attachment(self, invoice_id, file_name, content_type, content):
        """Attach a file (``content``: bytes) to an invoice for its approvers;
        returns AvidXchange's id of it. The same file twice answers its id."""
        path = const.PATH_INVOICE_ATTACHMENTS.format(quote(str(invoice_id), safe=""))
        body = {
            "FileName": file_name,
            "ContentType": content_type,
            "Content": base64.b64encode(content).decode("ascii"),
        }
        return self._require(self._call("POST", path, body=body), const.ANSWER_ID_KEY)[
            const.ANSWER_ID_KEY
        ]

    def get_invoice(self, invoice_id):
        answer = self._call("GET", const.PATH_INVOICE.format(quote(str(invoice_id), safe="")))
        return self._require(answer, const.ANSWER_ID_KEY)

    def iter_invoices(self, modified_from, modified_to):
        return self.iter_changed(const.PATH_INVOICES, modified_from, modified_to)

    def iter_payments(self, modified_from, modified_to):
        return self.iter_changed(const.PATH_PAYMENTS, modified_from, modified_to)

    def get_payment(self, payment_id):
        answer = self._call("GET", const.PATH_PAYMENT.format(quote(str(payment_id), safe="")))
        return self._require(answer, "PaymentId")

    def get_payment_history(self, payment_id):
        """The payment's status history, oldest first: the list of its items
        (each still to be checked by the caller: AvidXchange is untrusted)."""
        path = const.PATH_PAYMENT_HISTORY.format(quote(str(payment_id), safe=""))
        items = self._require(self._call("GET", path), "Items")["Items"]
        if not isinstance(items, list):
            raise InvalidResponseError("The payment history's Items is not a list.")
        return items[: const.PAYMENT_HISTORY_MAX_ITEMS]

    def get_cleared_check_image(self, payment_id):
        """The cleared check's image as ``(file name, content type, bytes)``,
        or None when AvidXchange has none (404)."""
        path = const.PATH_CHECK_IMAGE.format(quote(str(payment_id), safe=""))
        answer, status = self._call("GET", path, accept=(404,), status=True)
        if status == 404:
            return None
        return self._file(answer, "check image", "check.pdf", const.MAX_ATTACHMENT_BYTES)

    def put_enterprise_codes(self, codes):
        """Batch upsert; returns one :class:`ItemResult` per code sent."""
        codes = list(codes)
        answer = self._call("PUT", const.PATH_ENTERPRISE_CODES, body=codes)
        results = self._item_results(answer)
        if len(results) != len(codes):
            raise InvalidResponseError(
                f"AvidXchange answered {len(results)} results for {len(codes)} codes."
            )
        return results

    def put_purchase_order(self, code, order):
        path = const.PATH_PURCHASE_ORDER.format(quote(code, safe=""))
        return self._call("PUT", path, body=order)

    # === API - INVOICES CAPTURED IN AVIDXCHANGE === #

    def get_accounting_systems(self):
        """The accounting systems of the AvidXchange company (not paged), as
        ``[{"ID": int, "Name": str}]``: a connection picks one by name."""
        answer = self._call("GET", const.PATH_ACCOUNTING_SYSTEMS)
        items = self._require(answer, "Items")["Items"]
        if not isinstance(items, list):
            raise InvalidResponseError("The accounting systems' Items is not a list.")
        systems = []
        for item in items:
            system_id, name = (
                (
                    item.get(const.ACCOUNTING_SYSTEM_ID_KEY),
                    item.get(const.ACCOUNTING_SYSTEM_NAME_KEY),
                )
                if isinstance(item, dict)
                else (None, None)
            )
            if not _is_int(system_id) or not isinstance(name, str) or not name.strip():
                raise InvalidResponseError("An accounting system has no numeric ID or no Name.")
            systems.append(
                {const.ACCOUNTING_SYSTEM_ID_KEY: system_id, const.ACCOUNTING_SYSTEM_NAME_KEY: name}
            )
        return systems

    def iter_closed_batches(self, system_id, day_from, day_to):
        """The batches of accounting system ``system_id`` closed from
        ``day_from`` to ``day_to`` (dates, both inclusive, at most
        ``MAX_CLOSE_WINDOW_DAYS`` apart: the caller splits a longer range),
        page by page, each as AvidXchange gave it (the caller checks it; a
        batch closed again while the list is paged may come twice)."""
        if not _is_int(system_id):
            raise ValueError(f"An accounting system's ID is a number, not {system_id!r}.")
        first, last = _day(day_from), _day(day_to)
        if not 0 <= (last - first).days <= const.MAX_CLOSE_WINDOW_DAYS:
            raise ValueError(
                f"Closed batches are read {const.MAX_CLOSE_WINDOW_DAYS} days at most at a "
                f"time, from a day to a later one: not {first} to {last}."
            )
        params = {
            const.CLOSE_DATE_FROM_PARAM: first.isoformat(),
            const.CLOSE_DATE_TO_PARAM: last.isoformat(),
        }
        return self._iter_pages(const.PATH_CLOSED_BATCHES.format(system_id), params)

    def get_batch(self, guid):
        """One batch, as the list of closed batches shows it."""
        if not isinstance(guid, str) or not guid:
            raise ValueError(f"A batch is named by its BatchGUID, not {guid!r}.")
        answer = self._call("GET", const.PATH_BATCH.format(quote(guid, safe="")))
        batch = self._require(answer, const.BATCH_GUID_KEY)
        if batch[const.BATCH_GUID_KEY] != guid:
            raise InvalidResponseError("AvidXchange answered another batch than the one asked for.")
        return batch

    def iter_batch_invoices(self, batch):
        """The invoices of ``batch`` (a batch as listed or read), page by page,
        each as AvidXchange gave it (the caller checks it), from the batch's
        ``full-details`` link: relative to the base URL only (see
        :class:`ForeignLinkError`)."""
        links = batch.get(const.BATCH_LINKS_KEY) if isinstance(batch, dict) else None
        hrefs = [
            link.get(const.LINK_HREF_KEY)
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and link.get(const.LINK_REL_KEY) == const.BATCH_DETAILS_REL
        ]
        if not hrefs:
            raise InvalidResponseError("The batch has no full-details link to its invoices.")
        path, params = self._api_path(hrefs[0], "The batch's full-details link")
        return self._iter_pages(path, params)

    def get_invoice_image(self, url):
        """The image of a captured invoice, from its ``ImageUrl`` (relative to
        the base URL only), as ``(file name, content type, bytes)``; None
        when AvidXchange has none (404)."""
        path, params = self._api_path(url, "The invoice's ImageUrl")
        answer, status = self._call("GET", path, params=params, accept=(404,), status=True)
        if status == 404:
            return None
        return self._file(answer, "invoice image", "invoice.pdf", const.MAX_INVOICE_IMAGE_BYTES)

    def mark_batch_imported(self, guid, start, end, status=const.EXPORT_HISTORY_SUCCESS):
        """Tell AvidXchange the batch was imported (``status`` 1) or that its
        import failed (2), the import having run from ``start`` to ``end``
        (datetimes, naive ones UTC). A write: a dry run only plans it. Returns
        True the first time the batch is marked (201), False when marked
        again (200): both mean done."""
        if status not in const.EXPORT_HISTORY_STATUSES or isinstance(status, bool):
            raise ValueError(f"ExportHistoryStatusId is one of {const.EXPORT_HISTORY_STATUSES}.")
        body = {
            const.EXPORT_BATCH_ID_KEY: guid,
            const.EXPORT_START_KEY: _format_ts(start),
            const.EXPORT_END_KEY: _format_ts(end),
            const.EXPORT_STATUS_KEY: status,
        }
        _answer, code = self._call("POST", const.PATH_EXPORT_HISTORIES, body=body, status=True)
        return code == const.HTTP_CREATED

    def _iter_pages(self, path, params=None):
        """Yield the items of a list paged by number (not by stamps), page 1
        to the last, asking each page by its number (a ``next`` link's address
        is never followed). A page answered again for the next one, and more
        requests than ``MAX_PAGES_PER_READ``, stop the read with an error."""
        previous = None
        for number in range(1, const.MAX_PAGES_PER_READ + 1):
            paging = {const.PAGE_NUMBER_PARAM: number, const.PAGE_SIZE_PARAM: self.page_size}
            page = self._call("GET", path, params={**(params or {}), **paging})
            items, more = self._check_page(page)
            if _is_int(page["Paging"].get("Pages")) and number >= page["Paging"]["Pages"]:
                more = None  # the last page, whatever its links say
            if more and items == previous:
                raise InvalidResponseError(
                    "AvidXchange answered the same page again for the next one: stopped."
                )
            yield from items
            if not (more and items):
                return
            previous = items
        raise InvalidResponseError(
            f"AvidXchange kept answering further pages after {const.MAX_PAGES_PER_READ}: stopped."
        )

    @staticmethod
    def _api_path(href, what):
        """``(path below API_PREFIX, query parameters)`` of a link AvidXchange
        gave, relative to the base URL; :class:`ForeignLinkError` for a link
        leading anywhere else (an absolute address, another host, a path
        outside the API or climbing out of it)."""
        if not isinstance(href, str) or not href.strip():
            raise InvalidResponseError(f"{what} is missing.")
        parts = urlsplit(href.strip())
        path = parts.path if parts.path.startswith("/") else "/" + parts.path
        decoded = unquote(path)
        if (
            parts.scheme
            or parts.netloc
            or parts.fragment
            or not path.startswith(const.API_PREFIX + "/")
            or any(segment in (".", "..") for segment in decoded.split("/"))
            or any(char == "\\" or ord(char) < 33 for char in decoded)
        ):
            raise ForeignLinkError(
                f"{what} leads outside AvidXchange's API ({href[:200]!r}): not followed."
            )
        return path[len(const.API_PREFIX) :], dict(parse_qsl(parts.query))

    def iter_changed(self, path, modified_from, modified_to):
        """Yield the items changed from ``modified_from`` to ``modified_to``
        (both inclusive, at most ``MAX_WINDOW`` apart), page by page, each
        once: however many share a stamp, and whichever changes while the
        list is paged (it comes again, as it now is). Which page to ask for
        next is ``tools/paging.py``'s business. A page answered again for the
        next one, a list that never holds still, and more requests than
        ``MAX_PAGES_PER_READ``, stop the read with an error.
        """
        cursor = ChangesCursor(_naive_utc(modified_from), _naive_utc(modified_to))
        previous, page_size, fixed = None, self.page_size, False
        for _request in range(const.MAX_PAGES_PER_READ):
            size, number, offset = cursor.page(page_size, fixed)
            params = {
                **_window(cursor.since, modified_to),
                const.PAGE_NUMBER_PARAM: number,
                const.PAGE_SIZE_PARAM: size,
            }
            page = self._call("GET", path, params=params)
            items, more = self._check_page(page)
            pages = page["Paging"].get("Pages")
            if isinstance(pages, int) and not isinstance(pages, bool) and number >= pages:
                more = None  # the last page, whatever its links say
            if more and items == previous:
                # Asked for another page (or from a later stamp), answered the
                # very same one, with more to come: a server ignoring paging.
                raise InvalidResponseError(
                    "AvidXchange answered the same page again for the next one: stopped."
                )
            if not fixed and (len(items) > size or (more and 0 < len(items) < size)):
                # Its pages are not the size asked: ask its size from now on,
                # and that size only, or the positions would not be ours (a
                # first page is its first page, whatever its size).
                page_size, fixed = len(items), True
                if number != 1 or offset:
                    previous = None
                    continue
            previous = items
            try:
                fresh, moved = cursor.take(items, number, offset)
            except PagingError as error:
                raise InvalidResponseError(str(error)) from None
            yield from fresh
            if not moved and not (more and items):
                return
        raise InvalidResponseError(
            f"AvidXchange kept answering further pages after {const.MAX_PAGES_PER_READ}: stopped."
        )

    # === HTTP === #

    def _call(self, method, path, params=None, body=None, accept=(), status=False):
        """A data call: token, headers, one renewal on 401, error mapping."""
        if self.planned is not None and method != "GET":
            answer = self._plan(method, path, body)
            return (answer, const.HTTP_CREATED) if status else answer
        self._ensure_token()
        url = self.api_url + path
        response = self._send(method, url, params=params, body=body)
        if response.status_code == const.HTTP_UNAUTHORIZED:
            self._record(response, method, url, params, body)
            self._forget_token()
            self._ensure_token()
            response = self._send(method, url, params=params, body=body)
            if response.status_code == const.HTTP_UNAUTHORIZED:
                error = AuthenticationError(
                    "AvidXchange refused a freshly issued token: check that the API client "
                    "may use this company.",
                    status=401,
                )
                self._record(response, method, url, params, body, error=error)
                raise error
        answer = self._answer(response, method, url, params, body, accept)
        return (answer, response.status_code) if status else answer

    def _plan(self, method, path, body):
        """Keep a write a dry run would send, and answer it as taken: the
        caller goes on exactly as in a real run."""
        self.planned.append(
            PlannedRequest(
                method=method,
                path=path,
                body=redacted_text(body, self._scrub),
                operation=self._about[0],
                record=self._about[1],
            )
        )
        if path == const.PATH_ENTERPRISE_CODES:
            return {"Results": [{"Successful": True, "Errors": [], "Item": item} for item in body]}
        return {
            const.ANSWER_ID_KEY: f"{const.DRY_RUN_ID_PREFIX}{len(self.planned)}",
            const.ANSWER_STATUS_KEY: "Received",
        }

    def _ensure_token(self):
        if self._token and time.monotonic() < self._token_expires - const.TOKEN_RENEW_MARGIN:
            return
        method, url = "POST", self.token_url
        response = self._send(
            method, url, form={"grant_type": const.TOKEN_GRANT_TYPE}, authorization=self._basic
        )
        # Bodies are not kept: the answer carries the token, an error may echo secrets.
        if response.status_code in (400, 401, 403):
            error = CredentialsRejectedError(
                f"AvidXchange refused the client id and secret ({_oauth_error(response)}).",
                status=response.status_code,
            )
            self._record(response, method, url, keep_bodies=False, error=error)
            raise error
        answer = self._answer(response, method, url, keep_bodies=False)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token.strip():
            error = InvalidResponseError(
                "The AvidXchange token answer holds no usable access token."
            )
            self._record(response, method, url, keep_bodies=False, error=error)
            raise error
        lifetime = answer.get("expires_in", const.TOKEN_DEFAULT_LIFETIME)
        if isinstance(lifetime, str):  # some gateways send it as text
            try:
                lifetime = float(lifetime)
            except ValueError:
                lifetime = None
        if (
            isinstance(lifetime, bool)
            or not isinstance(lifetime, int | float)
            or not 0 < lifetime <= const.TOKEN_MAX_LIFETIME
        ):
            error = InvalidResponseError(
                "The AvidXchange token answer gives no sane lifetime (expires_in): refused."
            )
            self._record(response, method, url, keep_bodies=False, error=error)
            raise error
        self._token = token
        self._token_expires = time.monotonic() + lifetime
        self._secrets.append(token)

    def _forget_token(self):
        self._token = None
        self._token_expires = 0.0

    def _send(self, method, url, params=None, body=None, form=None, authorization=None):
        """Send one logical request; urllib3 retries inside. Returns the final
        answer, with its duration and attempt count; raises RetryableError
        (recorded) when no answer came at all."""
        headers = {
            "Accept": const.JSON_MEDIA_TYPE,
            "Authorization": authorization or f"Bearer {self._token}",
        }
        if authorization is None:
            headers[const.COMPANY_HEADER] = str(self.company_id)
        data = None
        if body is not None:
            headers["Content-Type"] = const.JSON_MEDIA_TYPE
            data = json.dumps(body)
        elif form is not None:
            data = form
        started = time.monotonic()
        # One client serves one cycle in one thread: the adapter (and its
        # keep-alive pool) stays, the retry budget is per request.
        self._adapter.max_retries = retry = self._retry(started)
        if self.budget is not None:
            self.budget.take()
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,  # read below, up to the size limit
            )
        except requests.exceptions.RequestException as exc:
            duration = time.monotonic() - started
            error = RetryableError(
                self._scrub(
                    f"AvidXchange did not answer {method} {urlsplit(url).path} after "
                    f"{len(retry.retry_log) + 1} attempt(s) in {duration:.1f} s ({_cause(exc)})."
                )
            )
            self._record(
                None,
                method,
                url,
                params,
                body,
                error=error,
                duration=duration,
                attempts=len(retry.retry_log) + 1,
            )
            raise error from None
        response.avx_duration = time.monotonic() - started
        response.avx_attempts = len(retry.retry_log) + 1
        if response.status_code == 429 and self.budget is not None:
            # throttled through every retry: the others hold back as well
            self.budget.pause(_retry_after(response) or const.THROTTLE_PAUSE_SECONDS)
        self._read_body(response, method, url, params, body)
        _logger.debug(
            "AvidXchange %s %s -> %s in %.3f s",
            method,
            urlsplit(url).path,
            response.status_code,
            response.avx_duration,
        )
        return response

    def _read_body(self, response, method, url, params, body):
        """Read the answer's body, ``max_answer_bytes`` at most: an answer
        that never ends (or a huge one) is not read into memory whole."""
        error, where = None, f"{method} {urlsplit(url).path}"
        try:
            content = response.raw.read(self.max_answer_bytes + 1, decode_content=True)
        except (requests.exceptions.RequestException, OSError, ValueError) as exc:
            content = b""
            error = RetryableError(f"AvidXchange's answer to {where} broke off ({_cause(exc)}).")
        if len(content) > self.max_answer_bytes:
            content = b""
            error = InvalidResponseError(
                f"AvidXchange answered {where} with more than {self.max_answer_bytes:,} bytes: "
                "not read. A smaller page size may help (connection, Technical tab).",
                status=response.status_code,
            )
        response._content = content
        if error is None:
            response.raw.release_conn()  # read to its end: the connection is kept alive
            return
        response.close()  # the rest is never read: drop the connection
        self._record(response, method, url, params, body, error=error)
        raise error

    def _retry(self, started):
        return _CycleRetry(
            total=self.max_attempts - 1,
            connect=self.max_attempts - 1,
            read=self.max_attempts - 1,
            status=self.max_attempts - 1,
            other=0,
            # POST is safe to repeat here: the token endpoint has no side effect
            # and an invoice sent twice answers 409 with the first one.
            allowed_methods=frozenset({"GET", "PUT", "POST"}),
            status_forcelist=const.RETRYABLE_STATUSES,
            backoff_factor=self.backoff_factor,
            backoff_cap=self.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            deadline=started + self.total_timeout,
            on_throttle=self.budget.pause if self.budget is not None else None,
        )

    def _answer(self, response, method, url, params=None, body=None, accept=(), keep_bodies=True):
        """Map a final answer to its parsed body or to a typed error, and record
        the exchange with that outcome."""
        try:
            answer = self._parse(response, accept)
        except AvidXchangeError as error:
            self._record(response, method, url, params, body, keep_bodies, error)
            raise
        self._record(response, method, url, params, body, keep_bodies)
        return answer

    def _parse(self, response, accept):
        code = response.status_code
        if code in const.RETRYABLE_STATUSES:
            raise RetryableError(
                f"AvidXchange is {'throttling requests' if code == 429 else 'unavailable'} "
                f"(HTTP {code}) and stayed so through every retry; the next cycle will try again.",
                status=code,
            )
        if code >= 300 and code not in accept:
            reason, detail = _error_words(response)
            message = f"AvidXchange refused the request (HTTP {code})"
            if reason or detail:
                message += ": " + " — ".join(w for w in (reason, detail) if w)
            raise PermanentError(self._scrub(message), status=code, reason=reason, detail=detail)
        if code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise InvalidResponseError(
                f"AvidXchange answered HTTP {code} with a body that is not JSON.", status=code
            ) from None

    def _record(
        self,
        response,
        method,
        url,
        params=None,
        body=None,
        keep_bodies=True,
        error=None,
        duration=None,
        attempts=None,
    ):
        """Hand one exchange to the recorder, redacted."""
        if not self.recorder:
            return
        parts = urlsplit(requests.Request(method, url, params=params).prepare().url)
        path = parts.path[len(urlsplit(self.base_url).path) :]
        self.recorder(
            Exchange(
                method=method,
                path=path + (f"?{parts.query}" if parts.query else ""),
                status=None if response is None else response.status_code,
                duration=response.avx_duration if response is not None else duration,
                attempts=response.avx_attempts if response is not None else attempts,
                request_body=redacted_text(body, self._scrub) if keep_bodies else None,
                response_body=(
                    redacted_text(response.content, self._scrub)
                    if keep_bodies and response is not None
                    else None
                ),
                error=None if error is None else str(error),
                operation=self._about[0],
                record=self._about[1],
            )
        )

    def _scrub(self, text):
        """Last line of defence: no secret value leaves, whatever the key."""
        if text:
            for secret in self._secrets:
                text = text.replace(secret, const.REDACTED)
        return text

    # === ANSWER SHAPES === #

    def _check_page(self, page):
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise InvalidResponseError("The AvidXchange list answer holds no Items.")
        paging = page.get("Paging")
        if not isinstance(paging, dict):
            raise InvalidResponseError("The AvidXchange list answer holds no Paging.")
        next_url = next(
            (
                link.get("Href")
                for link in paging.get("Links") or []
                if isinstance(link, dict) and link.get("Rel") == const.NEXT_LINK_REL
            ),
            None,
        )
        return page["Items"], next_url

    @staticmethod
    def _require(answer, key):
        if not isinstance(answer, dict) or answer.get(key) in (None, ""):
            raise InvalidResponseError(f"The AvidXchange answer holds no {key}.")
        return answer

    @staticmethod
    def _file(answer, what, default_name, limit):
        """``(file name, content type, bytes)`` of a file answer
        (``FileName``, ``ContentType``, ``Content`` in base64), at most
        ``limit`` bytes decoded."""
        answer = AvidXchangeClient._require(answer, "Content")
        name, kind, content = (answer.get(k) for k in ("FileName", "ContentType", "Content"))
        if not (isinstance(name, str) and isinstance(kind, str) and isinstance(content, str)):
            raise InvalidResponseError(f"The {what} has no file name, type or content.")
        too_large = f"The {what} is larger than any file AvidXchange sends."
        if len(content) > limit * 4 // 3 + 4:
            raise InvalidResponseError(too_large)
        try:
            data = base64.b64decode(content, validate=True)
        except ValueError:
            raise InvalidResponseError(f"The {what} is not base64.") from None
        if len(data) > limit:
            raise InvalidResponseError(too_large)
        return name.strip()[:200] or default_name, kind.strip()[:100], data

    @staticmethod
    def _item_results(answer):
        results = answer.get("Results") if isinstance(answer, dict) else None
        if not isinstance(results, list):
            raise InvalidResponseError("The AvidXchange batch answer holds no Results.")
        return [
            ItemResult(
                successful=bool(result.get("Successful")),
                errors=[e.get("Message", "") for e in result.get("Errors") or []],
                item=result.get("Item") or {},
            )
            for result in results
        ]


def _retry_after(response):
    """The seconds a ``Retry-After`` header asks for (a number or a date, as
    urllib3 reads it), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return Retry(0).parse_retry_after(value)
    except (InvalidHeader, ValueError):
        return None


def _iso_utc(timestamp):
    return _format_ts(datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _day(value):
    """A day given as a date (a datetime gives its date)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raise ValueError(f"A day is a date, not {value!r}.")


def _window(modified_from, modified_to):
    """Query bounds from datetimes (naive ones are UTC, as Odoo stores them)."""
    return {
        const.MODIFIED_FROM_PARAM: _format_ts(modified_from),
        const.MODIFIED_TO_PARAM: _format_ts(modified_to),
    }


def _naive_utc(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def _format_ts(moment):
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def _error_words(response):
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    exception = body.get("exception")
    if isinstance(exception, dict):
        return exception.get("reason"), exception.get("detail")
    return body.get("message"), body.get("description")


def _oauth_error(response):
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        code = None
    return code if code in const.OAUTH_ERROR_CODES else f"HTTP {response.status_code}"


def _cause(error):
    # After the last retry, requests wraps urllib3's error: look inside.
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if isinstance(reason, NewConnectionError):  # a subclass of the timeout in urllib3 1.26
        return "connection failed"
    if isinstance(error, requests.exceptions.Timeout) or isinstance(reason, Urllib3Timeout):
        return "timed out"
    if isinstance(error, requests.exceptions.ConnectionError):
        return "connection failed or was dropped"
    return type(error).__name__
