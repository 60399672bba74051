"""What a captured invoice says, without a database (``tools/captured_invoice.py``):
every value checked as the contract promises, every problem said in words,
and what changed between two closings of a batch."""

import dataclasses
import datetime

from odoo.tests import BaseCase, tagged

from ..tools.captured_invoice import differences, parse_captured, tax_id_key, vendor_code
from ..tools.payment_report import ReportError


def item(**fields):
    return {
        "Id": "INV-9001",
        "Number": "A-7731",
        "InvoiceType": "Invoice",
        "InvoiceDate": "2026-11-20",
        "InvoiceDueDate": "2026-12-20",
        "GrossAmount": 1250.0,
        "Currency": "USD",
        "PONumber": "P00017",
        "Memo": "Dock 3",
        "ImageUrl": "/avidconnect/v1/invoices/INV-9001/image",
        "BuyerVendor": {
            "VendorName": "Acme Steel",
            "VendorExternalSystemID": "ODOO-3f2a9c1b-1-42|77",
            "FedTaxId": "12-3456789",
        },
        "Distributions": [
            {
                "Amount": 1000.0,
                "Description": "Steel plate",
                "Quantity": 10,
                "EnterpriseCodes": [
                    {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600000"},
                    {"GroupName": "Location", "EnterpriseCodeValue": "PLANT-2"},
                ],
            },
            {
                "Amount": 250.0,
                "Description": "Freight",
                "EnterpriseCodes": [
                    {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600100"}
                ],
            },
        ],
        **fields,
    }


@tagged("post_install", "-at_install")
class TestCapturedInvoiceParse(BaseCase):
    def problems(self, value):
        with self.assertRaises(ReportError) as caught:
            parse_captured(value)
        return str(caught.exception)

    def test_the_contracts_example(self):
        invoice = parse_captured(item())
        self.assertEqual(
            (invoice.invoice_id, invoice.number, invoice.move_type, invoice.gross),
            ("INV-9001", "A-7731", "in_invoice", 1250.0),
        )
        self.assertEqual(invoice.invoice_date, datetime.date(2026, 11, 20))
        self.assertEqual(invoice.vendor_code, "ODOO-3f2a9c1b-1-42", "the address part ignored")
        steel, freight = invoice.distributions
        self.assertEqual(
            (steel.amount, steel.quantity, steel.account_code, steel.dimensions),
            (1000.0, 10.0, "600000", (("Location", "PLANT-2"),)),
        )
        self.assertEqual((freight.quantity, freight.account_code), (None, "600100"))
        credit = parse_captured(item(InvoiceType="CreditMemo"))
        self.assertEqual(credit.move_type, "in_refund")

    def test_what_is_optional(self):
        invoice = parse_captured(
            item(Currency=None, InvoiceDueDate=None, PONumber=None, ImageUrl=None, BuyerVendor=None)
        )
        self.assertIsNone(invoice.currency, "the company's then")
        self.assertEqual((invoice.vendor_code, invoice.vendor_name), (None, None))

    def test_untrusted_values_are_refused_in_words(self):
        for fields, words in (
            ({"Id": None}, "no Id"),
            ({"InvoiceType": "Receipt"}, "InvoiceType 'Receipt'"),
            ({"InvoiceDate": "20/11/2026"}, "InvoiceDate"),
            ({"GrossAmount": "1250.00"}, "GrossAmount is not a number"),
            ({"GrossAmount": float("nan")}, "not a finite number"),
            ({"GrossAmount": -5.0}, "not positive"),
            ({"GrossAmount": 1250.001}, "more than two decimals"),
            ({"Currency": "usd"}, "ISO 4217"),
            ({"BuyerVendor": "Acme"}, "BuyerVendor is not an object"),
            ({"Distributions": []}, "no Distributions"),
            ({"Distributions": [{"Amount": 1250.0, "Quantity": -1}]}, "Quantity"),
            ({"GrossAmount": 1300.0}, "add up to 1250.00, not its GrossAmount 1300.00"),
            ({"Memo": "nul\x00"}, "cannot keep"),
        ):
            with self.subTest(fields=fields):
                self.assertIn(words, self.problems(item(**fields)))
        self.assertIn("not an object", self.problems(["INV-1"]))
        two_accounts = item()
        two_accounts["Distributions"][1]["EnterpriseCodes"].append(
            {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600200"}
        )
        self.assertIn("several GL accounts", self.problems(two_accounts))

    def test_a_cent_of_rounding_is_allowed(self):
        self.assertEqual(parse_captured(item(GrossAmount=1250.01)).gross, 1250.01)

    def test_vendor_codes_and_tax_ids(self):
        self.assertEqual(vendor_code(" ODOO-1-42 | 7 "), "ODOO-1-42")
        self.assertIsNone(vendor_code(""))
        self.assertIsNone(vendor_code("|7"))
        self.assertEqual(tax_id_key("12-3456789"), tax_id_key("123456789"))
        self.assertIsNone(tax_id_key(" - "))
        self.assertIsNone(tax_id_key(None))

    def test_what_changed_in_words(self):
        before = parse_captured(item())
        self.assertEqual(differences(before, before), [])
        after = dataclasses.replace(before, gross=1300.0, invoice_date=datetime.date(2026, 11, 25))
        self.assertEqual(
            differences(before, after), ["date 2026-11-20 → 2026-11-25", "amount 1250.00 → 1300.00"]
        )
        fewer = dataclasses.replace(before, distributions=before.distributions[:1])
        self.assertEqual(differences(before, fewer), ["lines (2 → 1)"])
