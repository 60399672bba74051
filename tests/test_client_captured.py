"""The client's reads of invoices captured in AvidXchange, against the simulator.

Accounting systems, closed batches by day, a batch's invoices through its
``full-details`` link (never a link elsewhere), images, and the mark of an
import; what AvidXchange sends is untrusted: a wrong shape is a typed error.
"""

import base64
import datetime

from ..tools.avidxchange_client import ForeignLinkError
from ..tools.exceptions import InvalidResponseError, PermanentError
from .test_client import API, ClientCase

ACME = {"VendorName": "Acme Steel", "VendorExternalSystemID": "ODOO-1-42", "FedTaxId": "12-3"}
CLOSED = API + "/invoices/batches/closed/acctgSysId/17"
MARKS = API + "/invoices/batches/exportHistories"


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


class TestClientCaptured(ClientCase):
    def setUp(self):
        super().setUp()
        self.api = self.client()

    def batch(self, *amounts, image=False):
        """A batch closed today of one captured invoice per amount: its GUID."""
        ids = [
            self.simulator.capture_invoice(f"A-{n}", ACME, amount=amount, image=image)
            for n, amount in enumerate(amounts)
        ]
        return self.simulator.close_batch(ids)

    def test_accounting_systems(self):
        self.assertEqual(self.api.get_accounting_systems(), [{"ID": 17, "Name": "Odoo"}])
        self.assertEqual(self.simulator.count("GET", API + "/accountingSystems"), 1)
        for body in (
            {},
            {"Items": "Odoo"},
            {"Items": [{"ID": "17", "Name": "Odoo"}]},
            {"Items": [{"ID": True, "Name": "Odoo"}]},
            {"Items": [{"ID": 17, "Name": " "}]},
            {"Items": ["Odoo"]},
            ["Odoo"],
        ):
            with self.subTest(body=body):
                self.simulator.answer_next(body=body, path="/accountingSystems")
                with self.assertRaises(InvalidResponseError):
                    self.api.get_accounting_systems()

    def test_closed_batches_paged_by_day(self):
        guids = [self.batch(10.0 + n) for n in range(3)]
        client = self.client(page_size=2)
        batches = list(client.iter_closed_batches(17, today(), today()))
        self.assertEqual([b["BatchGUID"] for b in batches], guids)
        queries = [r["query"] for r in self.simulator.requests("GET", CLOSED)]
        day = today().isoformat()
        self.assertEqual(
            queries,
            [
                {"closeDateFrom": day, "closeDateTo": day, "pageNumber": str(n), "pageSize": "2"}
                for n in (1, 2)
            ],
        )
        earlier = today() - datetime.timedelta(days=30)
        self.assertEqual(len(list(client.iter_closed_batches(17, earlier, today()))), 3)

    def test_a_window_over_thirty_days_is_the_callers_to_split(self):
        for first, last in (
            (today() - datetime.timedelta(days=31), today()),
            (today(), today() - datetime.timedelta(days=1)),
        ):
            with self.subTest(first=first, last=last), self.assertRaises(ValueError):
                self.api.iter_closed_batches(17, first, last)
        with self.assertRaises(ValueError):
            self.api.iter_closed_batches("17", today(), today())
        self.assertEqual(self.simulator.count(path=API + "/*"), 0)

    def test_a_batch_and_its_invoices(self):
        guid = self.batch(100.0, 20.0, 30.0)
        batch = self.api.get_batch(guid)
        self.assertEqual((batch["BatchGUID"], batch["InvoiceCount"]), (guid, 3))
        invoices = list(self.client(page_size=2).iter_batch_invoices(batch))
        self.assertEqual([i["Number"] for i in invoices], ["A-0", "A-1", "A-2"])
        self.assertEqual(invoices[0]["BuyerVendor"], ACME)
        self.assertEqual(self.simulator.count("GET", f"{API}/invoices/batches/{guid}/invoices"), 2)
        with self.assertRaises(PermanentError) as caught:
            self.api.get_batch("nope")
        self.assertEqual(caught.exception.status, 404)
        other = {**batch, "BatchGUID": "another"}
        self.simulator.answer_next(body=other, path=f"/invoices/batches/{guid}")
        with self.assertRaisesRegex(InvalidResponseError, "another batch"):
            self.api.get_batch(guid)

    def test_links_elsewhere_are_never_followed(self):
        guid = self.batch(100.0)
        batch = self.api.get_batch(guid)
        good = batch["Links"][0]["Href"]
        self.simulator.clear_requests()
        for href in (
            self.simulator.base_url + good,  # absolute, even to the same host
            "//evil.example" + good,
            "https://evil.example" + good,
            "/token",
            "/elsewhere/invoices",
            good.replace(f"batches/{guid}", "../../../token"),
            good.replace(f"batches/{guid}", "%2e%2e/%2E%2E/token"),
            good + "\\..\\x",
        ):
            with self.subTest(href=href):
                wrong = {**batch, "Links": [{"Rel": "full-details", "Href": href}]}
                with self.assertRaises(ForeignLinkError):
                    list(self.api.iter_batch_invoices(wrong))
                with self.assertRaises(ForeignLinkError):
                    self.api.get_invoice_image(href)
        for wrong in ({**batch, "Links": []}, {**batch, "Links": "x"}, "batch", None):
            with self.subTest(batch=wrong), self.assertRaises(InvalidResponseError):
                list(self.api.iter_batch_invoices(wrong))
        self.assertEqual(self.simulator.count(), 0)  # not a request

    def test_invoices_not_a_list(self):
        batch = self.api.get_batch(self.batch(100.0))
        self.simulator.answer_next(body={"Items": {"Id": "INV-1"}, "Paging": {}}, path="/invoices")
        with self.assertRaisesRegex(InvalidResponseError, "no Items"):
            list(self.api.iter_batch_invoices(batch))

    def test_invoice_image(self):
        self.batch(100.0, image=True)
        self.batch(5.0)
        with_image, without = (
            self.simulator.get_invoice(i)["ImageUrl"] for i in ("INV-1", "INV-2")
        )
        name, kind, data = self.api.get_invoice_image(with_image)
        self.assertEqual((name, kind), ("A-0.pdf", "application/pdf"))
        self.assertTrue(data.startswith(b"%PDF-"))
        self.assertIsNone(self.api.get_invoice_image(without))
        self.assertEqual(self.simulator.count("GET", API + "/invoices/*"), 2)

    def test_an_image_too_large_or_not_base64_is_refused(self):
        self.batch(100.0, image=True)
        url = self.simulator.get_invoice("INV-1")["ImageUrl"]
        too_large = base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()
        for content, expected in (
            (too_large, "larger"),
            ("not base64!", "not base64"),
            (5, "no file"),
        ):
            with self.subTest(expected=expected):
                body = {"FileName": "a.pdf", "ContentType": "application/pdf", "Content": content}
                self.simulator.answer_next(body=body, path="/invoices/INV-1/image")
                with self.assertRaisesRegex(InvalidResponseError, expected):
                    self.api.get_invoice_image(url)

    def test_mark_imported_first_then_again(self):
        guid = self.batch(100.0)
        start = datetime.datetime(2026, 11, 28, 17, 0)
        end = start + datetime.timedelta(seconds=3)
        self.assertTrue(self.api.mark_batch_imported(guid, start, end))
        self.assertFalse(self.api.mark_batch_imported(guid, start, end))
        marks = self.simulator.export_histories(guid)
        self.assertEqual(
            [(m["StartDate"], m["ExportHistoryStatusId"]) for m in marks],
            [("2026-11-28T17:00:00.000000Z", 1)] * 2,
        )
        self.assertFalse(self.api.mark_batch_imported(guid, start, end, status=2))
        with self.assertRaises(ValueError):
            self.api.mark_batch_imported(guid, start, end, status=3)
        with self.assertRaises(PermanentError) as caught:
            self.api.mark_batch_imported("nope", start, end)
        self.assertEqual(caught.exception.status, 422)

    def test_a_dry_run_reads_and_plans_the_mark(self):
        guid = self.batch(100.0)
        planned = []
        client = self.client(planned=planned)
        batch = next(iter(client.iter_closed_batches(17, today(), today())))
        self.assertEqual(len(list(client.iter_batch_invoices(batch))), 1)
        self.assertEqual(client.get_accounting_systems()[0]["ID"], 17)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(client.mark_batch_imported(guid, now, now))
        self.assertEqual(
            [(p.method, p.path) for p in planned], [("POST", "/invoices/batches/exportHistories")]
        )
        self.assertEqual(self.simulator.count("POST", MARKS), 0)
        self.assertEqual(self.simulator.export_histories(), [])

    def test_faults_are_retried_on_the_new_paths(self):
        guid = self.batch(100.0)
        self.simulator.fail_next(2, status=503, path="/invoices/batches/closed")
        self.simulator.drop_next(path="/invoices/batches/exportHistories", processed=True)
        self.assertEqual(len(list(self.api.iter_closed_batches(17, today(), today()))), 1)
        statuses = [r["status"] for r in self.simulator.requests("GET", CLOSED)]
        self.assertEqual(statuses, [503, 503, 200])
        now = datetime.datetime.now(datetime.timezone.utc)
        with self.assertLogs("urllib3.connectionpool", "WARNING"):
            self.api.mark_batch_imported(guid, now, now)  # the answer lost, asked again: 200
        self.assertEqual(len(self.simulator.export_histories(guid)), 2)

    def test_a_captured_invoice_is_paid_by_its_id(self):
        self.batch(100.0)
        self.simulator.pay([{"invoice_id": "INV-1"}], method="ACH")
        now = datetime.datetime.now(datetime.timezone.utc)
        [payment] = self.api.iter_payments(
            now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=5)
        )
        [line] = payment["Invoices"]
        self.assertEqual(line["Id"], "INV-1")
        self.assertNotIn("ExternalInvoiceId", line)
