"""The AvidXchange simulator's own behaviour, over real HTTP with plain ``requests``.

The client tests (``test_client.py``) trust the simulator to follow the API contract:
if it does not, they pass or fail for the wrong reason. These tests pin down what the
client tests do not reach: tokens and routing, the validation of bodies and query
parameters, paging and modification windows, the invoice and payment lifecycle that
tests drive by hand (credit memos included), the sub-resources (attachments, payment
history, cleared check images) and per-company isolation. They bypass the client on
purpose, so that a bug in one cannot hide a bug in the other. The simulator's own tools
(the ``/_sim`` admin API, faults, auto-advance, ``python -m simulator``) are tested
without Odoo in ``simulator/tests``.
"""

import base64
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tools.pdf import PdfReader

from ..simulator.tests.common import ApiMixin, detail, get_token, invoice, vendor
from ..simulator.validation import MAX_ATTACHMENT_BYTES
from .common import CLIENT_SECRET, COMPANY_ID, SimulatorCase

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the simulator's LastModifiedDate
OTHER_CLIENT, OTHER_SECRET, OTHER_COMPANY = "other-client", "other-secret", "AVX-COMPANY-2"
DEFAULT_GL_POSTING = {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "101200"}


def timestamp(moment):
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text):
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def credit_memo(number, amount=30.0, vendor_code="V-1"):
    return {
        **invoice(number, amount, vendor_code),
        "ExternalInvoiceId": f"EXT-CM-{number}",
        "Number": f"CM-{number}",
        "InvoiceType": "CreditMemo",
    }


class ApiCase(ApiMixin, SimulatorCase):
    """``self.api`` is a session for the default client; the request log starts empty."""

    def assert_refused(self, method, path, cases):
        """Each ``(body, expected)`` of ``cases`` sent to ``path`` is a 422 saying ``expected``."""
        for body, expected in cases:
            with self.subTest(expected=expected, body=body):
                answer = self.api.request(method, path, json=body)
                self.assertEqual(answer.status_code, 422)
                self.assertIn(expected, detail(answer))


class TestSimulatorAuth(ApiCase):
    """Token endpoint, bearer tokens, the company header, and what the log keeps."""

    def test_token_answer(self):
        answer = get_token(self.simulator.base_url)
        self.assertEqual(answer.status_code, 200)
        body = answer.json()
        self.assertEqual(sorted(body), ["access_token", "expires_in", "scope", "token_type"])
        self.assertEqual((body["token_type"], body["expires_in"]), ("Bearer", 3600))
        self.assertEqual(answer.headers["Cache-Control"], "no-store")

    def test_token_refusals(self):
        base_url = self.simulator.base_url
        wrong = get_token(base_url, secret="not-the-secret")
        self.assertEqual((wrong.status_code, wrong.json()["error"]), (401, "invalid_client"))
        self.assertEqual(wrong.headers["WWW-Authenticate"], 'Basic realm="AvidXchange"')
        grant = get_token(base_url, grant="password")
        self.assertEqual(
            (grant.status_code, grant.json()["error"]), (400, "unsupported_grant_type")
        )
        self.assertEqual(requests.get(base_url + "/token", timeout=10).status_code, 405)
        self.assertEqual(self.simulator.count("POST", "/token"), 2)

    def test_reject_credentials_until_faults_are_cleared(self):
        self.simulator.reject_credentials(True)
        self.assertEqual(get_token(self.simulator.base_url).status_code, 401)
        self.simulator.clear_faults()
        self.assertEqual(get_token(self.simulator.base_url).status_code, 200)

    def test_ping_names_the_company(self):
        answer = self.api.get("/ping")
        self.assertEqual(answer.status_code, 200)
        expected = {"CompanyId": COMPANY_ID, "Name": f"AvidXchange Company {COMPANY_ID}"}
        self.assertEqual(answer.json(), expected)

    def test_no_token_is_401(self):
        answer = requests.get(
            self.simulator.api_url + "/ping", headers={"X-Avid-Company-Id": COMPANY_ID}, timeout=10
        )
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(answer.headers["WWW-Authenticate"], 'Bearer realm="AvidXchange"')

    def test_expired_token_is_401(self):
        self.simulator.set_token_ttl(0)  # tokens issued from now on are born expired
        answer = self.session().get("/ping")
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(detail(answer), "Access token expired")
        self.assertEqual(self.api.get("/ping").status_code, 200)  # older tokens keep their TTL

    def test_expire_tokens_invalidates_issued_ones(self):
        self.simulator.expire_tokens()
        answer = self.api.get("/ping")
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(detail(answer), "Invalid access token")

    def test_company_header(self):
        foreign = self.api.get("/ping", headers={"X-Avid-Company-Id": "AVX-OTHER"})
        self.assertEqual(foreign.status_code, 403)
        self.assertEqual(detail(foreign), "Client may not access company AVX-OTHER")
        missing = self.api.get("/ping", headers={"X-Avid-Company-Id": None})
        self.assertEqual(missing.status_code, 400)

    def test_request_log_keeps_no_secret(self):
        self.api.put("/vendors/V-1", json=vendor())
        get_token(self.simulator.base_url, secret="wrong-secret-Zq81")
        logged = json.dumps(self.simulator.requests())
        for secret in (CLIENT_SECRET, "wrong-secret-Zq81", self.api.token, "Bearer"):
            self.assertNotIn(secret, logged)
        entry = self.simulator.requests("PUT")[0]
        self.assertEqual(entry["path"], "/avidconnect/v1/vendors/V-1")
        self.assertEqual((entry["status"], entry["company_id"]), (201, COMPANY_ID))
        self.assertIs(entry["authorization"], True)
        self.assertEqual(entry["body"], vendor())


class TestSimulatorRouting(ApiCase):
    """Paths, methods, query parameters and bodies the API refuses before any data."""

    def test_unknown_paths_are_404(self):
        self.add_vendor()
        self.add_invoice(1)
        paths = (
            "/nothing",
            "/invoices/INV-1/lines",
            "/vendors/",
            "/invoices/INV-404",
            "/invoices/INV-1/attachments/ATT-1",
            "/invoices//attachments",
            "/ping/1",
        )
        for path in paths:
            with self.subTest(path=path):
                self.assertEqual(self.api.get(path).status_code, 404)
        outside = self.api.get(self.simulator.base_url + "/elsewhere")
        self.assertEqual(outside.status_code, 404)

    def test_wrong_method_is_405_with_allow(self):
        answer = self.api.delete("/invoices")
        self.assertEqual(answer.status_code, 405)
        self.assertEqual(answer.headers["Allow"], "GET, POST")

    def test_bad_query_parameters_are_400(self):
        cases = {
            "foo=1": "Unknown query parameter(s): foo",
            "pageSize=501": "pageSize: at most 500",
            "pageSize=0": "pageSize: expected a positive integer",
            "pageSize=%C2%B2": "pageSize: expected a positive integer",  # "²" is a digit
            "pageNumber=two": "pageNumber: expected a positive integer",
            "pageNumber=1&pageNumber=2": "given more than once: pageNumber",
            "lastModifiedFrom=2026-11-24T10:15:00": "lastModifiedFrom: expected an ISO 8601",
            "lastModifiedTo=yesterday": "lastModifiedTo: expected an ISO 8601",
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                answer = self.api.get("/payments?" + query)
                self.assertEqual(answer.status_code, 400)
                self.assertIn(expected, detail(answer))
        self.assertEqual(self.api.get("/ping?pageSize=5").status_code, 400)  # lists only
        self.assertEqual(self.api.get("/payments?pageSize=500").status_code, 200)

    def test_malformed_json_body_is_400(self):
        for raw in (b'{"Name": ', b'{"GrossAmount": NaN}', b"\xff\xfe"):
            with self.subTest(raw=raw):
                answer = self.api.post(
                    "/invoices", data=raw, headers={"Content-Type": "application/json"}
                )
                self.assertEqual(answer.status_code, 400)
                self.assertIn("Malformed JSON body", detail(answer))
        self.assertEqual(self.simulator.invoices(), [])


class TestSimulatorValidation(ApiCase):
    """Vendor and invoice bodies: what is stored, and the 409/422 refusals."""

    def test_vendor_put_is_idempotent(self):
        first = self.api.put("/vendors/V-1", json=vendor())
        again = self.api.put("/vendors/V-1", json=vendor())
        self.assertEqual((first.status_code, again.status_code), (201, 200))
        self.assertEqual(again.json(), first.json())  # same Id, same LastModifiedDate
        changed = self.api.put("/vendors/V-1", json=vendor(name="Acme Inc."))
        self.assertEqual(changed.status_code, 200)
        self.assertEqual(changed.json()["Id"], first.json()["Id"])
        self.assertGreater(changed.json()["LastModifiedDate"], first.json()["LastModifiedDate"])

    def test_vendor_refusals_are_422(self):
        cases = [
            ({"ExternalVendorCode": "V-1"}, "Name: is required"),
            ({**vendor(), "Name": "  "}, "Name: is required and must not be empty"),
            ({**vendor(), "Email": ""}, 'Email: must not be ""'),
            ({**vendor(), "Website": False}, "Website: must not be false"),
            (vendor("V-2"), "'V-2' does not match the path 'V-1'"),
        ]
        self.assert_refused("PUT", "/vendors/V-1", cases)
        self.assertEqual(self.simulator.vendors(), [])

    def test_invoice_is_received(self):
        self.add_vendor()
        answer = self.api.post("/invoices", json=invoice(1, 100.0))
        self.assertEqual(answer.status_code, 201)
        expected = {"Id": "INV-1", "ExternalInvoiceId": "EXT-1", "Status": "Received"}
        self.assertEqual(answer.json(), expected)
        stored = self.api.get("/invoices/INV-1").json()
        self.assertEqual(stored["Balance"], 100.0)
        self.assertEqual((stored["AmountPaid"], stored["DiscountTaken"]), (0.0, 0.0))

    def test_duplicate_invoice_is_409_with_the_stored_one(self):
        self.add_vendor()
        first = self.api.post("/invoices", json=invoice(1, 100.0))
        again = self.api.post("/invoices", json=invoice(1, 75.0))
        self.assertEqual(again.status_code, 409)
        self.assertEqual(again.json()["Item"], first.json())
        self.assertEqual(self.simulator.get_invoice("INV-1")["GrossAmount"], 100.0)
        self.assertEqual(len(self.simulator.invoices()), 1)

    def test_invoice_refusals_are_422(self):
        self.add_vendor()
        text_line = invoice(5, 10.0)
        text_line["Distributions"][0]["Amount"] = "10.00"
        cases = [
            (invoice(1, vendor_code="NOPE"), "VendorExternalSystemID: unknown vendor 'NOPE'"),
            ({**invoice(2, 10.0), "GrossAmount": 10.02}, "add up to 10.00, not GrossAmount 10.02"),
            ({**invoice(3, 10.0), "GrossAmount": "10.00"}, "GrossAmount: must be a JSON number"),
            ({**invoice(4, 10.0), "GrossAmount": 10.001}, "GrossAmount: must have at most two"),
            (text_line, "Distributions[0].Amount: must be a JSON number"),
            ({**invoice(6), "Distributions": []}, "Distributions: must not be empty"),
        ]
        self.assert_refused("POST", "/invoices", cases)
        self.assertEqual(self.simulator.invoices(), [])

    def test_distributions_may_differ_by_one_cent(self):
        self.add_vendor()
        answer = self.api.post("/invoices", json={**invoice(1, 10.0), "GrossAmount": 10.01})
        self.assertEqual(answer.status_code, 201)


class TestSimulatorPaging(ApiCase):
    """``next`` links across pages, and inclusive ``lastModifiedFrom/To`` windows."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.ids = [self.add_invoice(n, 10.0) for n in range(7)]
        self.stamps = [self.simulator.get_invoice(i)["LastModifiedDate"] for i in self.ids]
        self.simulator.clear_requests()

    def listed(self, **window):
        answer = self.api.get("/invoices", params=window)
        self.assertEqual(answer.status_code, 200, answer.text)
        return [item["Id"] for item in answer.json()["Items"]]

    def test_a_window_over_thirty_days_is_refused(self):
        answer = self.api.get("/invoices", params={"lastModifiedFrom": "2000-01-01T00:00:00Z"})
        self.assertEqual(answer.status_code, 400)
        self.assertIn("more than 30 days", answer.text)
        answer = self.api.get(
            "/invoices",
            params={
                "lastModifiedFrom": "2026-01-01T00:00:00Z",
                "lastModifiedTo": "2026-01-31T00:00:00Z",
            },
        )
        self.assertEqual(answer.status_code, 200, answer.text)

    def test_next_links_lead_to_the_last_page(self):
        since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        url, pages = f"/invoices?pageSize=3&lastModifiedFrom={since}", []
        while url:
            pages.append(self.api.get(url).json())
            links = pages[-1]["Paging"]["Links"]
            url = next((link["Href"] for link in links if link["Rel"] == "next"), None)
        self.assertEqual(self.simulator.count("GET", "/invoices"), 3)
        items = [[item["Id"] for item in page["Items"]] for page in pages]
        self.assertEqual(items, [self.ids[0:3], self.ids[3:6], self.ids[6:]])
        paging = [page["Paging"] for page in pages]
        self.assertEqual([p["PageNumber"] for p in paging], [1, 2, 3])
        self.assertEqual(
            {(p["Pages"], p["TotalItems"], p["PageSize"]) for p in paging}, {(3, 7, 3)}
        )
        self.assertEqual(paging[-1]["Links"], [])
        href = urlsplit(paging[0]["Links"][0]["Href"])
        self.assertEqual(
            f"{href.scheme}://{href.netloc}{href.path}", self.api.api_url + "/invoices"
        )
        self.assertEqual(
            parse_qs(href.query),
            {"pageSize": ["3"], "pageNumber": ["2"], "lastModifiedFrom": [since]},
        )

    def test_single_page_has_no_next_link(self):
        page = self.api.get("/invoices").json()["Paging"]
        self.assertEqual((page["Pages"], page["PageSize"], page["Links"]), (1, 100, []))
        empty = self.api.get("/payments").json()
        self.assertEqual(empty["Paging"]["TotalItems"], 0)
        self.assertEqual((empty["Items"], empty["Paging"]["Links"]), ([], []))

    def test_window_bounds_are_inclusive(self):
        ids, stamps = self.ids, self.stamps
        self.assertEqual(
            self.listed(lastModifiedFrom=stamps[2], lastModifiedTo=stamps[4]), ids[2:5]
        )
        self.assertEqual(
            self.listed(lastModifiedFrom=stamps[3], lastModifiedTo=stamps[3]), [ids[3]]
        )
        self.assertEqual(self.listed(lastModifiedTo=stamps[1]), ids[:2])
        self.assertEqual(self.listed(lastModifiedFrom=stamps[6]), ids[6:])

    def test_window_in_other_notations(self):
        moment = parse_timestamp(self.stamps[3])
        offset = moment.astimezone(timezone(timedelta(hours=-5))).isoformat("T", "microseconds")
        self.assertEqual(self.listed(lastModifiedFrom=offset, lastModifiedTo=offset), [self.ids[3]])
        nanoseconds = self.stamps[3][:-1] + "999Z"  # beyond microseconds: truncated
        window = {"lastModifiedFrom": nanoseconds, "lastModifiedTo": nanoseconds}
        self.assertEqual(self.listed(**window), [self.ids[3]])
        last = parse_timestamp(self.stamps[-1])
        minutes = timestamp(last + timedelta(minutes=1))[:16] + "+0000"  # after all, no seconds
        self.assertEqual(self.listed(lastModifiedFrom=minutes), [])
        self.assertEqual(self.listed(lastModifiedTo=minutes), self.ids)


class TestSimulatorInvoiceLifecycle(ApiCase):
    """Approval and rejection, as tests drive them and clients then read them."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.invoice_id = self.add_invoice(1, 100.0)

    def fetch(self):
        """The invoice as ``GET /invoices/{Id}`` answers it, less its ``InvoiceUrl``
        (built for the caller, so not among the stored fields)."""
        answer = self.api.get(f"/invoices/{self.invoice_id}")
        self.assertEqual(answer.status_code, 200)
        found = answer.json()
        self.assertEqual(found.pop("InvoiceUrl"), self.simulator.invoice_url(self.invoice_id))
        return found

    def test_get_answers_status_and_invoice_url(self):
        found = self.api.get(f"/invoices/{self.invoice_id}").json()
        self.assertEqual(found["Status"], "Received")
        url = f"{self.simulator.base_url}/app/invoices/{self.invoice_id}"
        self.assertEqual(found["InvoiceUrl"], url)
        self.assertNotIn("InvoiceUrl", self.simulator.get_invoice(self.invoice_id))
        listed = self.api.get("/invoices").json()["Items"]
        self.assertEqual(listed, [self.simulator.get_invoice(self.invoice_id)])
        self.assertEqual(self.api.get(f"/invoices/{self.invoice_id}?foo=1").status_code, 400)

    def test_invoice_url_is_not_taken_from_the_client(self):
        sent = {**invoice(2), "InvoiceUrl": "https://evil.example/x"}
        invoice_id = self.api.post("/invoices", json=sent).json()["Id"]
        found = self.api.get(f"/invoices/{invoice_id}").json()
        self.assertEqual(found["InvoiceUrl"], self.simulator.invoice_url(invoice_id))
        self.assertNotIn("InvoiceUrl", self.simulator.get_invoice(invoice_id))

    def test_approve(self):
        received = self.fetch()
        approved = self.simulator.approve_invoice(self.invoice_id)
        self.assertEqual(approved["Status"], "Approved")
        self.assertGreater(approved["LastModifiedDate"], received["LastModifiedDate"])
        self.assertEqual(self.fetch(), approved)
        self.assertEqual(self.simulator.approve_invoice(self.invoice_id), approved)  # no change

    def test_reject_with_reason(self):
        self.simulator.reject_invoice(self.invoice_id, reason="Duplicate of INV-7")
        rejected = self.fetch()
        self.assertEqual(rejected["Status"], "Rejected")
        self.assertEqual(rejected["RejectionReason"], "Duplicate of INV-7")
        with self.assertRaisesRegex(ValueError, "Cannot approve invoice in status Rejected"):
            self.simulator.approve_invoice(self.invoice_id)
        with self.assertRaisesRegex(ValueError, "is Rejected, not payable"):
            self.simulator.pay([{"invoice_id": self.invoice_id}])

    def test_partly_paid_invoice_cannot_be_rejected(self):
        self.simulator.pay([{"invoice_id": self.invoice_id, "amount": 10.0}])
        with self.assertRaisesRegex(ValueError, "partly paid"):
            self.simulator.reject_invoice(self.invoice_id)
        self.assertEqual(self.fetch()["Status"], "Approved")

    def test_unknown_invoice(self):
        with self.assertRaises(KeyError):
            self.simulator.approve_invoice("INV-404")
        self.assertIsNone(self.simulator.get_invoice("INV-404"))


def attachment(name="BILL-1.pdf", data=b"%PDF-1.4 bill", content_type="application/pdf"):
    encoded = base64.b64encode(data).decode("ascii")
    return {"FileName": name, "ContentType": content_type, "Content": encoded}


class TestSimulatorAttachments(ApiCase):
    """``POST /invoices/{Id}/attachments``: kept once per file, refused when wrong or too big."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.invoice_id = self.add_invoice(1)
        self.path = f"/invoices/{self.invoice_id}/attachments"

    def test_a_file_is_kept_for_the_invoice(self):
        before = self.simulator.get_invoice(self.invoice_id)
        answer = self.api.post(self.path, json=attachment())
        self.assertEqual((answer.status_code, answer.json()), (201, {"Id": "ATT-1"}))
        kept = {
            "Id": "ATT-1",
            "FileName": "BILL-1.pdf",
            "ContentType": "application/pdf",
            "Size": 13,
            "Content": attachment()["Content"],
        }
        self.assertEqual(self.simulator.attachments(self.invoice_id), [kept])
        url = f"{self.simulator.base_url}/_sim/attachments"
        over_http = requests.get(url, params={"invoice_id": self.invoice_id}, timeout=10)
        self.assertEqual(over_http.json(), {"result": [kept]})
        self.assertEqual(self.simulator.get_invoice(self.invoice_id), before)  # unchanged
        self.assertEqual(self.simulator.requests("POST", self.path)[0]["status"], 201)

    def test_the_same_file_again_answers_the_id_kept(self):
        first = self.api.post(self.path, json=attachment()).json()["Id"]
        again = self.api.post(self.path, json=attachment(content_type="application/x-pdf"))
        self.assertEqual((again.status_code, again.json()), (200, {"Id": first}))
        renamed = self.api.post(self.path, json=attachment(name="BILL-1-copy.pdf"))
        changed = self.api.post(self.path, json=attachment(data=b"%PDF-1.4 other"))
        self.assertEqual((renamed.status_code, changed.status_code), (201, 201))
        other_invoice = self.add_invoice(2)
        elsewhere = self.api.post(f"/invoices/{other_invoice}/attachments", json=attachment())
        self.assertEqual(elsewhere.status_code, 201)
        kept = [a["Id"] for a in self.simulator.attachments(self.invoice_id)]
        self.assertEqual(kept, [first, renamed.json()["Id"], changed.json()["Id"]])
        self.assertEqual(len(self.simulator.attachments(other_invoice)), 1)

    def test_refusals_are_422(self):
        cases = [
            ({**attachment(), "FileName": None}, "FileName: is required"),
            ({**attachment(), "ContentType": ""}, "ContentType: is required"),
            ({**attachment(), "ContentType": "pdf"}, "ContentType: must be a media type"),
            ({**attachment(), "Content": None}, "Content: is required"),
            ({**attachment(), "Content": 12}, "Content: must be a string"),
            ({**attachment(), "Content": "not base64!"}, "Content: must be base64"),
            ({**attachment(), "Content": "QUJD\nREVG"}, "Content: must be base64"),
            ({**attachment(), "Content": "QUJDRA="}, "Content: must be base64"),  # padding
            ({**attachment(), "Content": "é"}, "Content: must be base64"),
            ([attachment()], "body: must be a JSON object"),
        ]
        self.assert_refused("POST", self.path, cases)
        self.assertEqual(self.simulator.attachments(self.invoice_id), [])

    def test_more_than_ten_megabytes_is_413(self):
        largest = attachment(data=b"x" * MAX_ATTACHMENT_BYTES)
        self.assertEqual(self.api.post(self.path, json=largest).status_code, 201)
        too_large = attachment(name="BIG.pdf", data=b"x" * (MAX_ATTACHMENT_BYTES + 1))
        answer = self.api.post(self.path, json=too_large)
        self.assertEqual(answer.status_code, 413)
        self.assertIn(f"at most {MAX_ATTACHMENT_BYTES}", detail(answer))
        self.assertEqual(MAX_ATTACHMENT_BYTES, 10 * 1024 * 1024)
        self.assertEqual(len(self.simulator.attachments(self.invoice_id)), 1)

    def test_unknown_invoice_method_and_query(self):
        answer = self.api.post("/invoices/INV-404/attachments", json=attachment())
        self.assertEqual(answer.status_code, 404)
        self.assertEqual(detail(answer), "Invoice INV-404 not found")
        self.assertEqual(self.api.post("/invoices/INV-404/attachments", json={}).status_code, 404)
        wrong_method = self.api.get(self.path)
        self.assertEqual((wrong_method.status_code, wrong_method.headers["Allow"]), (405, "POST"))
        self.assertEqual(self.api.post(self.path + "?foo=1", json=attachment()).status_code, 400)
        no_token = requests.post(self.simulator.api_url + self.path, json=attachment(), timeout=10)
        self.assertEqual(no_token.status_code, 401)
        with self.assertRaises(KeyError):
            self.simulator.attachments("INV-404")

    def test_faults_match_the_sub_resource_path(self):
        self.simulator.fail_next(status=503, path=self.path)
        self.assertEqual(self.api.get(f"/invoices/{self.invoice_id}").status_code, 200)
        self.assertEqual(self.api.post(self.path, json=attachment()).status_code, 503)
        self.assertEqual(self.api.post(self.path, json=attachment()).status_code, 201)
        faults = [entry["fault"] for entry in self.simulator.requests("POST", self.path)]
        self.assertEqual(faults, ["fail", None])


class TestSimulatorPayments(ApiCase):
    """Payments by method, partial, grouped and discounted; clear, void, error, report again."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.first = self.add_invoice(1, 100.0)
        self.second = self.add_invoice(2, 50.0)

    def invoice_state(self, invoice_id):
        found = self.api.get(f"/invoices/{invoice_id}").json()
        return found["Status"], found["AmountPaid"], found["DiscountTaken"], found["Balance"]

    def test_full_payment_by_check_numbers_checks(self):
        one = self.simulator.pay([{"invoice_id": self.first, "amount": 100.0}])
        two = self.simulator.pay([{"invoice_id": self.second}])  # amount: the balance
        self.assertEqual((one["CheckNumber"], two["CheckNumber"]), ("100001", "100002"))
        self.assertEqual(one["PaymentMethod"], {"Id": 1, "Description": "Check"})
        self.assertEqual(one["Status"], {"Id": 3, "Description": "Issued"})
        self.assertEqual((one["Amount"], one["Currency"], one["TraceNumber"]), (100.0, "USD", None))
        self.assertIsNone(one["ClearedDate"])
        line = {"Id": self.first, "ExternalInvoiceId": "EXT-1", "Number": "INV-1"}
        self.assertEqual(one["Invoices"], [{**line, "AmountPaid": 100.0, "Discount": 0.0}])
        self.assertEqual(one["GLPostings"], [{**DEFAULT_GL_POSTING, "Amount": 100.0}])
        self.assertEqual(self.api.get(f"/payments/{one['PaymentId']}").json(), one)
        self.assertEqual(self.invoice_state(self.first), ("Paid", 100.0, 0.0, 0.0))
        self.assertEqual(self.invoice_state(self.second), ("Paid", 50.0, 0.0, 0.0))

    def test_ach_and_virtual_card(self):
        ach = self.simulator.pay([{"invoice_id": self.first}], method="ACH")
        card = self.simulator.pay([{"invoice_id": self.second}], method="VirtualCard")
        self.assertEqual(ach["PaymentMethod"], {"Id": 2, "Description": "ACH"})
        self.assertEqual((ach["TraceNumber"], ach["CheckNumber"]), ("091000019000001", None))
        self.assertEqual(card["PaymentMethod"], {"Id": 3, "Description": "VirtualCard"})
        self.assertEqual((card["TraceNumber"], card["CheckNumber"]), (None, None))

    def test_partial_payments(self):
        self.simulator.pay([{"invoice_id": self.first, "amount": 40.0}])
        self.assertEqual(self.invoice_state(self.first), ("Approved", 40.0, 0.0, 60.0))
        with self.assertRaisesRegex(ValueError, "60.01 exceeds the balance 60.00"):
            self.simulator.pay([{"invoice_id": self.first, "amount": 60.01}])
        self.simulator.pay([{"invoice_id": self.first, "amount": 60.0}])
        self.assertEqual(self.invoice_state(self.first), ("Paid", 100.0, 0.0, 0.0))
        self.assertEqual(len(self.simulator.payments()), 2)

    def test_one_payment_for_several_invoices(self):
        payment = self.simulator.pay(
            [{"invoice_id": self.first, "amount": 100.0}, {"invoice_id": self.second}]
        )
        self.assertEqual(payment["Amount"], 150.0)
        lines = [(line["Id"], line["AmountPaid"]) for line in payment["Invoices"]]
        self.assertEqual(lines, [(self.first, 100.0), (self.second, 50.0)])
        self.assertEqual(payment["GLPostings"], [{**DEFAULT_GL_POSTING, "Amount": 150.0}])
        self.assertEqual(self.invoice_state(self.first)[0], "Paid")
        self.assertEqual(self.invoice_state(self.second)[0], "Paid")

    def test_discount(self):
        given = self.simulator.pay([{"invoice_id": self.first, "amount": 98.0, "discount": 2.0}])
        self.assertEqual((given["Amount"], given["Invoices"][0]["Discount"]), (98.0, 2.0))
        self.assertEqual(self.invoice_state(self.first), ("Paid", 98.0, 2.0, 0.0))
        rest = self.simulator.pay([{"invoice_id": self.second, "discount": 5.0}])  # rest paid
        self.assertEqual(rest["Amount"], 45.0)
        self.assertEqual(self.invoice_state(self.second), ("Paid", 45.0, 5.0, 0.0))

    def test_pending_payment_schedules_until_cleared(self):
        payment = self.simulator.pay([{"invoice_id": self.first}], status="Pending")
        self.assertEqual(self.invoice_state(self.first), ("Scheduled", 100.0, 0.0, 0.0))
        self.simulator.clear_payment(payment["PaymentId"])
        self.assertEqual(self.invoice_state(self.first), ("Paid", 100.0, 0.0, 0.0))

    def test_clear(self):
        issued = self.simulator.pay([{"invoice_id": self.first}])
        cleared = self.simulator.clear_payment(issued["PaymentId"], cleared_date="2026-12-01")
        self.assertEqual(cleared["Status"], {"Id": 4, "Description": "Cleared"})
        self.assertEqual(cleared["ClearedDate"], "2026-12-01")
        self.assertGreater(cleared["LastModifiedDate"], issued["LastModifiedDate"])
        self.assertEqual(self.invoice_state(self.first), ("Paid", 100.0, 0.0, 0.0))
        with self.assertRaisesRegex(ValueError, "is Cleared; cannot become Cleared"):
            self.simulator.clear_payment(issued["PaymentId"])

    def test_void_restores_balances_and_status(self):
        payment = self.simulator.pay(
            [{"invoice_id": self.first, "amount": 40.0}, {"invoice_id": self.second}]
        )
        self.simulator.clear_payment(payment["PaymentId"])  # a cleared payment can be voided
        voided = self.simulator.void_payment(payment["PaymentId"])
        self.assertEqual(voided["Status"], {"Id": 5, "Description": "Void"})
        self.assertEqual(self.invoice_state(self.first), ("Approved", 0.0, 0.0, 100.0))
        self.assertEqual(self.invoice_state(self.second), ("Approved", 0.0, 0.0, 50.0))
        with self.assertRaisesRegex(ValueError, "is Void; cannot become Void"):
            self.simulator.void_payment(payment["PaymentId"])

    def test_void_one_of_two_partial_payments(self):
        first = self.simulator.pay([{"invoice_id": self.first, "amount": 40.0}])
        self.simulator.pay([{"invoice_id": self.first, "amount": 58.0, "discount": 2.0}])
        self.simulator.void_payment(first["PaymentId"])
        self.assertEqual(self.invoice_state(self.first), ("Approved", 58.0, 2.0, 40.0))

    def test_error_payment(self):
        payment = self.simulator.pay([{"invoice_id": self.first}], method="ACH")
        failed = self.simulator.error_payment(payment["PaymentId"], reason="Account closed")
        self.assertEqual(failed["Status"], {"Id": 6, "Description": "Error"})
        reason = {"ReasonCode": {"Id": 2, "Description": "Account closed"}}
        self.assertEqual(failed["Exceptions"], [reason])
        self.assertEqual(self.api.get(f"/payments/{payment['PaymentId']}").json(), failed)
        self.assertEqual(self.invoice_state(self.first), ("Approved", 0.0, 0.0, 100.0))
        other = self.simulator.pay([{"invoice_id": self.second}])
        odd = self.simulator.error_payment(other["PaymentId"], reason="Bank on strike")
        self.assertEqual(
            odd["Exceptions"][0]["ReasonCode"], {"Id": 99, "Description": "Bank on strike"}
        )

    def test_report_again(self):
        payment = self.simulator.pay([{"invoice_id": self.first}])
        invoice_before = self.simulator.get_invoice(self.first)
        after = parse_timestamp(payment["LastModifiedDate"]) + timedelta(microseconds=1)
        window = {
            "lastModifiedFrom": timestamp(after),
            "lastModifiedTo": timestamp(datetime.now(timezone.utc) + timedelta(minutes=1)),
        }
        self.assertEqual(self.api.get("/payments", params=window).json()["Items"], [])
        again = self.simulator.report_again(payment["PaymentId"])
        self.assertGreater(again["LastModifiedDate"], payment["LastModifiedDate"])
        self.assertEqual({**again, "LastModifiedDate": None}, {**payment, "LastModifiedDate": None})
        self.assertEqual(self.api.get("/payments", params=window).json()["Items"], [again])
        self.assertEqual(self.simulator.get_invoice(self.first), invoice_before)

    def test_a_payment_run_stamps_its_batch_in_one_whole_second(self):
        """The contract: stamps are not unique and may have no fractional part."""
        run = self.simulator.pay_run(
            [
                {"allocations": [{"invoice_id": self.first}]},
                {"allocations": [{"invoice_id": self.second}]},
            ]
        )
        stamps = {payment["LastModifiedDate"] for payment in run}
        self.assertEqual(len(stamps), 1)
        self.assertEqual(parse_timestamp(stamps.pop()).microsecond, 0)
        later = self.simulator.clear_payment(run[0]["PaymentId"])
        self.assertGreater(later["LastModifiedDate"], run[1]["LastModifiedDate"])
        self.assertEqual(
            [p["PaymentId"] for p in self.api.get("/payments").json()["Items"]],
            [run[1]["PaymentId"], run[0]["PaymentId"]],
            "ordered by stamp, then creation",
        )

    def test_pay_refusals(self):
        cases = [
            ({"allocations": []}, "at least one invoice"),
            ({"allocations": [{"invoice_id": self.first}], "method": "Cash"}, "method must be"),
            ({"allocations": [{"invoice_id": self.first, "amount": "1"}]}, "must be a number"),
            ({"allocations": [{"invoice_id": self.first}] * 2}, "is listed twice"),
        ]
        for kwargs, expected in cases:
            with self.subTest(expected=expected), self.assertRaisesRegex(ValueError, expected):
                self.simulator.pay(**kwargs)
        self.assertEqual(self.simulator.payments(), [])


class TestSimulatorCreditMemos(ApiCase):
    """Credit memos: submitted as invoices of their own type, consumed by their vendor's
    payments as negative lines, given back when such a payment is voided."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.add_vendor("V-2")
        self.bill = self.add_invoice(1, 100.0)
        self.credit = self.add_credit_memo(1, 30.0)

    def add_credit_memo(self, number, amount=30.0, vendor_code="V-1"):
        answer = self.api.post("/invoices", json=credit_memo(number, amount, vendor_code))
        self.assertEqual(answer.status_code, 201, answer.text)
        return answer.json()["Id"]

    def state(self, invoice_id):
        found = self.api.get(f"/invoices/{invoice_id}").json()
        return found["Status"], found["AmountPaid"], found["Balance"]

    def test_a_credit_memo_is_received_with_its_type(self):
        answer = self.api.post("/invoices", json=credit_memo(2))
        expected = {"Id": "INV-3", "ExternalInvoiceId": "EXT-CM-2", "Status": "Received"}
        self.assertEqual((answer.status_code, answer.json()), (201, expected))
        found = self.api.get(f"/invoices/{self.credit}").json()
        self.assertEqual((found["InvoiceType"], found["GrossAmount"]), ("CreditMemo", 30.0))
        self.assertEqual((found["Balance"], found["AmountPaid"]), (30.0, 0.0))
        listed = {i["Id"]: i["InvoiceType"] for i in self.api.get("/invoices").json()["Items"]}
        self.assertEqual(
            listed, {self.bill: "Invoice", self.credit: "CreditMemo", "INV-3": "CreditMemo"}
        )
        explicit = self.api.post("/invoices", json={**invoice(3), "InvoiceType": "Invoice"})
        self.assertEqual(
            self.simulator.get_invoice(explicit.json()["Id"])["InvoiceType"], "Invoice"
        )
        again = self.api.post("/invoices", json={**credit_memo(9), "ExternalInvoiceId": "EXT-1"})
        self.assertEqual(again.status_code, 409)  # one ExternalInvoiceId space for both types

    def test_refusals_are_422(self):
        negative = credit_memo(2, -30.0)
        cases = [
            (
                {**invoice(2), "InvoiceType": "Bill"},
                "InvoiceType: must be one of Invoice, CreditMemo",
            ),
            ({**invoice(2), "InvoiceType": "creditmemo"}, "InvoiceType: must be one of"),
            ({**invoice(2), "InvoiceType": ""}, 'InvoiceType: must not be ""'),
            ({**invoice(2), "InvoiceType": False}, "InvoiceType: must not be false"),
            ({**invoice(2), "InvoiceType": 2}, "InvoiceType: must be a string"),
            (negative, "GrossAmount: a credit memo is sent with positive amounts"),
            (credit_memo(2, 0.0), "GrossAmount: a credit memo is sent with positive amounts"),
        ]
        self.assert_refused("POST", "/invoices", cases)
        self.assertEqual(len(self.simulator.invoices()), 2)

    def test_a_payment_consumes_the_credit(self):
        payment = self.simulator.pay(
            [{"invoice_id": self.bill}, {"invoice_id": self.credit, "amount": 20}]
        )
        self.assertEqual(payment["Amount"], 80.0)
        credit_line = {
            "Id": self.credit,
            "ExternalInvoiceId": "EXT-CM-1",
            "Number": "CM-1",
            "AmountPaid": -20.0,
            "Discount": 0.0,
        }
        self.assertEqual(payment["Invoices"][1], credit_line)
        self.assertEqual(payment["Invoices"][0]["AmountPaid"], 100.0)
        self.assertEqual(payment["GLPostings"], [{**DEFAULT_GL_POSTING, "Amount": 80.0}])
        self.assertEqual(self.api.get(f"/payments/{payment['PaymentId']}").json(), payment)
        self.assertEqual(self.state(self.bill), ("Paid", 100.0, 0.0))
        self.assertEqual(self.state(self.credit), ("Approved", 20.0, 10.0))
        second = self.add_invoice(2, 50.0)
        rest = self.simulator.pay([{"invoice_id": second}, {"invoice_id": self.credit}])
        self.assertEqual(rest["Amount"], 40.0)  # the rest of the credit by default
        self.assertEqual(rest["Invoices"][1]["AmountPaid"], -10.0)
        self.assertEqual(self.state(self.credit), ("Paid", 30.0, 0.0))
        with self.assertRaisesRegex(ValueError, "is Paid, not payable"):
            self.simulator.pay([{"invoice_id": self.add_invoice(3)}, {"invoice_id": self.credit}])

    def test_void_gives_the_credit_back(self):
        payment = self.simulator.pay([{"invoice_id": self.bill}, {"invoice_id": self.credit}])
        self.assertEqual((payment["Amount"], self.state(self.credit)), (70.0, ("Paid", 30.0, 0.0)))
        self.simulator.void_payment(payment["PaymentId"])
        self.assertEqual(self.state(self.credit), ("Approved", 0.0, 30.0))
        self.assertEqual(self.state(self.bill), ("Approved", 0.0, 100.0))
        again = self.simulator.pay([{"invoice_id": self.bill}, {"invoice_id": self.credit}])
        self.assertEqual(again["Amount"], 70.0)

    def test_pay_refusals(self):
        other_vendor = self.api.post("/invoices", json=invoice(7, 100.0, "V-2")).json()["Id"]
        small = self.add_invoice(8, 30.0)
        credit = {"invoice_id": self.credit}
        cases = [
            ([credit], "Amount would be -30.00: a credit memo is not payable by itself"),
            ([{"invoice_id": small}, credit], "Amount would be 0.00"),
            ([{"invoice_id": self.bill}, {**credit, "amount": 30.01}], "30.01 exceeds the balance"),
            (
                [{"invoice_id": self.bill}, {**credit, "amount": -20}],
                "the credit consumed, a number > 0",
            ),
            ([{"invoice_id": self.bill}, {**credit, "amount": 0}], "the credit consumed"),
            ([{"invoice_id": self.bill}, {**credit, "amount": "20"}], "amount must be a number"),
            (
                [{"invoice_id": self.bill}, {**credit, "discount": 1.0}],
                "a credit takes no discount",
            ),
            ([{"invoice_id": other_vendor}, credit], "pays one vendor, not V-1, V-2"),
        ]
        for allocations, expected in cases:
            with self.subTest(expected=expected), self.assertRaisesRegex(ValueError, expected):
                self.simulator.pay(allocations)
        self.simulator.reject_invoice(self.credit)
        with self.assertRaisesRegex(ValueError, "is Rejected, not payable"):
            self.simulator.pay([{"invoice_id": self.bill}, credit])
        self.assertEqual(self.simulator.payments(), [])
        self.assertEqual(self.state(self.credit), ("Rejected", 0.0, 30.0))

    def test_auto_advance_applies_credits_to_the_vendors_next_payment(self):
        too_large = self.add_credit_memo(2, 200.0)
        other_vendor = self.add_credit_memo(3, 10.0, vendor_code="V-2")
        approved = self.simulator.advance()["approved"]
        self.assertEqual(approved, [self.bill, self.credit, too_large, other_vendor])
        self.assertEqual(self.simulator.advance(), {"approved": [], "paid": ["PAY-1"]})
        payment = self.simulator.get_payment("PAY-1")
        lines = [(line["Id"], line["AmountPaid"]) for line in payment["Invoices"]]
        self.assertEqual(lines, [(self.bill, 100.0), (self.credit, -30.0)])
        self.assertEqual(payment["Amount"], 70.0)
        for memo, balance in ((too_large, 200.0), (other_vendor, 10.0)):
            self.assertEqual(self.state(memo), ("Approved", 0.0, balance))
        self.assertEqual(self.simulator.advance(), {"approved": [], "paid": []})


class TestSimulatorPaymentHistory(ApiCase):
    """``GET /payments/{Id}/paymenthistory``: one entry per step, oldest first."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.invoice_id = self.add_invoice(1, 100.0)

    def history(self, payment_id):
        answer = self.api.get(f"/payments/{payment_id}/paymenthistory")
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertEqual(list(answer.json()), ["Items"])
        return answer.json()["Items"]

    def steps(self, payment_id):
        return [(item["Status"], item["Note"]) for item in self.history(payment_id)]

    def test_a_check_from_issue_to_void(self):
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}])
        issued = [
            ("Sent to Check Printer", "Check 100001 sent to the check printer"),
            ("Issued", "100.00 USD issued by Check"),
        ]
        self.assertEqual(self.steps(payment["PaymentId"]), issued)
        self.simulator.clear_payment(payment["PaymentId"], cleared_date="2026-12-01")
        voided = self.simulator.void_payment(payment["PaymentId"])
        ended = [("Cleared", "Cleared on 2026-12-01"), ("Void", "Payment voided")]
        self.assertEqual(self.steps(payment["PaymentId"]), issued + ended)
        items = self.history(payment["PaymentId"])
        self.assertEqual(sorted(items[0]), ["Date", "Note", "Status"])
        dates = [parse_timestamp(item["Date"]) for item in items]  # ISO 8601 UTC with Z
        self.assertEqual(dates, sorted(dates))
        self.assertEqual(items[0]["Date"], payment["LastModifiedDate"])
        self.assertEqual(items[-1]["Date"], voided["LastModifiedDate"])

    def test_an_ach_payment_in_error_says_why(self):
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}], method="ACH")
        self.simulator.error_payment(payment["PaymentId"], reason="Account closed")
        expected = [
            ("ACH Credit Issued", "ACH credit sent, trace number 091000019000001"),
            ("Issued", "100.00 USD issued by ACH"),
            ("Error", "Account closed"),
        ]
        self.assertEqual(self.steps(payment["PaymentId"]), expected)

    def test_each_method_is_paid_out_its_own_way(self):
        cases = {
            "VirtualCard": "VCC Processing",
            "AvidPayNetwork": "Issued to Supplier",
        }
        for number, (method, paid_out) in enumerate(cases.items(), start=2):
            with self.subTest(method=method):
                invoice_id = self.add_invoice(number, 10.0)
                payment = self.simulator.pay([{"invoice_id": invoice_id}], method=method)
                statuses = [status for status, _note in self.steps(payment["PaymentId"])]
                self.assertEqual(statuses, [paid_out, "Issued"])

    def test_pending_then_cleared_and_created_cleared(self):
        pending = self.simulator.pay([{"invoice_id": self.invoice_id}], status="Pending")
        self.simulator.clear_payment(pending["PaymentId"], cleared_date="2026-12-02")
        self.assertEqual(
            self.steps(pending["PaymentId"]),
            [
                ("Pending", "Payment created; not paid out yet"),
                ("Cleared", "Cleared on 2026-12-02"),
            ],
        )
        cleared = self.simulator.pay([{"invoice_id": self.add_invoice(2)}], status="Cleared")
        statuses = [status for status, _note in self.steps(cleared["PaymentId"])]
        self.assertEqual(statuses, ["Sent to Check Printer", "Issued", "Cleared"])

    def test_reported_again_is_no_new_step(self):
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}])
        before = self.history(payment["PaymentId"])
        self.simulator.report_again(payment["PaymentId"])
        self.assertEqual(self.history(payment["PaymentId"]), before)

    def test_injected_payment_has_no_history(self):
        self.simulator.inject_payment({"PaymentId": "PAY-X", "Amount": "wrong"}, COMPANY_ID)
        self.assertEqual(self.history("PAY-X"), [])

    def test_refusals(self):
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}])
        path = f"/payments/{payment['PaymentId']}/paymenthistory"
        unknown = self.api.get("/payments/PAY-404/paymenthistory")
        self.assertEqual((unknown.status_code, detail(unknown)), (404, "Payment PAY-404 not found"))
        self.assertEqual(self.api.get(path + "?pageSize=1").status_code, 400)
        wrong_method = self.api.post(path, json={})
        self.assertEqual((wrong_method.status_code, wrong_method.headers["Allow"]), (405, "GET"))
        no_company = self.api.get(path, headers={"X-Avid-Company-Id": None})
        self.assertEqual(no_company.status_code, 400)


class TestSimulatorCheckImages(ApiCase):
    """``GET /payments/{Id}/getclearedcheckimage`` and ``HasClearedCheckImages``: a
    check has an image once cleared, and only then."""

    def setUp(self):
        super().setUp()
        self.add_vendor()
        self.invoice_id = self.add_invoice(1, 100.0)

    def image(self, payment_id):
        return self.api.get(f"/payments/{payment_id}/getclearedcheckimage")

    def flag(self, payment_id):
        return self.api.get(f"/payments/{payment_id}").json()["HasClearedCheckImages"]

    def test_a_cleared_check_has_its_image(self):
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}])
        payment_id = payment["PaymentId"]
        self.assertIs(payment["HasClearedCheckImages"], False)
        none_yet = self.image(payment_id)
        self.assertEqual(none_yet.status_code, 404)
        self.assertEqual(detail(none_yet), f"No cleared check image for payment {payment_id}")
        cleared = self.simulator.clear_payment(payment_id, cleared_date="2026-12-01")
        self.assertIs(cleared["HasClearedCheckImages"], True)
        self.assertIs(self.flag(payment_id), True)
        self.assertIs(self.api.get("/payments").json()["Items"][0]["HasClearedCheckImages"], True)
        answer = self.image(payment_id)
        self.assertEqual(answer.status_code, 200)
        image = answer.json()
        self.assertEqual(sorted(image), ["Content", "ContentType", "FileName"])
        self.assertEqual(image["FileName"], "check-100001.pdf")
        self.assertEqual(image["ContentType"], "application/pdf")
        data = base64.b64decode(image["Content"], validate=True)
        self.assertTrue(data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n"))
        text = PdfReader(io.BytesIO(data)).pages[0].extract_text()  # strict: a real PDF
        for expected in ("Check number: 100001", "Amount: 100.00 USD", "Cleared date: 2026-12-01"):
            self.assertIn(expected, text)
        self.simulator.void_payment(payment_id)
        self.assertIs(self.flag(payment_id), False)
        self.assertEqual(self.image(payment_id).status_code, 404)

    def test_only_a_cleared_check_has_an_image(self):
        def pay(number, **options):
            invoice_id = self.add_invoice(number, 10.0)
            return self.simulator.pay([{"invoice_id": invoice_id}], **options)["PaymentId"]

        cases = {
            pay(2, method="ACH", status="Cleared"): False,
            pay(3, method="VirtualCard", status="Cleared"): False,
            pay(4, status="Pending"): False,
            pay(5, check_number="200007", status="Cleared"): True,
        }
        for payment_id, has_image in cases.items():
            with self.subTest(payment_id=payment_id):
                self.assertIs(self.flag(payment_id), has_image)
                self.assertEqual(self.image(payment_id).status_code, 200 if has_image else 404)
        errored = pay(6)
        self.simulator.error_payment(errored)
        self.assertIs(self.flag(errored), False)
        image = self.image(next(p for p, has_image in cases.items() if has_image)).json()
        self.assertEqual(image["FileName"], "check-200007.pdf")

    def test_refusals(self):
        unknown = self.image("PAY-404")
        self.assertEqual((unknown.status_code, detail(unknown)), (404, "Payment PAY-404 not found"))
        self.simulator.inject_payment(
            {"PaymentId": "PAY-X", "HasClearedCheckImages": True, "CheckNumber": "1"}, COMPANY_ID
        )
        self.assertEqual(self.image("PAY-X").status_code, 404)  # no image behind a made-up item
        payment = self.simulator.pay([{"invoice_id": self.invoice_id}], status="Cleared")
        path = f"/payments/{payment['PaymentId']}/getclearedcheckimage"
        self.assertEqual(self.api.get(path).status_code, 200)
        self.assertEqual(self.api.get(path + "?format=pdf").status_code, 400)
        wrong_method = self.api.post(path, json={})
        self.assertEqual((wrong_method.status_code, wrong_method.headers["Allow"]), (405, "GET"))
        self.assertEqual(requests.get(self.simulator.api_url + path, timeout=10).status_code, 401)


class TestSimulatorCompanies(ApiCase):
    """Two clients for two companies: each sees its own records only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator.add_client(OTHER_CLIENT, OTHER_SECRET, OTHER_COMPANY, company_name="Other Co")

    def setUp(self):
        super().setUp()
        self.other = self.session(
            client_id=OTHER_CLIENT, secret=OTHER_SECRET, company=OTHER_COMPANY
        )

    def test_each_company_sees_only_its_own_records(self):
        self.add_vendor()
        self.other.put("/vendors/V-1", json=vendor(name="Other Acme"))
        mine = self.add_invoice(1)
        theirs = self.add_invoice(1, api=self.other)  # same ExternalInvoiceId: no 409
        self.assertNotEqual(mine, theirs)
        self.assertEqual([i["Id"] for i in self.api.get("/invoices").json()["Items"]], [mine])
        self.assertEqual([i["Id"] for i in self.other.get("/invoices").json()["Items"]], [theirs])
        self.assertEqual(self.api.get("/vendors/V-1").json()["Name"], "Acme")
        self.assertEqual(self.other.get("/vendors/V-1").json()["Name"], "Other Acme")
        self.assertEqual(self.api.get(f"/invoices/{theirs}").status_code, 404)
        self.assertEqual([i["Id"] for i in self.simulator.invoices(COMPANY_ID)], [mine])

    def test_sub_resources_of_the_other_company_are_404(self):
        self.add_vendor(api=self.other)
        theirs = self.add_invoice(1, api=self.other)
        answer = self.api.post(f"/invoices/{theirs}/attachments", json=attachment())
        self.assertEqual(answer.status_code, 404)
        self.assertEqual(self.simulator.attachments(theirs), [])
        payment_id = self.simulator.pay([{"invoice_id": theirs}])["PaymentId"]
        history = f"/payments/{payment_id}/paymenthistory"
        self.assertEqual(self.api.get(history).status_code, 404)
        self.assertEqual(self.other.get(history).status_code, 200)
        self.simulator.clear_payment(payment_id)
        image = f"/payments/{payment_id}/getclearedcheckimage"
        self.assertEqual(self.api.get(image).status_code, 404)
        self.assertEqual(self.other.get(image).status_code, 200)

    def test_a_client_cannot_act_for_the_other_company(self):
        as_other = self.api.get("/ping", headers={"X-Avid-Company-Id": OTHER_COMPANY})
        self.assertEqual(as_other.status_code, 403)
        as_first = self.other.get("/ping", headers={"X-Avid-Company-Id": COMPANY_ID})
        self.assertEqual(as_first.status_code, 403)
        own = {"CompanyId": OTHER_COMPANY, "Name": "Other Co"}
        self.assertEqual(self.other.get("/ping").json(), own)

    def test_one_payment_cannot_span_companies(self):
        self.add_vendor()
        self.add_vendor(api=self.other)
        allocations = [
            {"invoice_id": self.add_invoice(1)},
            {"invoice_id": self.add_invoice(2, api=self.other)},
        ]
        with self.assertRaisesRegex(ValueError, "must belong to one company"):
            self.simulator.pay(allocations)
        self.assertEqual(self.simulator.payments(), [])
