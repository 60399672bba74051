"""Fault matching and the shape of faulty answers (the client tests cover reactions)."""

from .common import ApiCase, get_token


class TestSimulatorFaults(ApiCase):
    """Fault matching and the shape of faulty answers (the client tests cover reactions)."""

    def test_throttling_answer(self):
        self.simulator.fail_next(status=429, retry_after=1.5, path="/payments")
        self.assertEqual(self.api.get("/ping").status_code, 200)  # other paths pass
        throttled = self.api.get("/payments")
        self.assertEqual(throttled.status_code, 429)
        self.assertEqual(throttled.headers["Retry-After"], "2")  # whole seconds, rounded up
        self.assertEqual(throttled.json()["code"], "900800")
        self.assertEqual(self.api.get("/payments").status_code, 200)  # used up
        faults = [entry["fault"] for entry in self.simulator.requests("GET", "/payments")]
        self.assertEqual(faults, ["fail", None])

    def test_count_and_method_filter(self):
        self.simulator.fail_next(n=2, status=503, method="POST")
        self.assertEqual(self.api.get("/ping").status_code, 200)
        statuses = [self.api.post("/invoices", json={}).status_code for _ in range(3)]
        self.assertEqual(statuses, [503, 503, 422])
        self.assertEqual(self.simulator.pending_faults(), [])

    def test_token_requests_take_faults_too(self):
        self.simulator.fail_next(status=502, body="Bad gateway", path="/token")
        answer = get_token(self.simulator.base_url)
        self.assertEqual((answer.status_code, answer.text), (502, "Bad gateway"))
        self.assertEqual(answer.headers["Content-Type"], "text/plain")
        self.assertEqual(get_token(self.simulator.base_url).status_code, 200)

    def test_fault_status_must_be_an_error(self):
        with self.assertRaisesRegex(ValueError, "HTTP error status"):
            self.simulator.fail_next(status=200)

    def test_count_by_exact_path_or_prefix(self):
        self.add_vendor()
        self.simulator.pay([{"invoice_id": self.add_invoice(1)}])
        self.api.get("/payments")
        self.api.get("/payments/PAY-1")
        self.api.get("/payments", params={"pageSize": 1})
        self.assertEqual(self.simulator.count("GET", "/payments"), 2)  # query not in the path
        self.assertEqual(self.simulator.count("GET", "/payments*"), 3)
        self.assertEqual(self.simulator.count(path="/avidconnect/v1/*"), 5)
        self.assertEqual(self.simulator.count("POST"), 1)
