"""What we send for a bill (``tools/bill_payload.py``), without a database:
the invoice body, its distributions, the analytic shares and the 409
comparison."""

import datetime
from types import SimpleNamespace

from odoo.tests import BaseCase, tagged

from ..tools import bill_payload

USD = SimpleNamespace(name="USD", decimal_places=2)
JPY = SimpleNamespace(name="JPY", decimal_places=0)
GL = {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "600000"}


def code(group, value):
    return {"GroupName": group, "EnterpriseCodeValue": value}


SALES = code("Department", "D-SAL")
OPS = code("Department", "Operations")
PLANT = code("Location", "PLANT-2")


def payload(**values):
    return bill_payload.invoice_payload(
        **{
            "external_id": "ODOO-abc-1-7",
            "move_type": "in_invoice",
            "number": "BILL/1",
            "invoice_date": datetime.date(2026, 12, 1),
            "due_date": datetime.date(2026, 12, 31),
            "total": 100.0,
            "currency": USD,
            "vendor_code": "ODOO-abc-1-3",
            "distributions": [{"Amount": 100.0, "EnterpriseCodes": [GL]}],
        }
        | values
    )


@tagged("post_install", "-at_install")
class TestBillPayload(BaseCase):
    # === THE INVOICE === #

    def test_the_invoice_body(self):
        self.assertEqual(
            payload(po_number="PO0001", memo=False),
            {
                "ExternalInvoiceId": "ODOO-abc-1-7",
                "InvoiceType": "Invoice",
                "Number": "BILL/1",
                "InvoiceDate": "2026-12-01",
                "InvoiceDueDate": "2026-12-31",
                "GrossAmount": 100.0,
                "Currency": "USD",
                "PONumber": "PO0001",
                "BuyerVendor": {"VendorExternalSystemID": "ODOO-abc-1-3"},
                "Distributions": [{"Amount": 100.0, "EnterpriseCodes": [GL]}],
            },
        )

    def test_a_credit_note_is_a_credit_memo(self):
        self.assertEqual(payload(move_type="in_refund")["InvoiceType"], "CreditMemo")

    def test_the_distributions_add_up_to_the_total(self):
        """Rounding each line may leave a cent: the largest line absorbs it;
        empty distributions are left out."""
        body = payload(
            total=10.01,
            distributions=[{"Amount": 3.34}, {"Amount": 3.33}, {"Amount": 0.0}, {"Amount": 3.33}],
        )
        amounts = [distribution["Amount"] for distribution in body["Distributions"]]
        self.assertEqual(len(amounts), 3)
        self.assertAlmostEqual(sum(amounts), 10.01, places=6)
        self.assertEqual(body["GrossAmount"], 10.01)

    def test_no_distribution_is_no_key(self):
        self.assertNotIn("Distributions", payload(distributions=[]))

    # === DISTRIBUTIONS AND ANALYTIC SHARES === #

    def distributions(self, amount, rows, account_codes=(GL,), currency=USD):
        groups = bill_payload.analytic_shares(rows)
        found = bill_payload.line_distributions(
            amount, " Line ", list(account_codes), groups, currency
        )
        return sorted(
            (line["Amount"], [c["EnterpriseCodeValue"] for c in line["EnterpriseCodes"]])
            for line in found
        )

    def test_a_line_without_analytics_is_coded_with_its_account_only(self):
        self.assertEqual(self.distributions(30.0, []), [(30.0, ["600000"])])

    def test_each_plan_splits_the_line(self):
        rows = [(60.0, [1], [SALES]), (40.0, [1], [OPS])]
        self.assertEqual(
            self.distributions(100.0, rows),
            [(40.0, ["600000", "Operations"]), (60.0, ["600000", "D-SAL"])],
        )

    def test_plans_are_independent(self):
        """60/40 by department and 100 to one location: 60 and 40 there."""
        rows = [(60.0, [1], [SALES]), (40.0, [1], [OPS]), (100.0, [2], [PLANT])]
        self.assertEqual(
            self.distributions(100.0, rows),
            [(40.0, ["600000", "Operations", "PLANT-2"]), (60.0, ["600000", "D-SAL", "PLANT-2"])],
        )

    def test_what_no_row_covers_is_coded_with_the_account_alone(self):
        self.assertEqual(
            self.distributions(100.0, [(25.0, [1], [SALES])]),
            [(25.0, ["600000", "D-SAL"]), (75.0, ["600000"])],
        )

    def test_rows_that_share_a_plan_are_distributions_of_their_own(self):
        rows = [(60.0, [1, 2], [SALES, PLANT]), (40.0, [1], [OPS])]
        groups = bill_payload.analytic_shares(rows)
        self.assertEqual(list(groups), [frozenset()])
        self.assertEqual(
            self.distributions(100.0, rows),
            [(40.0, ["600000", "Operations"]), (60.0, ["600000", "D-SAL", "PLANT-2"])],
        )

    def test_over_a_hundred_percent_is_spread_in_proportion(self):
        rows = [(50.0, [], []), (150.0, [1, 2], [SALES, PLANT])]
        # a row without codes (an account deleted since) is no share
        self.assertEqual(self.distributions(80.0, rows), [(80.0, ["600000", "D-SAL", "PLANT-2"])])
        rows = [(100.0, [1], [SALES]), (100.0, [1], [OPS])]
        self.assertEqual(
            self.distributions(80.0, rows),
            [(40.0, ["600000", "D-SAL"]), (40.0, ["600000", "Operations"])],
        )

    def test_cents_are_reconciled_to_the_line(self):
        rows = [(33.33, [1], [SALES]), (33.33, [1], [OPS]), (33.34, [1], [code("D", "R")])]
        amounts = [amount for amount, _codes in self.distributions(10.01, rows)]
        self.assertAlmostEqual(sum(amounts), 10.01, places=6)
        amounts = [amount for amount, _ in self.distributions(1000, rows, currency=JPY)]
        self.assertEqual(sum(amounts), 1000)

    def test_the_description_is_trimmed_and_capped(self):
        [line] = bill_payload.line_distributions(5.0, " x" * 200, [], {}, USD)
        self.assertEqual(len(line["Description"]), 250)
        [line] = bill_payload.line_distributions(5.0, "  ", [], {}, USD)
        self.assertEqual(line, {"Amount": 5.0})

    # === THE 409 COMPARISON === #

    def held(self, **values):
        return {
            "Id": "INV-1",
            "ExternalInvoiceId": "ODOO-abc-1-7",
            "GrossAmount": 100.0,
            "Currency": "USD",
            "BuyerVendor": {"VendorExternalSystemID": "ODOO-abc-1-3"},
        } | values

    def test_the_invoice_held_is_the_one_we_sent(self):
        self.assertTrue(bill_payload.is_invoice_sent(self.held(), payload()))
        self.assertTrue(bill_payload.is_invoice_sent(self.held(GrossAmount=100), payload()))
        without_currency = self.held()
        del without_currency["Currency"]
        self.assertTrue(bill_payload.is_invoice_sent(without_currency, payload()))

    def test_another_invoice_is_not_taken_for_ours(self):
        for values in (
            {"ExternalInvoiceId": "ODOO-xyz-1-7"},
            {"GrossAmount": 100.01},
            {"GrossAmount": "100.00"},
            {"Currency": "EUR"},
            {"BuyerVendor": {"VendorExternalSystemID": "ODOO-abc-1-4"}},
            {"BuyerVendor": "ODOO-abc-1-3"},
        ):
            with self.subTest(values=values):
                self.assertFalse(bill_payload.is_invoice_sent(self.held(**values), payload()))

    def test_what_the_held_invoice_says(self):
        self.assertEqual(bill_payload.held_invoice(self.held()), (100.0, "ODOO-abc-1-3", "USD"))
        self.assertEqual(
            bill_payload.held_invoice({"GrossAmount": "1", "Currency": 3, "BuyerVendor": []}),
            (None, None, None),
        )
