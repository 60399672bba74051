"""Payments made in AvidXchange come back as native, reconciled Odoo payments."""

from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from .common import EnterpriseMode, PaymentCase

PAYMENT_LOGGER = "odoo.addons.account_avidxchange.models.avidxchange_payment"


@tagged("post_install", "-at_install")
class TestPaymentImport(PaymentCase):
    def test_full_ach_payment_is_registered_and_reconciled(self):
        bill = self.exported_bill(1250.0)
        report = self.pay((bill, 1250.0), method="ACH")
        count, _left = self.run_stream("payment")
        self.assertEqual(count, 1)
        payment = self.imported(report)
        self.assertEqual(
            (payment.state, payment.status, payment.method), ("posted", "Issued", "ACH")
        )
        self.assertEqual(payment.trace_number, report["TraceNumber"])
        self.assertEqual(payment.gl_posting_codes, "101200")
        odoo_payment = payment.odoo_payment_ids
        self.assertEqual(len(odoo_payment), 1)
        self.assertEqual(odoo_payment.amount, 1250.0)
        self.assertEqual(odoo_payment.journal_id, self.backend.journal_id)
        self.assertEqual(odoo_payment.partner_id, self.acme)
        self.assertEqual(
            odoo_payment.memo,
            f"AvidXchange {report['PaymentId']} ACH trace {report['TraceNumber']}",
        )
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertIn(odoo_payment, bill.matched_payment_ids)
        notes = bill.message_ids.mapped("body")
        self.assertTrue([n for n in notes if "Submitted to AvidXchange as invoice" in n])
        self.assertTrue([n for n in notes if f"Paid through AvidXchange: {odoo_payment.memo}" in n])

    def test_approval_status_comes_back_to_the_bill(self):
        approved = self.exported_bill(10.0, ref="OK-1")
        rejected = self.bill(self.acme, 20.0, ref="NO-1")
        self.run_stream("bill")
        reason = "Duplicate of <b>INV-1</b>"  # the approver's words: text, never markup
        self.simulator.reject_invoice(rejected.avidxchange_invoice_id, reason=reason)
        self.run_stream("payment")
        self.assertEqual(approved.avidxchange_status, "Approved")
        self.assertEqual(rejected.avidxchange_status, "Rejected")
        self.assertIn(
            "AvidXchange status: Rejected. Reason: Duplicate of &lt;b&gt;INV-1&lt;/b&gt;",
            rejected.message_ids[0].body,
        )
        self.assertEqual(self.simulator.count("GET", "/invoices"), 1)

    def test_partial_payments_then_full(self):
        bill = self.exported_bill(100.0)
        self.pay((bill, 40.0), method="Check")
        self.run_stream("payment")
        self.assertEqual(bill.payment_state, "partial")
        self.assertEqual(bill.amount_residual, 60.0)
        self.pay((bill, 60.0), method="Check")
        self.run_stream("payment")
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(bill.matched_payment_ids), 2)
        numbers = bill.matched_payment_ids.avidxchange_payment_id.mapped("check_number")
        self.assertEqual(len(set(numbers)), 2)

    def test_one_payment_settles_several_bills(self):
        first = self.exported_bill(300.0, ref="A-1")
        second = self.exported_bill(200.0, ref="A-2")
        report = self.pay((first, 300.0), (second, 200.0), method="VirtualCard")
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.amount, 500.0)
        # one check, one bank debit: one Odoo payment, reconciled with both bills
        self.assertEqual(payment.odoo_payment_ids.mapped("amount"), [500.0])
        self.assertEqual(first.matched_payment_ids, payment.odoo_payment_ids)
        self.assertEqual(second.matched_payment_ids, payment.odoo_payment_ids)
        self.assertEqual(payment.bill_ids, first | second)
        Payment = self.env["avidxchange.payment"]
        self.assertEqual(Payment.search([("bill_ids", "in", second.ids)]), payment)
        for bill in (first, second):
            self.assertEqual(bill.amount_residual, 0.0)

    def test_each_bill_is_relieved_of_its_own_allocation(self):
        big = self.exported_bill(1000.0, ref="BIG")
        small = self.exported_bill(200.0, ref="SMALL")
        self.pay((big, 300.0), (small, 200.0))  # the big bill in part, the small one whole
        self.run_stream("payment")
        self.assertEqual((big.amount_residual, small.amount_residual), (700.0, 0.0))

    def test_a_partial_payment_may_take_a_discount(self):
        gain = self.company_data["default_account_revenue"]
        self.env.company.account_journal_early_pay_discount_gain_account_id = gain
        bill = self.exported_bill(1000.0)
        report = self.pay((bill, 480.0, 20.0))  # AmountPaid + Discount relieve the bill of 500
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted")
        self.assertEqual(bill.amount_residual, 500.0)
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.amount, 480.0)
        write_off = odoo_payment.move_id.line_ids.filtered(lambda line: line.account_id == gain)
        self.assertEqual(write_off.balance, -20.0)

    def test_discount_is_written_off(self):
        gain = self.company_data["default_account_revenue"]
        self.env.company.account_journal_early_pay_discount_gain_account_id = gain
        bill = self.exported_bill(100.0)
        self.pay((bill, 95.0, 5.0))
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.amount, 95.0)
        self.assertEqual(bill.amount_residual, 0.0)
        write_off = odoo_payment.move_id.line_ids.filtered(lambda line: line.account_id == gain)
        self.assertEqual(abs(write_off.balance), 5.0)

    def test_the_same_report_twice_posts_once(self):
        bill, report = self.imported_payment(80.0)
        self.simulator.report_again(report["PaymentId"])
        self.stream("payment").mark = False  # read the whole history again too
        self.run_stream("payment")
        self.assertEqual(len(self.imported(report).odoo_payment_ids), 1)
        self.assertEqual(len(bill.matched_payment_ids), 1)

    def test_cleared_after_issued_posts_nothing_new(self):
        _bill, report = self.imported_payment(80.0)
        self.simulator.clear_payment(report["PaymentId"])
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual((payment.status, payment.state), ("Cleared", "posted"))
        self.assertTrue(payment.cleared_date)
        self.assertEqual(len(payment.odoo_payment_ids), 1)

    def test_void_undoes_the_registered_payment(self):
        bill = self.exported_bill(80.0)
        report = self.pay((bill, 80.0))
        self.run_stream("payment")
        self.assertEqual(bill.amount_residual, 0.0)
        self.simulator.void_payment(report["PaymentId"])
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual((payment.status, payment.state), ("Void", "reversed"))
        self.assertEqual(payment.odoo_payment_ids.state, "canceled")
        self.assertEqual(bill.payment_state, "not_paid")
        self.assertEqual(bill.amount_residual, 80.0)
        self.assertIn("reported payment", bill.message_ids[0].body)
        self.assertIn("as Void", bill.message_ids[0].body)

    def test_a_void_in_a_locked_period_is_reversed_on_the_first_open_date(self):
        bill = self.exported_bill(80.0)
        report = self.pay((bill, 80.0), payment_date="2026-11-02")
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.date.isoformat(), "2026-11-02")
        self.env.company.fiscalyear_lock_date = "2026-11-15"  # its month is closed
        self.simulator.void_payment(report["PaymentId"])
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual((payment.state, payment.error_message), ("reversed", False))
        self.assertEqual(bill.amount_residual, 80.0)
        self.assertEqual(bill.payment_state, "not_paid")
        reversal = self.env["account.move"].search(
            [("reversed_entry_id", "=", odoo_payment.move_id.id)]
        )
        self.assertEqual(reversal.state, "posted")
        self.assertGreater(reversal.date.isoformat(), "2026-11-15")
        self.assertIn("reversed", bill.message_ids[0].body)

    def test_a_void_and_its_reissue_in_one_import(self):
        bill = self.exported_bill(100.0)
        first = self.pay((bill, 100.0))
        self.run_stream("payment")
        # AvidXchange voids the first payment and issues a new one; the void is
        # touched again after the new one, so the list shows the new one first.
        self.simulator.void_payment(first["PaymentId"])
        second = self.pay((bill, 100.0))
        self.simulator.report_again(first["PaymentId"])
        self.run_stream("payment")
        self.assertEqual(self.imported(first).state, "reversed")
        self.assertEqual(self.imported(second).state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(self.simulator.get_invoice(bill.avidxchange_invoice_id)["Balance"], 0.0)

    def test_a_failure_in_a_batch_stays_on_its_own_payment(self):
        """A slice is registered together; when that fails, one by one, so
        that only the culprit needs attention: here a vendor whose payable
        account was archived after its bill was posted."""
        old_payables = self.env["account.account"].create(
            {
                "code": "211099",
                "name": "Payables (old chart)",
                "account_type": "liability_payable",
                "reconcile": True,
            }
        )
        old = self.vendor("Old Chart Vendor", property_account_payable_id=old_payables.id)
        first = self.exported_bill(10.0, ref="B-1")
        culprit = self.exported_bill(20.0, ref="B-2", vendor=old)
        last = self.exported_bill(30.0, ref="B-3")
        reports = [self.pay((bill, bill.amount_total)) for bill in (first, culprit, last)]
        old_payables.active = False
        self.run_stream("payment")
        states = [self.imported(report).state for report in reports]
        self.assertEqual(states, ["posted", "error", "posted"])
        self.assertIn("archived", self.imported(reports[1]).error_message)
        residuals = [bill.amount_residual for bill in (first, culprit, last)]
        self.assertEqual(residuals, [0.0, 20.0, 0.0])
        trail = self.exchanges(operation="payment", res_model="avidxchange.payment")
        self.assertEqual(sorted(trail.mapped("state")), ["failed", "success", "success"])

    def test_an_unforeseen_error_in_a_slice_stays_on_its_own_payment(self):
        """A slice's reports are checked together, in one savepoint: should
        an error nobody foresaw stop one, that work is undone and done again
        one report at a time, so that the others are registered and only the
        culprit needs attention (saying what kind of error)."""
        first = self.exported_bill(10.0, ref="B-1")
        culprit = self.exported_bill(20.0, ref="B-2")
        last = self.exported_bill(30.0, ref="B-3")
        reports = [self.pay((bill, bill.amount_total)) for bill in (first, culprit, last)]
        Payment = type(self.env["avidxchange.payment"])
        check_allocation = Payment._check_allocation

        def failing_on_the_culprit(payment, bill, allocation, currency):
            if bill == culprit:
                raise ZeroDivisionError("a defect in a check")
            return check_allocation(payment, bill, allocation, currency)

        with (
            patch.object(Payment, "_check_allocation", failing_on_the_culprit),
            self.assertLogs(PAYMENT_LOGGER, "ERROR") as logs,
        ):
            self.run_stream("payment")
        self.assertIn("ZeroDivisionError", logs.output[0])  # the details, for whoever fixes it
        states = [self.imported(report).state for report in reports]
        self.assertEqual(states, ["posted", "error", "posted"])
        self.assertIn(
            "unexpected error (ZeroDivisionError)", self.imported(reports[1]).error_message
        )
        residuals = [bill.amount_residual for bill in (first, culprit, last)]
        self.assertEqual(residuals, [0.0, 20.0, 0.0])
        self.assertEqual(len(self.imported(reports[0]).odoo_payment_ids), 1)

    def test_two_payments_of_one_bill_in_one_import(self):
        """Registered together, each payment is checked against what the
        others of its slice left due: two partials pass, a third that would
        pay more than is due needs attention."""
        bill = self.exported_bill(100.0)
        partials = [self.pay((bill, 40.0)), self.pay((bill, 60.0))]
        extra = self.report("PAY-EXTRA", (bill, 10.0))
        self.inject(extra)
        self.run_stream("payment")
        self.assertEqual([self.imported(r).state for r in partials], ["posted", "posted"])
        self.assertEqual(self.imported(extra).state, "error")
        self.assertIn("already paid in Odoo", self.imported(extra).error_message)
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(len(bill.matched_payment_ids), 2)

    def test_pending_and_failed_payments_post_nothing(self):
        bill = self.exported_bill(80.0)
        pending = self.pay((bill, 80.0), status="Pending")
        self.run_stream("payment")
        self.assertEqual(self.imported(pending).state, "waiting")
        self.simulator.error_payment(pending["PaymentId"])
        self.run_stream("payment")
        self.assertEqual(self.imported(pending).state, "reversed")
        self.assertFalse(self.imported(pending).odoo_payment_ids)
        self.assertEqual(bill.payment_state, "not_paid")

    def test_a_bad_report_is_marked_and_the_others_go_on(self):
        bill = self.exported_bill(50.0, ref="GOOD")
        other = self.bill(self.acme, 70.0, ref="PAID-BY-HAND")
        self.run_stream("bill")
        self.release(other)  # an administrator lets Odoo pay it after all
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=other.ids
        ).create({})._create_payments()
        bad = self.pay((other, 70.0))
        good = self.pay((bill, 50.0))
        self.run_stream("payment")
        self.assertEqual(self.imported(bad).state, "error")
        self.assertIn("already paid in Odoo", self.imported(bad).error_message)
        self.assertEqual(self.imported(good).state, "posted")
        self.assertEqual(len(other.matched_payment_ids), 1)  # the one entered by hand

    def test_gl_code_and_method_mappings_choose_journal_and_method(self):
        clearing_journal = self.company_data["default_journal_bank"].copy({"name": "AvidPay"})
        method_line = clearing_journal.outbound_payment_method_line_ids[:1]
        clearing_account = self.company_data["default_journal_bank"].default_account_id.copy()
        self.backend.write(
            {
                "gl_mapping_ids": [
                    (
                        0,
                        0,
                        {
                            "code": "CLEAR-9",
                            "account_id": clearing_account.id,
                            "journal_id": clearing_journal.id,
                        },
                    )
                ],
                "payment_method_mapping_ids": [
                    (
                        0,
                        0,
                        {"avidxchange_method": "Check", "payment_method_line_id": method_line.id},
                    )
                ],
            }
        )
        bill = self.exported_bill(60.0)
        self.pay(
            (bill, 60.0),
            method="Check",
            gl_postings=[
                {"GroupName": "Accounting Codes", "EnterpriseCodeValue": "CLEAR-9", "Amount": 60.0}
            ],
        )
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.journal_id, clearing_journal)
        self.assertEqual(odoo_payment.payment_method_line_id, method_line)
        self.assertEqual(odoo_payment.outstanding_account_id, clearing_account)

    def test_activation_proposes_a_clearing_account_where_payments_wait(self):
        """Without a GL posting code mapped, an AvidXchange payment waits in
        the connection's clearing account until the bank statement shows it:
        one is made at activation when none is set."""
        self.assertFalse(self.backend.clearing_account_id)
        self.backend.bill_date_from = "2026-11-01"
        self.backend.action_activate()
        clearing = self.backend.clearing_account_id
        self.assertEqual(clearing.name, "AvidXchange Clearing")
        self.assertEqual((clearing.account_type, clearing.reconcile), ("asset_current", True))
        self.assertIn("AvidXchange Clearing", self.backend.message_ids[0].body)
        self.backend.action_deactivate()
        self.backend.action_activate()
        self.assertEqual(self.backend.clearing_account_id, clearing, "proposed once")
        bill = self.exported_bill(60.0)
        self.pay((bill, 60.0))
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual(odoo_payment.outstanding_account_id, clearing)
        cash_side = odoo_payment.move_id.line_ids.filtered(lambda line: line.account_id == clearing)
        self.assertEqual(cash_side.balance, -60.0)

    def test_activation_proposes_a_payment_method_per_avidxchange_method(self):
        """Payments say how AvidXchange paid, not "Manual Payment"."""
        self.backend.bill_date_from = "2026-11-01"
        self.backend.action_activate()
        mappings = self.backend.payment_method_mapping_ids
        self.assertEqual(
            sorted(mappings.mapped("payment_method_line_id.name")),
            [
                "AvidXchange ACH",
                "AvidXchange AvidPay Network",
                "AvidXchange Check",
                "AvidXchange Virtual Card",
            ],
        )
        self.assertEqual(mappings.payment_method_line_id.journal_id, self.backend.journal_id)
        self.backend.action_deactivate()
        self.backend.action_activate()
        self.assertEqual(self.backend.payment_method_mapping_ids, mappings, "proposed once")
        bill = self.exported_bill(60.0)
        self.pay((bill, 60.0), method="ACH")
        self.run_stream("payment")
        self.assertEqual(bill.matched_payment_ids.payment_method_line_id.name, "AvidXchange ACH")

    def test_a_connection_may_require_mapped_methods_and_codes(self):
        """Where the connection asks for it, a payment by a method or to a GL
        posting code that no mapping names needs attention instead of going
        to the journal's defaults; Retry registers it once mapped."""
        self.backend.write({"require_method_mapping": True, "require_gl_mapping": True})
        bill = self.exported_bill(60.0)
        gl = [{"GroupName": "Accounting Codes", "EnterpriseCodeValue": "CLEAR-9", "Amount": 60}]
        report = self.pay((bill, 60.0), method="Check", gl_postings=gl)
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.state, "error")
        self.assertIn("GL posting code Accounting Codes / CLEAR-9", payment.error_message)
        account = self.company_data["default_journal_bank"].default_account_id.copy()
        self.backend.gl_mapping_ids = [
            Command.create({"code": "CLEAR-9", "account_id": account.id})
        ]
        action = payment.action_retry()
        self.assertEqual(payment.state, "error")
        self.assertIn("paid by Check, a method no mapping names", payment.error_message)
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("1 still need attention: ", action["params"]["message"])
        journal = self.backend.journal_id
        self.backend.payment_method_mapping_ids = [
            Command.create(
                {
                    "avidxchange_method": "Check",
                    "payment_method_line_id": journal.outbound_payment_method_line_ids[:1].id,
                }
            )
        ]
        action = payment.action_retry()
        self.assertEqual(payment.state, "posted")
        self.assertEqual(bill.amount_residual, 0.0)
        self.assertEqual(action["params"]["message"], "1 applied.")

    def test_a_crash_mid_import_neither_loses_nor_duplicates(self):
        bill = self.exported_bill(80.0)
        self.pay((bill, 80.0))
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.run_stream("payment")
            self.assertEqual(len(bill.matched_payment_ids), 1)
            raise RuntimeError("worker killed before commit")
        self.env.invalidate_all()
        self.assertFalse(bill.matched_payment_ids)
        self.run_stream("payment")
        self.assertEqual(len(bill.matched_payment_ids), 1)

    def test_scheduled_action(self):
        bill = self.exported_bill(33.0)
        self.pay((bill, 33.0))
        self.backend.action_activate()
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_import_payments")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(bill.amount_residual, 0.0)

    def test_retry_after_fixing_the_configuration(self):
        self.env.company.account_journal_early_pay_discount_gain_account_id = False
        bill = self.exported_bill(100.0)
        report = self.pay((bill, 98.0, 2.0))
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.state, "error")
        self.assertIn("cash discount gain account", payment.error_message)
        self.assertFalse(bill.matched_payment_ids)
        gain = self.company_data["default_account_revenue"]
        self.env.company.account_journal_early_pay_discount_gain_account_id = gain
        payment.action_retry()
        self.assertEqual((payment.state, payment.error_message), ("posted", False))
        self.assertEqual(bill.amount_residual, 0.0)

    def test_a_bill_in_another_currency_is_paid_in_that_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        bill = self.bill(self.acme, 100.0, ref="EUR-1", currency_id=eur.id)
        self.run_stream("bill")
        self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        self.assertEqual(self.simulator.get_invoice(bill.avidxchange_invoice_id)["Currency"], "EUR")
        report = self.pay((bill, 100.0))
        self.assertEqual(report["Currency"], "EUR")
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertEqual((odoo_payment.amount, odoo_payment.currency_id), (100.0, eur))
        self.assertEqual(bill.amount_residual, 0.0)

    def test_more_than_is_due_is_refused_not_registered(self):
        bill = self.exported_bill(100.0)
        self.release(bill)  # an administrator lets Odoo pay it after all
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=bill.ids, force_payment_move=True
        ).create({"amount": 30.0})._create_payments()  # paid in part by hand meanwhile
        report = self.pay((bill, 100.0))
        self.run_stream("payment")
        payment = self.imported(report)
        self.assertEqual(payment.state, "error")
        self.assertIn("more than its $\xa070.00 still due", payment.error_message)
        self.assertEqual(bill.amount_residual, 70.0)
        self.assertFalse(payment.odoo_payment_ids)


@tagged("post_install", "-at_install")
class TestPaymentImportEnterprise(EnterpriseMode, TestPaymentImport):
    """The same, with Enterprise's accounting installed."""

    def test_a_payment_always_has_a_journal_entry(self):
        bill = self.exported_bill(100.0)
        self.pay((bill, 40.0))
        self.run_stream("payment")
        odoo_payment = bill.matched_payment_ids
        self.assertTrue(
            odoo_payment.move_id, "an Enterprise payment without an outstanding account has none"
        )
        self.assertEqual(bill.amount_residual, 60.0)
