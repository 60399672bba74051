"""The ``/_sim`` admin API: the control methods over HTTP, for tools that cannot import them."""

import requests

from .common import ApiCase, detail


class TestSimulatorAdmin(ApiCase):
    """``/_sim/<action>``: the control methods over HTTP, for tools that cannot import them."""

    def admin_post(self, action, body=None):
        url = f"{self.simulator.base_url}/_sim/{action}"
        if isinstance(body, bytes):
            return requests.post(url, data=body, timeout=10)
        return requests.post(url, json=body, timeout=10)

    def admin_get(self, action, **params):
        url = f"{self.simulator.base_url}/_sim/{action}"
        return requests.get(url, params=params, timeout=10)

    def test_actions_take_json_keyword_arguments(self):
        self.add_vendor()
        invoice_id = self.add_invoice(1, 100.0)
        approved = self.admin_post("approve_invoice", {"invoice_id": invoice_id})
        self.assertEqual(approved.status_code, 200)
        self.assertEqual(approved.json()["result"]["Status"], "Approved")
        allocations = [{"invoice_id": invoice_id, "amount": 60.0}]
        paid = self.admin_post("pay", {"allocations": allocations, "method": "ACH"})
        self.assertEqual(paid.status_code, 200)
        self.assertEqual(paid.json()["result"]["PaymentMethod"]["Description"], "ACH")
        self.assertEqual(self.simulator.get_invoice(invoice_id)["Balance"], 40.0)

    def test_read_only_actions_answer_get(self):
        self.api.get("/ping")
        self.api.get("/payments")
        logged = self.admin_get("requests", path="/payments*")
        self.assertEqual(logged.status_code, 200)
        self.assertEqual([e["path"] for e in logged.json()["result"]], ["/avidconnect/v1/payments"])
        self.assertEqual(self.admin_get("count", method="GET").json(), {"result": 2})
        self.assertEqual(self.admin_get("get_invoice", invoice_id="INV-9").json(), {"result": None})
        self.assertEqual(self.simulator.count(), 2)  # admin calls are not logged

    def test_reset(self):
        self.add_vendor()
        self.simulator.fail_next(status=503, path="/vendors")
        answer = requests.post(f"{self.simulator.base_url}/_sim/reset", timeout=10)  # no body
        self.assertEqual((answer.status_code, answer.json()), (200, {"result": None}))
        self.assertEqual(self.simulator.vendors(), [])
        self.assertEqual(self.simulator.pending_faults(), [])
        self.assertEqual(self.simulator.count(), 0)
        self.assertEqual(self.api.get("/vendors/V-1").status_code, 404)  # the token lives on

    def test_errors(self):
        cases = [
            ("nothing", None, 404, "Unknown simulator action 'nothing'"),
            ("_state", None, 404, "Unknown simulator action '_state'"),
            ("approve_invoice", {"invoice_id": "INV-404"}, 404, "Unknown invoice INV-404"),
            ("approve_invoice", {"invoice": "INV-1"}, 400, "unexpected keyword argument"),
            ("fail_next", {"status": 200}, 400, "HTTP error status"),
            ("reset", b"[1]", 400, "must be a JSON object"),
            ("reset", b"{", 400, "Malformed JSON body"),
        ]
        for action, body, status, expected in cases:
            with self.subTest(action=action, body=body):
                answer = self.admin_post(action, body)
                self.assertEqual(answer.status_code, status)
                self.assertIn(expected, detail(answer))
        self.assertEqual(self.admin_get("reset").status_code, 405)  # changes state: POST only
        put = requests.put(f"{self.simulator.base_url}/_sim/requests", timeout=10)
        self.assertEqual(put.status_code, 405)

    def test_admin_calls_do_not_consume_faults(self):
        self.simulator.fail_next(status=503)
        pending = self.admin_get("pending_faults")
        self.assertEqual(len(pending.json()["result"]), 1)
        self.assertEqual(self.api.get("/ping").status_code, 503)
