"""Invoices captured in AvidXchange: accounting systems, closed batches, a batch's
invoices, images and the marks of an import, with the admin actions that drive them."""

import base64
from datetime import datetime, timedelta, timezone

import requests

from .common import ApiCase, detail

ACME = {"VendorName": "Acme Steel", "VendorExternalSystemID": "ODOO-1-42|7", "FedTaxId": "12-3"}
CLOSED = "/invoices/batches/closed/acctgSysId/"
MARKS = "/invoices/batches/exportHistories"


def day(moment):
    return moment.date().isoformat()


class CapturedCase(ApiCase):
    def capture(self, number="A-1", amount=100.0, **options):
        return self.simulator.capture_invoice(number, ACME, amount=amount, **options)

    def closed(self, day_from, day_to=None, system=17, **params):
        params = {"closeDateFrom": day_from, "closeDateTo": day_to or day_from, **params}
        return self.api.get(f"{CLOSED}{system}", params=params)

    def details(self, batch, **params):
        href = batch["Links"][0]["Href"]
        return self.api.get(self.simulator.base_url + href, params=params)

    def mark(self, guid, status=1, **body):
        body = {
            "BatchId": guid,
            "StartDate": "2026-11-28T17:00:00Z",
            "EndDate": "2026-11-28T17:01:00.5Z",
            "ExportHistoryStatusId": status,
            **body,
        }
        return self.api.post(MARKS, json=body)


class TestCapturedInvoices(CapturedCase):
    def test_accounting_systems(self):
        answer = self.api.get("/accountingSystems")
        self.assertEqual(answer.json(), {"Items": [{"ID": 17, "Name": "Odoo"}]})  # not paged
        systems = [{"ID": 17, "Name": "Odoo"}, {"ID": 18, "Name": "Odoo staging"}]
        requests.post(
            f"{self.simulator.base_url}/_sim/set_accounting_systems",
            json={"systems": systems},
            timeout=10,
        ).raise_for_status()
        self.assertEqual(self.api.get("/accountingSystems").json()["Items"], systems)
        self.assertEqual(self.api.get("/accountingSystems?pageSize=1").status_code, 400)

    def test_a_batch_lists_its_invoices_in_the_contracts_shape(self):
        lines = [
            {
                "Amount": 1000.0,
                "Description": "Steel plate",
                "Quantity": 10,
                "EnterpriseCodes": [
                    {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600000"},
                    {"GroupName": "Location", "EnterpriseCodeValue": "PLANT-2"},
                ],
            },
            {"Amount": 250.0, "Description": "Freight", "EnterpriseCodes": []},
        ]
        invoice_id = self.simulator.capture_invoice(
            "A-7731", ACME, distributions=lines, po_number="P00017", due_date="2026-12-20"
        )
        credit_id = self.capture("CM-1", 50.0, invoice_type="CreditMemo")
        guid = self.simulator.close_batch([invoice_id, credit_id], batch_name="AP #3")
        batch = self.api.get(f"/invoices/batches/{guid}").json()
        self.assertEqual(
            {k: batch[k] for k in ("BatchGUID", "BatchName", "InvoiceCount", "BatchTotal")},
            {"BatchGUID": guid, "BatchName": "AP #3", "InvoiceCount": 2, "BatchTotal": 1200.0},
        )
        self.assertEqual(
            batch["Links"],
            [{"Rel": "full-details", "Href": f"/avidconnect/v1/invoices/batches/{guid}/invoices"}],
        )
        first, credit = self.details(batch).json()["Items"]
        self.assertEqual(first["Id"], invoice_id)
        self.assertEqual((first["GrossAmount"], first["Currency"]), (1250.0, "USD"))
        self.assertEqual((first["PONumber"], first["InvoiceDueDate"]), ("P00017", "2026-12-20"))
        self.assertEqual(first["BuyerVendor"], ACME)
        self.assertEqual(first["Distributions"][0]["EnterpriseCodes"][1]["GroupName"], "Location")
        self.assertEqual(first["ImageUrl"], f"/avidconnect/v1/invoices/{invoice_id}/image")
        self.assertNotIn("ExternalInvoiceId", first)
        self.assertEqual((credit["InvoiceType"], credit["GrossAmount"]), ("CreditMemo", 50.0))
        self.assertEqual(self.api.get("/invoices/batches/nope").status_code, 404)
        self.assertEqual(self.api.get("/invoices/batches").status_code, 404)  # no invoice
        self.assertEqual(self.api.get(MARKS).status_code, 405)  # not a batch: POST only
        self.assertEqual(self.api.get("/invoices/batches/nope/invoices").status_code, 404)

    def test_closed_batches_by_day_both_inclusive(self):
        now = datetime.now(timezone.utc)
        earlier = now - timedelta(days=3)
        old = self.simulator.close_batch([self.capture("A-1")], date_closed=earlier.isoformat())
        new = self.simulator.close_batch([self.capture("A-2")])
        guids = [b["BatchGUID"] for b in self.closed(day(earlier), day(now)).json()["Items"]]
        self.assertEqual(guids, [old, new])
        self.assertEqual([b["BatchGUID"] for b in self.closed(day(now)).json()["Items"]], [new])
        self.assertEqual(self.closed(day(now - timedelta(days=1))).json()["Items"], [])
        self.assertEqual(self.closed(day(now), system=18).status_code, 404)

    def test_more_than_thirty_days_apart_is_400(self):
        self.assertEqual(self.closed("2026-11-01", "2026-12-01").status_code, 200)
        answer = self.closed("2026-11-01", "2026-12-02")
        self.assertEqual(answer.status_code, 400)
        self.assertIn("more than 30 days", detail(answer))
        refusals = [
            ("2026-11-01", None, "required"),
            ("2026-11-02", "2026-11-01", "before"),
            ("11/01/2026", "2026-11-01", "closeDateFrom: expected a date"),
        ]
        for first, last, expected in refusals:
            params = {"closeDateFrom": first, "closeDateTo": last}
            refused = self.api.get(f"{CLOSED}17", params=params)
            self.assertEqual((refused.status_code, expected in detail(refused)), (400, True))
        unknown = self.closed("2026-11-01", lastModifiedFrom="2026-11-01T00:00:00Z")
        self.assertIn("Unknown query", detail(unknown))

    def test_paging(self):
        ids = [self.capture(f"A-{n}", 10.0 + n) for n in range(5)]
        for n in range(3):
            self.simulator.close_batch([ids[n]])
        today = day(datetime.now(timezone.utc))
        page = self.closed(today, pageSize=2).json()
        self.assertEqual((page["Paging"]["Pages"], page["Paging"]["TotalItems"]), (2, 3))
        [link] = page["Paging"]["Links"]
        last = self.api.get(link["Href"]).json()
        self.assertEqual((len(last["Items"]), last["Paging"]["Links"]), (1, []))
        batch = self.simulator.get_batch(self.simulator.close_batch(ids[3:]))
        first = self.details(batch, pageSize=1).json()
        self.assertEqual([i["Id"] for i in first["Items"]], [ids[3]])
        second = self.api.get(first["Paging"]["Links"][0]["Href"]).json()
        self.assertEqual([i["Id"] for i in second["Items"]], [ids[4]])

    def test_image_or_404(self):
        drawn = self.capture("A-1", image=True)
        given = self.capture(
            "A-2",
            image={"FileName": "scan.png", "ContentType": "image/png", "Content": "iVBORw=="},
        )
        none = self.capture("A-3")
        image = self.api.get(f"/invoices/{drawn}/image").json()
        self.assertEqual((image["FileName"], image["ContentType"]), ("A-1.pdf", "application/pdf"))
        self.assertTrue(base64.b64decode(image["Content"]).startswith(b"%PDF-"))
        self.assertEqual(self.api.get(f"/invoices/{given}/image").json()["Content"], "iVBORw==")
        missing = self.api.get(f"/invoices/{none}/image")
        self.assertEqual(missing.status_code, 404)
        self.assertIn("No image", detail(missing))
        self.assertEqual(self.api.get("/invoices/INV-404/image").status_code, 404)

    def test_marks_201_then_200_and_the_batch_stays_listed(self):
        guid = self.simulator.close_batch([self.capture()])
        self.assertEqual(self.mark(guid).status_code, 201)
        again = self.mark(guid)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["BatchId"], guid)
        today = day(datetime.now(timezone.utc))
        self.assertEqual(len(self.closed(today).json()["Items"]), 1)
        marks = self.simulator.export_histories(guid)
        self.assertEqual([m["ExportHistoryStatusId"] for m in marks], [1, 1])
        self.assertEqual(marks[0]["BatchDateClosed"], self.simulator.get_batch(guid)["DateClosed"])
        cases = [
            ({"BatchId": "nope"}, "unknown batch"),
            ({"ExportHistoryStatusId": 3}, "must be 1 (imported) or 2 (failed)"),
            ({"StartDate": "yesterday"}, "StartDate: must be an ISO 8601"),
            ({"EndDate": "2026-11-28T16:00:00Z"}, "EndDate: is before StartDate"),
            ({"BatchId": None}, "BatchId: is required"),
        ]
        for body, expected in cases:
            with self.subTest(body=body):
                answer = self.mark(guid, **body)
                self.assertEqual(answer.status_code, 422)
                self.assertIn(expected, detail(answer))
        self.assertEqual(len(self.simulator.export_histories()), 2)

    def test_reclose_with_changes(self):
        kept, changed, removed = (self.capture(f"A-{n}") for n in range(3))
        guid = self.simulator.close_batch([kept, changed, removed])
        before = self.simulator.get_batch(guid)
        added = self.capture("A-9", 70.0)
        self.simulator.reclose_batch(
            guid,
            add=[added],
            remove=[removed],
            change={changed: {"Distributions": [{"Amount": 120.0, "Description": "More"}]}},
        )
        after = self.simulator.get_batch(guid)
        self.assertGreater(after["DateClosed"], before["DateClosed"])
        self.assertEqual((after["InvoiceCount"], after["BatchTotal"]), (3, 290.0))
        items = {i["Id"]: i for i in self.details(after).json()["Items"]}
        self.assertEqual(list(items), [kept, changed, added])
        self.assertEqual(items[changed]["GrossAmount"], 120.0)
        self.assertGreater(items[changed]["LastChangedDate"], items[kept]["LastChangedDate"])
        self.assertEqual(self.simulator.get_invoice(changed)["Balance"], 120.0)
        with self.assertRaisesRegex(ValueError, "closed later"):
            self.simulator.reclose_batch(guid, date_closed=before["DateClosed"])
        with self.assertRaisesRegex(ValueError, "is not in batch"):
            self.simulator.reclose_batch(guid, remove=[removed])

    def test_a_captured_invoice_is_paid_by_its_id(self):
        invoice_id = self.capture("A-1", 100.0)
        payment = self.simulator.pay([{"invoice_id": invoice_id, "amount": 60.0}])
        self.assertEqual(
            payment["Invoices"],
            [{"Id": invoice_id, "Number": "A-1", "AmountPaid": 60.0, "Discount": 0.0}],
        )
        self.assertEqual(self.simulator.get_invoice(invoice_id)["Balance"], 40.0)

    def test_auto_advance_pays_a_captured_invoice_once_imported(self):
        invoice_id = self.capture("A-1", 100.0)
        guid = self.simulator.close_batch([invoice_id])
        self.assertEqual(self.simulator.advance()["paid"], [])
        self.mark(guid, status=2)
        self.assertEqual(self.simulator.advance()["paid"], [])  # a failed import: not yet
        self.mark(guid)
        self.assertEqual(len(self.simulator.advance()["paid"]), 1)

    def test_capture_refusals(self):
        cases = [
            ({"amount": None}, "give amount or distributions"),
            ({"invoice_type": "Bill"}, "InvoiceType must be one of"),
            ({"currency": "usd"}, "ISO 4217"),
            ({"distributions": [{"Amount": 10.0}], "amount": 20.0}, "add up to 10.00"),
            ({"amount": -5.0}, "must be > 0"),
        ]
        for options, expected in cases:
            with self.subTest(options=options), self.assertRaisesRegex(ValueError, expected):
                self.simulator.capture_invoice("A-1", ACME, **{"amount": 10.0, **options})
        with self.assertRaisesRegex(TypeError, "image must be"):
            self.simulator.capture_invoice("A-1", ACME, amount=10.0, image="yes")
        with self.assertRaisesRegex(ValueError, "VendorName"):
            self.simulator.capture_invoice("A-1", {"VendorExternalSystemID": "X"}, amount=1.0)
        self.add_vendor()
        sent = self.add_invoice(1)
        with self.assertRaisesRegex(KeyError, "captured"):
            self.simulator.close_batch([sent])
        first = self.capture()
        self.simulator.close_batch([first])
        with self.assertRaisesRegex(ValueError, "is in batch"):
            self.simulator.close_batch([first])
        with self.assertRaisesRegex(ValueError, "one currency"):
            self.simulator.close_batch([self.capture("E-1"), self.capture("E-2", currency="EUR")])

    def test_fields_are_listed_as_given(self):
        wrong = self.capture(fields={"GrossAmount": "100.00", "Distributions": None})
        batch = self.simulator.get_batch(self.simulator.close_batch([wrong]))
        [item] = self.details(batch).json()["Items"]
        self.assertEqual((item["GrossAmount"], item["Distributions"]), ("100.00", None))

    def test_faults_on_the_new_paths(self):
        guid = self.simulator.close_batch([self.capture()])
        self.simulator.fail_next(status=503, path="/invoices/batches/closed")
        today = day(datetime.now(timezone.utc))
        self.assertEqual(self.closed(today).status_code, 503)
        self.assertEqual(self.closed(today).status_code, 200)
        self.simulator.drop_next(path="/invoices/batches/exportHistories", processed=True)
        with self.assertRaises(requests.ConnectionError):
            self.mark(guid)
        self.assertEqual(len(self.simulator.export_histories(guid)), 1)  # handled, answer lost
        self.assertEqual(self.mark(guid).status_code, 200)

    def test_admin_api(self):
        def post(action, **body):
            answer = requests.post(
                f"{self.simulator.base_url}/_sim/{action}", json=body, timeout=10
            )
            self.assertEqual(answer.status_code, 200, answer.text)
            return answer.json()["result"]

        invoice_id = post("capture_invoice", number="A-1", vendor=ACME, amount=10.0, image=True)
        guid = post("close_batch", invoice_ids=[invoice_id], date_closed="2026-11-28T17:04:09Z")
        self.assertEqual(
            post("get_batch", batch_guid=guid)["DateClosed"], "2026-11-28T17:04:09.000000Z"
        )
        added = post("capture_invoice", number="A-2", vendor=ACME, amount=5.0)
        post("reclose_batch", batch_guid=guid, add=[added])
        self.assertEqual(post("batches")[0]["InvoiceCount"], 2)
        self.mark(guid)
        marks = requests.get(
            f"{self.simulator.base_url}/_sim/export_histories",
            params={"batch_guid": guid},
            timeout=10,
        )
        self.assertEqual(len(marks.json()["result"]), 1)
        self.assertEqual(self.closed("2026-11-28").json()["Items"], [])  # closed again today
        today = day(datetime.now(timezone.utc))
        self.assertEqual([b["BatchGUID"] for b in self.closed(today).json()["Items"]], [guid])
