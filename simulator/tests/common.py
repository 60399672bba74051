"""A simulator per test class and a session on its data API, shared with the module's
contract tests (``tests/test_simulator.py``, which add Odoo's network patching)."""

import unittest

import requests

from .. import AvidSimulator

CLIENT_ID = "odoo-test-client"
CLIENT_SECRET = "s3cr3t-Never-Log-Me-7f9c2a"
COMPANY_ID = "AVX-COMPANY-1"


def get_token(base_url, client_id=CLIENT_ID, secret=CLIENT_SECRET, grant="client_credentials"):
    return requests.post(
        base_url + "/token", auth=(client_id, secret), data={"grant_type": grant}, timeout=10
    )


def vendor(code="V-1", name="Acme"):
    return {"ExternalVendorCode": code, "Name": name, "Address": {"Line1": "1 Main"}}


def invoice(number, amount=100.0, vendor_code="V-1"):
    return {
        "ExternalInvoiceId": f"EXT-{number}",
        "Number": f"INV-{number}",
        "InvoiceDate": "2026-11-20",
        "GrossAmount": amount,
        "Currency": "USD",
        "BuyerVendor": {"VendorExternalSystemID": vendor_code},
        "Distributions": [{"Amount": amount, "Description": "Goods"}],
    }


def detail(answer):
    return answer.json()["exception"]["detail"]


class SimulatorMixin:
    """Starts one simulator per test class and resets it before every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = AvidSimulator(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, company_id=COMPANY_ID
        ).start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()


class ApiSession(requests.Session):
    """A session on the data API: a fresh token and the company header; paths are
    relative to the API prefix (absolute URLs, such as paging links, pass as they are)."""

    def __init__(self, simulator, client_id=CLIENT_ID, secret=CLIENT_SECRET, company=COMPANY_ID):
        super().__init__()
        self.api_url = simulator.api_url
        answer = get_token(simulator.base_url, client_id, secret)
        answer.raise_for_status()
        self.token = answer.json()["access_token"]
        self.headers.update(
            {
                "Authorization": f"Bearer {self.token}",
                "X-Avid-Company-Id": company,
                "Accept": "application/json",
            }
        )

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 10)
        if url.startswith("/"):
            url = self.api_url + url
        return super().request(method, url, *args, **kwargs)


class ApiMixin:
    """``self.api`` is a session for the default client; the request log starts empty."""

    def setUp(self):
        super().setUp()
        self.api = self.session()
        self.simulator.clear_requests()

    def session(self, **options):
        session = ApiSession(self.simulator, **options)
        self.addCleanup(session.close)
        return session

    def add_vendor(self, code="V-1", api=None):
        answer = (api or self.api).put(f"/vendors/{code}", json=vendor(code))
        self.assertEqual(answer.status_code, 201, answer.text)

    def add_invoice(self, number, amount=100.0, api=None):
        answer = (api or self.api).post("/invoices", json=invoice(number, amount))
        self.assertEqual(answer.status_code, 201, answer.text)
        return answer.json()["Id"]


class SimulatorCase(SimulatorMixin, unittest.TestCase):
    """A simulator of its own, no session."""


class ApiCase(ApiMixin, SimulatorMixin, unittest.TestCase):
    """A simulator of its own and ``self.api``, a session on it."""
