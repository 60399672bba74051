"""Vendor credit notes go to AvidXchange as credit memos; a payment that
consumes a credit sets the credit note against the bills it pays."""

from odoo.tests import tagged

from .common import COMPANY_ID, EnterpriseMode, PaymentCase


@tagged("post_install", "-at_install")
class TestCreditMemos(PaymentCase):
    def exported_credit(self, amount, ref="CREDIT-1", taxes=None):
        credit = self.bill(self.acme, amount, move_type="in_refund", ref=ref, taxes=taxes)
        self.run_stream("bill")
        self.assertEqual(credit.avidxchange_state, "synced", credit.avidxchange_error)
        return credit

    def test_a_credit_note_goes_as_a_credit_memo(self):
        credit = self.exported_credit(40.0, taxes=self.tax_purchase_a)
        remote = self.simulator.get_invoice(credit.avidxchange_invoice_id)
        self.assertEqual(remote["InvoiceType"], "CreditMemo")
        self.assertEqual(remote["GrossAmount"], credit.amount_total)
        self.assertGreater(remote["GrossAmount"], 40.0, "taxes included")
        amounts = [line["Amount"] for line in remote["Distributions"]]
        self.assertTrue(all(amount > 0 for amount in amounts), amounts)
        self.assertAlmostEqual(sum(amounts), credit.amount_total, places=2)
        bill = self.exported_bill(10.0)
        self.assertEqual(
            self.simulator.get_invoice(bill.avidxchange_invoice_id)["InvoiceType"], "Invoice"
        )

    def test_a_payment_that_consumes_a_credit_sets_it_against_the_bill(self):
        bill = self.exported_bill(100.0)
        credit = self.exported_credit(20.0)
        report = self.pay((bill, 100.0), (credit, 20.0))
        self.assertEqual(report["Amount"], 80.0)
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.state, "posted", payment.error_message)
        odoo_payment = payment.odoo_payment_ids
        self.assertEqual(odoo_payment.amount, 80.0)
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(credit.amount_residual, 0.0)
        credit_line = credit.line_ids.filtered(
            lambda line: line.account_type == "liability_payable"
        )
        self.assertEqual(
            credit_line.matched_credit_ids.credit_move_id.move_id, odoo_payment.move_id
        )
        self.assertIn("consumed $&nbsp;20.00 of this credit note", credit.message_ids[0].body)

    def test_a_credit_spread_over_partly_paid_bills(self):
        first = self.exported_bill(100.0, ref="A")
        second = self.exported_bill(30.0, ref="B")
        credit = self.exported_credit(20.0)
        report = self.pay((first, 50.0), (second, 30.0), (credit, 20.0))
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted", self.imported(report).error_message)
        self.assertEqual(self.imported(report).odoo_payment_ids.amount, 60.0)
        self.assertEqual(
            (first.amount_residual, second.amount_residual, credit.amount_residual),
            (50.0, 0.0, 0.0),
        )

    def test_a_void_gives_the_credit_back(self):
        bill = self.exported_bill(100.0)
        credit = self.exported_credit(20.0)
        report = self.pay((bill, 100.0), (credit, 20.0))
        self.run_stream("payment")
        self.simulator.void_payment(report["PaymentId"])
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "reversed")
        self.assertEqual((bill.amount_residual, credit.amount_residual), (100.0, 20.0))
        self.assertIn("the credit note is open again", credit.message_ids[0].body)

    def test_a_credit_on_a_bill_or_a_payment_on_a_credit_note_needs_attention(self):
        bill = self.exported_bill(100.0)
        credit = self.exported_credit(20.0)
        other = self.exported_bill(50.0, ref="OTHER")
        cases = {
            "credit taken on a bill": self.report("PAY-X1", (bill, 100.0), (other, -20.0)),
            "credit note paid": self.report("PAY-X2", (bill, 80.0), (credit, 20.0)),
            "more credit than left": self.report("PAY-X3", (bill, 75.0), (credit, -25.0)),
        }
        for item in cases.values():
            self.inject(item)
        self.run_stream("payment")
        for name, item in cases.items():
            with self.subTest(name):
                payment = self.imported(item)
                self.assertEqual(payment.state, "error", payment.error_message)
                self.assertFalse(payment.odoo_payment_ids)
        self.assertEqual(
            (bill.amount_residual, credit.amount_residual, other.amount_residual),
            (100.0, 20.0, 50.0),
        )
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 3)


@tagged("post_install", "-at_install")
class TestCreditMemosEnterprise(EnterpriseMode, TestCreditMemos):
    """The same, with Enterprise's accounting installed."""
