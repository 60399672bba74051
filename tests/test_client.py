"""The AvidXchange client against the simulator, over real HTTP.

Every test asserts what the client did on the wire (exact request counts as
the simulator saw them), not only what it returned.
"""

import datetime
import logging
import math
import time

from ..simulator.tests.common import invoice as simulator_invoice
from ..tools.avidxchange_client import AvidXchangeClient
from ..tools.exceptions import (
    AuthenticationError,
    InvalidResponseError,
    PermanentError,
    RetryableError,
)
from .common import CLIENT_ID, CLIENT_SECRET, COMPANY_ID, SimulatorCase

TOKEN = "/token"
API = "/avidconnect/v1"


def vendor(code="ODOO-1-42", name="Acme Steel"):
    return {"ExternalVendorCode": code, "Name": name, "Active": True}


def invoice(external_id="ODOO-1-1001", vendor_code="ODOO-1-42", amount=1250.0):
    """The simulator tests' invoice, as the client sends a bill."""
    return {
        **simulator_invoice("0042", amount, vendor_code),
        "ExternalInvoiceId": external_id,
        "InvoiceDueDate": "2026-12-20",
        "Distributions": [{"Amount": amount, "Description": "Steel plate"}],
    }


class ClientCase(SimulatorCase):
    def client(self, **options):
        options.setdefault("backoff_factor", 0.01)
        options.setdefault("read_timeout", 5)
        client = AvidXchangeClient(
            self.simulator.base_url, CLIENT_ID, CLIENT_SECRET, COMPANY_ID, **options
        )
        self.addCleanup(client.close)
        return client

    def tokens_for_two_sends(self, between=None, codes=("ODOO-1-1", "ODOO-1-1")):
        """Two vendors sent by one client, ``between(client)`` done in between: the
        tokens it fetched."""
        client = self.client()
        first, second = codes
        client.put_vendor(first, vendor(first))
        if between:
            between(client)
        client.put_vendor(second, vendor(second))
        return self.simulator.count("POST", TOKEN)


class TestClientTokens(ClientCase):
    def test_token_reused_within_its_lifetime(self):
        self.assertEqual(self.tokens_for_two_sends(codes=("ODOO-1-1", "ODOO-1-2")), 1)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/*"), 2)

    def test_new_cycle_fetches_a_new_token(self):
        self.assertEqual(self.tokens_for_two_sends(lambda client: client.start_cycle()), 2)

    def test_token_renewed_when_less_than_a_minute_remains(self):
        self.simulator.set_token_ttl(61)  # valid, but inside the 60 s margin after 1 s
        self.assertEqual(self.tokens_for_two_sends(lambda _client: time.sleep(1.1)), 2)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 2)

    def test_expired_token_answered_401_gets_one_renewal_and_one_retry(self):
        client = self.client()
        client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.simulator.expire_tokens()
        answer = client.put_vendor("ODOO-1-1", vendor("ODOO-1-1", "Acme Steel Inc."))
        self.assertEqual(answer["Name"], "Acme Steel Inc.")
        self.assertEqual(self.simulator.count("POST", TOKEN), 2)
        statuses = [r["status"] for r in self.simulator.requests("PUT", API + "/vendors/*")]
        self.assertEqual(statuses, [201, 401, 200])

    def test_second_401_is_an_authentication_error(self):
        client = self.client()
        client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.simulator.fail_next(2, status=401, path="/vendors")
        with self.assertRaises(AuthenticationError):
            client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertEqual(self.simulator.count("POST", TOKEN), 2)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/*"), 3)

    def test_a_token_that_is_not_text_is_refused_in_words(self):
        answer = {"access_token": 12345, "token_type": "Bearer", "expires_in": 3600}
        self.simulator.answer_next(1, body=answer, path="/token")
        with self.assertRaisesRegex(InvalidResponseError, "no usable access token"):
            self.client().check_connection()

    def test_a_token_without_a_sane_lifetime_is_refused(self):
        for lifetime in (0, -5, "soon", True, 10**12):
            answer = {"access_token": "abc", "token_type": "Bearer", "expires_in": lifetime}
            self.simulator.answer_next(1, body=answer, path="/token")
            with self.assertRaisesRegex(InvalidResponseError, "lifetime", msg=repr(lifetime)):
                self.client().check_connection()
        answer = {"access_token": "abc", "token_type": "Bearer", "expires_in": "3600"}
        self.simulator.answer_next(1, body=answer, path="/token")
        client = self.client()
        client._ensure_token()  # a number as text, as some gateways send it, is fine
        self.assertEqual(client._token, "abc")

    def test_wrong_credentials(self):
        client = AvidXchangeClient(self.simulator.base_url, CLIENT_ID, "wrong", COMPANY_ID)
        self.addCleanup(client.close)
        with self.assertRaises(AuthenticationError) as caught:
            client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertIn("invalid_client", str(caught.exception))
        self.assertEqual(self.simulator.count("POST", TOKEN), 1)  # never retried
        self.assertEqual(self.simulator.count(path=API + "/*"), 0)

    def test_credentials_rejected_by_the_gateway(self):
        self.simulator.reject_credentials(True)
        with self.assertRaises(AuthenticationError):
            self.client().check_connection()
        self.assertEqual(self.simulator.count("POST", TOKEN), 1)

    def test_wrong_company_is_a_permanent_error(self):
        client = AvidXchangeClient(self.simulator.base_url, CLIENT_ID, CLIENT_SECRET, "NOPE")
        self.addCleanup(client.close)
        with self.assertRaises(PermanentError) as caught:
            client.check_connection()
        self.assertEqual(caught.exception.status, 403)


class TestClientRetries(ClientCase):
    def test_429_without_retry_after_backs_off_then_passes(self):
        self.simulator.fail_next(2, status=429, path="/vendors")
        self.client().put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        statuses = [r["status"] for r in self.simulator.requests("PUT", API + "/vendors/*")]
        self.assertEqual(statuses, [429, 429, 201])

    def test_429_retry_after_is_honoured(self):
        self.simulator.fail_next(1, status=429, retry_after=1, path="/vendors")
        client = self.client()
        client.check_connection()  # token first: time only the vendor call
        started = time.monotonic()
        client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertGreaterEqual(time.monotonic() - started, 1.0)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 2)

    def test_retry_after_beyond_the_deadline_is_not_waited_for(self):
        self.simulator.fail_next(1, status=429, retry_after=3600, path="/vendors")
        with self.assertRaises(RetryableError) as caught:
            self.client(total_timeout=5).put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertEqual(caught.exception.status, 429)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 1)

    def test_server_errors_are_retried(self):
        for status in (500, 503):
            with self.subTest(status=status):
                self.simulator.clear_requests()
                self.simulator.fail_next(1, status=status, path="/vendors")
                self.client().put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
                statuses = [r["status"] for r in self.simulator.requests("PUT", API + "/vendors/*")]
                self.assertEqual(statuses[0], status)
                self.assertEqual(len(statuses), 2)

    def test_attempts_are_bounded(self):
        self.simulator.fail_next(10, status=503, path="/vendors")
        with self.assertRaises(RetryableError) as caught:
            self.client(max_attempts=3).put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertEqual(caught.exception.status, 503)
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 3)

    def test_client_errors_are_not_retried(self):
        with self.assertRaises(PermanentError) as caught:
            self.client().put_vendor("ODOO-1-1", {"ExternalVendorCode": "ODOO-1-1"})
        self.assertEqual(caught.exception.status, 422)
        self.assertIn("Name", str(caught.exception))
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 1)

    def test_slow_answer_times_out_and_is_retried(self):
        self.simulator.slow_next(1, seconds=1.5, path="/vendors")
        client = self.client(read_timeout=0.5)
        with self.assertLogs("urllib3.connectionpool", "WARNING"):
            answer = client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertEqual(answer["ExternalVendorCode"], "ODOO-1-1")
        time.sleep(1.2)  # the simulator logs the slow request once it has answered
        self.assertEqual(self.simulator.count("PUT", API + "/vendors/ODOO-1-1"), 2)

    def test_timeouts_through_every_attempt(self):
        self.simulator.slow_next(2, seconds=1.0, path="/vendors")
        client = self.client(read_timeout=0.3, max_attempts=2)
        with (
            self.assertLogs("urllib3.connectionpool", "WARNING"),
            self.assertRaises(RetryableError) as caught,
        ):
            client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertIn("timed out", str(caught.exception))
        self.assertIn("2 attempt(s)", str(caught.exception))

    def test_dropped_connection_is_retried(self):
        self.simulator.drop_next(1, path="/vendors")
        with self.assertLogs("urllib3.connectionpool", "WARNING"):
            self.client().put_vendor("ODOO-1-1", vendor("ODOO-1-1"))
        self.assertEqual(self.simulator.get_vendor(COMPANY_ID, "ODOO-1-1")["Name"], "Acme Steel")

    def test_unreachable_host(self):
        client = AvidXchangeClient(
            "http://127.0.0.1:9",
            CLIENT_ID,
            CLIENT_SECRET,
            COMPANY_ID,
            max_attempts=2,
            backoff_factor=0.01,
        )
        self.addCleanup(client.close)
        with (
            self.assertLogs("urllib3.connectionpool", "WARNING"),
            self.assertRaises(RetryableError) as caught,
        ):
            client.check_connection()
        self.assertIn("connection failed", str(caught.exception))

    def test_malformed_json_is_an_invalid_response(self):
        self.simulator.malformed_next(1, path="/payments")
        with self.assertRaises(InvalidResponseError):
            self.client().check_connection()
        self.assertEqual(self.simulator.count("GET", API + "/payments"), 1)


class TestClientData(ClientCase):
    def setUp(self):
        super().setUp()
        self.api = self.client()
        self.api.put_vendor("ODOO-1-42", vendor())

    def test_invoice_submitted_twice_is_adopted(self):
        first, known = self.api.submit_invoice(invoice())
        self.assertFalse(known)
        again, known = self.api.submit_invoice(invoice())
        self.assertTrue(known)
        self.assertEqual(again["Id"], first["Id"])
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)
        statuses = [r["status"] for r in self.simulator.requests("POST", API + "/invoices")]
        self.assertEqual(statuses, [201, 409])

    def test_invalid_invoice_is_refused_with_the_reason(self):
        bad = invoice()
        bad["Distributions"][0]["Amount"] = 1000.0
        with self.assertRaises(PermanentError) as caught:
            self.api.submit_invoice(bad)
        self.assertEqual(caught.exception.status, 422)
        self.assertTrue(caught.exception.detail or caught.exception.reason)

    def paid(self, count, prefix="ODOO-1-", run=False):
        """``count`` invoices submitted, approved and paid one payment each;
        ``run``: in one payment run, every payment stamped in the same second."""
        self.api.put_vendor("ODOO-1-42", vendor())
        allocations = []
        for n in range(count):
            answer, _known = self.api.submit_invoice(invoice(f"{prefix}{n}", amount=10.0 + n))
            self.simulator.approve_invoice(answer["Id"])
            allocations.append({"allocations": [{"invoice_id": answer["Id"], "amount": 10.0 + n}]})
        if run:
            return self.simulator.pay_run(allocations)
        return [self.simulator.pay(**allocation) for allocation in allocations]

    def read_payments(self, page_size):
        """Every payment changed in the last minutes, as a client with
        ``page_size`` reads them, and the requests it took."""
        now = datetime.datetime.now(datetime.timezone.utc)
        self.simulator.clear_requests()
        client = self.client(page_size=page_size)
        items = list(
            client.iter_payments(
                now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=5)
            )
        )
        return items, self.simulator.count("GET", API + "/payments")

    def test_paging_follows_next_links_to_the_last_page(self):
        ids = [payment["PaymentId"] for payment in self.paid(7)]
        items, requests = self.read_payments(3)
        # Each page after the first also holds the record read last, to check
        # that the list did not move under the read.
        self.assertEqual([item["PaymentId"] for item in items], ids, "each once, in order")
        self.assertLessEqual(requests, 5)

    def test_payments_sharing_one_stamp_are_each_read_once(self):
        """A payment run stamps its whole batch in one second, more than a page
        holds: every payment is read, once, in a bounded number of requests,
        whatever the page size."""
        for count, page_size in ((150, 100), (7, 1)):
            with self.subTest(count=count, page_size=page_size):
                self.simulator.reset()
                run = self.paid(count, prefix=f"RUN-{count}-", run=True)
                self.assertEqual(len({payment["LastModifiedDate"] for payment in run}), 1)
                items, requests = self.read_payments(page_size)
                self.assertEqual(
                    sorted(item["PaymentId"] for item in items),
                    sorted(payment["PaymentId"] for payment in run),
                )
                self.assertLessEqual(requests, math.ceil(count / page_size) + 1)

    def test_a_payment_changed_while_its_page_is_built_hides_no_other(self):
        """AvidXchange clears a payment of a backlog while it builds the first
        page: that page shows it with its new, latest stamp among older ones,
        wherever it stands on the page; the read still reaches every other."""
        for positions in ([0], [1], [2], [3], [4], [3, 4], [0, 4]):
            with self.subTest(positions=positions):
                self.simulator.reset()
                backlog = self.paid(12, prefix=f"BACKLOG-{len(positions)}-{positions[0]}-")
                changed_ones = [backlog[p]["PaymentId"] for p in positions]
                changed = changed_ones[-1]
                self.simulator.call_amid(
                    lambda changed_ones=changed_ones: [
                        self.simulator.clear_payment(c) for c in changed_ones
                    ],
                    path="/payments",
                    method="GET",
                )
                items, _requests = self.read_payments(5)
                self.assertEqual(
                    {item["PaymentId"] for item in items},
                    {payment["PaymentId"] for payment in backlog},
                )
                last = [item for item in items if item["PaymentId"] == changed][-1]
                self.assertEqual(last["Status"]["Description"], "Cleared")

    def test_a_payment_of_a_run_that_changes_while_the_run_is_paged_hides_no_other(self):
        """A payment of a run already read clears while the next page is asked
        for: the run, one shorter now, is not read one payment too far."""
        run = self.paid(150, prefix="SHRINK-", run=True)
        self.simulator.call_before(
            lambda: self.simulator.clear_payment(run[4]["PaymentId"]),
            path="/payments",
            method="GET",
            skip=1,
        )
        items, requests = self.read_payments(100)
        self.assertEqual(
            sorted({item["PaymentId"] for item in items}),
            sorted(payment["PaymentId"] for payment in run),
        )
        statuses = [
            i["Status"]["Description"] for i in items if i["PaymentId"] == run[4]["PaymentId"]
        ]
        self.assertEqual(statuses, ["Issued", "Cleared"], "read once as it was, once as it is")
        self.assertLessEqual(requests, 5)

    def test_single_records_and_purchase_orders(self):
        answer, _known = self.api.submit_invoice(invoice())
        self.assertEqual(self.api.get_invoice(answer["Id"])["Status"], "Received")
        self.simulator.approve_invoice(answer["Id"])
        paid = self.simulator.pay([{"invoice_id": answer["Id"], "amount": 1250.0}], method="ACH")
        self.assertEqual(self.api.get_payment(paid["PaymentId"])["Amount"], 1250.0)
        with self.assertRaises(PermanentError) as caught:
            self.api.get_payment("PAY-404")
        self.assertEqual(caught.exception.status, 404)
        order = {
            "ExternalPurchaseOrderCode": "P00017",
            "VendorExternalSystemID": "ODOO-1-42",
            "OrderDate": "2026-11-01",
            "Currency": "USD",
            "Total": 1000.0,
            "Status": "Open",
            "Lines": [
                {
                    "LineNumber": 1,
                    "Description": "Steel plate",
                    "Quantity": 10,
                    "UnitPrice": 100.0,
                    "Amount": 1000.0,
                }
            ],
        }
        self.api.put_purchase_order("P00017", order)
        self.assertEqual(len(self.simulator.purchase_orders(COMPANY_ID)), 1)

    def page_of_one(self, item, next_path, **paging):
        """Page 1 of ``item`` alone, its ``next`` link to ``next_path``, ``paging`` besides."""
        link = {"Rel": "next", "Href": self.simulator.api_url + next_path}
        return {
            "Items": [item],
            "Paging": {"PageNumber": 1, "PageSize": 1, **paging, "Links": [link]},
        }

    def test_paging_stops_at_the_last_page_whatever_the_links_say(self):
        item = {"PaymentId": "PAY-1", "LastModifiedDate": "2026-11-24T10:00:00Z"}
        endless = self.page_of_one(item, "/payments?pageNumber=2", Pages=1, TotalItems=1)
        self.simulator.answer_next(50, body=endless, path="/payments")
        since = datetime.datetime(2026, 11, 24, 9)
        items = list(self.api.iter_payments(since, since + datetime.timedelta(days=1)))
        self.assertEqual(items, [item])
        self.assertEqual(self.simulator.count("GET", API + "/payments"), 1)

    def test_paging_stops_when_the_same_page_comes_again(self):
        """A server that ignores the page asked for (no ``Pages``, always a
        next link) is stopped at its first repeated page, not 1,000 later."""
        item = {"PaymentId": "PAY-1", "LastModifiedDate": "2026-11-24T10:00:00Z"}
        same = self.page_of_one(item, "/payments")
        self.simulator.answer_next(50, body=same, path="/payments")
        since = datetime.datetime(2026, 11, 24, 9)
        with self.assertRaisesRegex(InvalidResponseError, "the same page"):
            list(self.api.iter_payments(since, since + datetime.timedelta(days=1)))
        self.assertEqual(self.simulator.count("GET", API + "/payments"), 2)

    def test_an_answer_is_read_up_to_a_size_limit(self):
        """However large (or endless) an answer, no more than the limit is
        read: a typed error, and the exchange says why."""
        exchanges = []
        client = self.client(max_answer_bytes=2000, recorder=exchanges.append)
        client.put_vendor("ODOO-1-1", vendor("ODOO-1-1"))  # a small answer passes
        self.simulator.answer_next(1, body={"Items": ["x" * 5000], "Paging": {}}, path="/payments")
        since = datetime.datetime(2026, 11, 24, 9)
        with self.assertRaisesRegex(InvalidResponseError, "more than 2,000 bytes"):
            list(client.iter_payments(since, since + datetime.timedelta(days=1)))
        self.assertIn("more than 2,000 bytes", exchanges[-1].error)
        self.assertNotIn("xxxx", exchanges[-1].response_body or "")  # nothing of it kept

    def test_per_item_failures_in_a_batch(self):
        results = self.api.put_enterprise_codes(
            [
                {"GroupName": "Accounting Codes", "CodeValue": "600000", "IsActive": True},
                {"GroupName": "Accounting Codes", "IsActive": True},
            ]
        )
        self.assertEqual([r.successful for r in results], [True, False])
        self.assertTrue(results[1].errors and results[1].errors[0])
        self.assertEqual(len(self.simulator.enterprise_codes(COMPANY_ID)), 1)


class TestClientSecrets(ClientCase):
    def test_no_secret_in_logs_or_exchanges(self):
        exchanges = []
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            client = self.client(recorder=exchanges.append)
            client.put_vendor("ODOO-1-42", vendor())
            token = client._token
            self.simulator.expire_tokens()
            self.simulator.fail_next(1, status=429, path="/invoices")
            client.submit_invoice(invoice())
            client.submit_invoice(invoice())
            self.simulator.reject_credentials(True)
            client.start_cycle()
            with self.assertRaises(AuthenticationError) as caught:
                client.check_connection()
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
        self.assertTrue(token)
        texts = [record.getMessage() for record in records]
        texts += [repr(exchange) for exchange in exchanges]
        texts.append(str(caught.exception))
        for secret in (CLIENT_SECRET, token, client._basic.split()[1]):
            leaks = [text for text in texts if secret in text]
            self.assertFalse(leaks, "a secret reached a log record or an exchange")
        self.assertEqual(
            [(e.method, e.path.split("?")[0], e.status, e.attempts) for e in exchanges],
            [
                ("POST", "/token", 200, 1),
                ("PUT", API + "/vendors/ODOO-1-42", 201, 1),
                ("POST", API + "/invoices", 401, 2),  # 429, then the expired token
                ("POST", "/token", 200, 1),
                ("POST", API + "/invoices", 201, 1),
                ("POST", API + "/invoices", 409, 1),
                ("POST", "/token", 401, 1),
            ],
        )
        self.assertIsNone(exchanges[0].response_body)  # token answers are never kept
        self.assertIn("refused the client id and secret", exchanges[-1].error)
        self.assertEqual([e.error is None for e in exchanges], [True] * 6 + [False])
        self.assertIn('"ExternalInvoiceId": "ODOO-1-1001"', exchanges[4].request_body)
