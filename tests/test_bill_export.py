"""Posted vendor bills flow to AvidXchange once, their vendor first."""

from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .common import COMPANY_ID, AvidxchangeCase


@tagged("post_install", "-at_install")
class TestBillExport(AvidxchangeCase):
    def remote(self, bill):
        return self.simulator.get_invoice(bill.avidxchange_invoice_id)

    def test_bill_is_submitted_with_its_vendor_and_coded_lines(self):
        vendor = self.vendor()
        bill = self.bill(vendor, 1000.0, 250.0, taxes=self.tax_purchase_a)
        sent, pending = self.run_stream("bill")
        self.assertEqual((sent, pending), (1, 0))
        self.assertEqual(bill.avidxchange_state, "synced")
        self.assertEqual(bill.avidxchange_status, "Received")
        self.assertEqual(vendor.avidxchange_state, "synced")
        remote = self.remote(bill)
        self.assertEqual(remote["ExternalInvoiceId"], bill.avidxchange_link_ids.external_invoice_id)
        self.assertEqual(remote["Number"], "INV-0042")
        self.assertEqual(remote["GrossAmount"], bill.amount_total)
        self.assertEqual(remote["Currency"], bill.currency_id.name)
        self.assertEqual(remote["InvoiceDueDate"], str(bill.invoice_date_due))
        self.assertEqual(
            remote["BuyerVendor"]["VendorExternalSystemID"],
            vendor.avidxchange_link_ids.external_code,
        )
        amounts = [d["Amount"] for d in remote["Distributions"]]
        self.assertAlmostEqual(sum(amounts), bill.amount_total, places=2)
        expense_code = bill.invoice_line_ids[0].account_id.code
        tax_line = bill.line_ids.filtered(lambda line: line.display_type == "tax")
        codes = [d["EnterpriseCodes"][0]["EnterpriseCodeValue"] for d in remote["Distributions"]]
        self.assertEqual(codes, [expense_code, expense_code, tax_line.account_id.code])
        self.assertEqual(amounts[:2], [1000.0, 250.0])
        self.assertEqual(amounts[2], tax_line.amount_currency)

    def purchase_bill(self, vendor, quantity=2, ref="PO-BILL-1"):
        order = self.env["purchase.order"].create(
            {
                "partner_id": vendor.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_a.id,
                            "product_qty": quantity,
                            "price_unit": 100.0,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        order.button_confirm()
        order.order_line.qty_received = quantity
        order.action_create_invoice()
        bill = order.invoice_ids
        bill.write({"invoice_date": "2026-11-20", "ref": ref})
        bill.action_post()
        return order, bill

    def test_bill_from_a_purchase_order_sends_the_order_first(self):
        order, bill = self.purchase_bill(self.vendor())
        self.run_stream("bill")
        self.assertEqual(self.remote(bill)["PONumber"], order.name)
        self.assertEqual(self.remote(bill)["GrossAmount"], 200.0)
        [remote_order] = self.simulator.purchase_orders(COMPANY_ID)
        self.assertEqual(remote_order["ExternalPurchaseOrderCode"], order.name)
        self.assertEqual(remote_order["Total"], 200.0)
        self.assertEqual(remote_order["Status"], "Closed")  # fully billed
        self.assertEqual(
            [
                (line["Quantity"], line["UnitPrice"], line["QuantityReceived"])
                for line in remote_order["Lines"]
            ],
            [(2.0, 100.0, 2.0)],
        )
        link = self.env["avidxchange.purchase.link"].search([("order_id", "=", order.id)])
        self.assertEqual(link.state, "synced")
        methods = [
            r["method"] + " " + r["path"].split("/")[3]
            for r in self.simulator.requests()
            if r["path"] != "/token"
        ]
        self.assertLess(methods.index("PUT purchaseOrders"), methods.index("POST invoices"))

    def test_purchase_order_amounts_have_two_decimals_at_most(self):
        """Odoo may price a purchase line to three decimals; money in
        AvidXchange has two at most: the order is sent rounded, not refused."""
        self.env.ref("product.decimal_price").digits = 3
        order, _bill = self.purchase_bill(self.vendor(), quantity=4)
        self.run_stream("bill")
        order.order_line.price_unit = 10.125
        self.assertEqual(self.run_stream("purchase_order"), (1, 0))
        link = self.env["avidxchange.purchase.link"].search([("order_id", "=", order.id)])
        self.assertEqual(link.state, "synced", link.error_message)
        [remote] = self.simulator.purchase_orders(COMPANY_ID)
        [line] = remote["Lines"]
        self.assertEqual((line["UnitPrice"], line["Amount"]), (10.13, 40.5))

    def test_a_locked_purchase_order_is_closed(self):
        """Odoo 19 has no "done" orders: a locked one is finished."""
        order, _bill = self.purchase_bill(self.vendor(), quantity=4)
        order.order_line.product_qty = 6  # two more to bill: open
        self.run_stream("bill")
        [remote] = self.simulator.purchase_orders(COMPANY_ID)
        self.assertEqual(remote["Status"], "Open")
        order.button_lock()
        self.assertEqual(self.run_stream("purchase_order"), (1, 0))
        [remote] = self.simulator.purchase_orders(COMPANY_ID)
        self.assertEqual(remote["Status"], "Closed")

    def test_a_refused_purchase_order_does_not_hold_the_bill(self):
        order, bill = self.purchase_bill(self.vendor())
        self.simulator.fail_next(1, status=422, path="/purchaseOrders")
        self.run_stream("bill")
        link = self.env["avidxchange.purchase.link"].search([("order_id", "=", order.id)])
        self.assertEqual(link.state, "error")
        self.assertIn("HTTP 422", link.error_message)
        self.assertEqual(bill.avidxchange_state, "synced")

    def test_out_of_scope_bills_are_left_alone(self):
        marked = self.vendor()
        unmarked = self.vendor("Not marked", avidxchange_enabled=False)
        self.bill(marked, 10.0, post=False)  # draft
        self.bill(unmarked, 20.0)
        old = self.bill(marked, 30.0, invoice_date="2026-01-05")
        self.backend.bill_date_from = "2026-06-01"
        self.assertEqual(self.run_stream("bill"), (0, 0))
        self.assertFalse(old.avidxchange_state)
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_a_bill_is_never_submitted_twice(self):
        bill = self.bill(self.vendor(), 500.0)
        self.run_stream("bill")
        bill.narration = "touched after export"
        self.stream("bill").mark = False
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("POST", "/invoices"), 1)
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)

    def test_a_crash_after_submission_neither_loses_nor_duplicates(self):
        bill = self.bill(self.vendor(), 500.0)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.run_stream("bill")
            self.assertEqual(bill.avidxchange_state, "synced")
            raise RuntimeError("worker killed before commit")
        self.env.invalidate_all()
        self.assertFalse(bill.avidxchange_state)  # nothing of the first run was kept
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced")
        statuses = [r["status"] for r in self.simulator.requests("POST", "/invoices")]
        self.assertEqual(statuses, [201, 409])
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)
        self.assertEqual(bill.avidxchange_invoice_id, self.simulator.invoices(COMPANY_ID)[0]["Id"])
        self.assertIn("AvidXchange already had this bill", bill.message_ids[0].body)

    def test_a_refused_bill_is_marked_and_the_batch_goes_on(self):
        vendor = self.vendor()
        good, bad, also_good = (self.bill(vendor, amount, ref=f"R{amount}") for amount in (1, 2, 3))
        self.simulator.fail_next(
            1,
            status=422,
            path="/invoices",
            body={"exception": {"reason": "Unprocessable", "detail": "Vendor on hold"}},
        )
        # the first POST belongs to the first bill in the batch order
        self.run_stream("bill")
        states = {b.ref: b.avidxchange_state for b in (good, bad, also_good)}
        self.assertEqual(sorted(states.values()), ["error", "synced", "synced"])
        failed = next(b for b in (good, bad, also_good) if b.avidxchange_state == "error")
        self.assertIn("Vendor on hold", failed.avidxchange_error)
        failed.avidxchange_link_ids.action_send_now()
        self.assertEqual(failed.avidxchange_state, "synced")
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 3)

    def test_a_bill_of_a_refused_vendor_says_why(self):
        vendor = self.vendor()
        bill = self.bill(vendor, 75.0)
        self.simulator.fail_next(1, status=422, path="/vendors")
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "error")
        self.assertIn("vendor could not be sent", bill.avidxchange_error)
        self.assertEqual(self.simulator.count("POST", "/invoices"), 0)

    def test_a_bill_in_error_is_sent_again_only_when_someone_changes_it(self):
        bill = self.bill(self.vendor(), 75.0)
        self.simulator.fail_next(1, status=422, path="/invoices")
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "error")
        # As a real run stamps them: the transaction that wrote the error began at
        # `began` (to the microsecond) and wrote the bill's stored state too; the
        # attempt's time is to the second, so earlier within that second.
        began = link.last_export_at.replace(microsecond=500000)
        self.set_write_date(bill, began)
        self.set_write_date(link, began)
        self.stream("bill").mark = False  # look at every bill again
        self.run_stream("bill")
        self.assertEqual(link.state, "error", "nobody changed the bill: it is not sent again")
        self.assertEqual(self.simulator.count("POST", "/invoices"), 1)
        bill.ref = "INV-0042-B"  # somebody does, in a later transaction
        self.set_write_date(bill, began + timedelta(minutes=1))
        self.run_stream("bill")
        self.assertEqual(link.state, "synced")
        self.assertEqual(self.simulator.count("POST", "/invoices"), 2)

    def test_scheduled_action(self):
        bill = self.bill(self.vendor(), 42.0)
        self.backend.bill_date_from = bill.invoice_date
        self.backend.action_activate()
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_bills")
        self.assertTrue(cron.active)
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(bill.avidxchange_state, "synced")

    def test_gl_codes_go_first_once(self):
        vendor = self.vendor()
        first = self.bill(vendor, 100.0, taxes=self.tax_purchase_a, ref="G-1")
        self.run_stream("bill")
        expense = first.invoice_line_ids.account_id
        tax = first.line_ids.filtered(lambda line: line.display_type == "tax").account_id
        codes = {c["CodeValue"]: c for c in self.simulator.enterprise_codes(COMPANY_ID)}
        self.assertEqual(set(codes), {expense.code, tax.code})
        self.assertEqual(codes[expense.code]["Description"], expense.name)
        self.assertEqual(codes[expense.code]["GroupName"], "Accounting Codes")
        self.bill(vendor, 200.0, taxes=self.tax_purchase_a, ref="G-2")
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("PUT", "/enterpriseCodes"), 1)
        expense.name = "Steel purchases"
        self.bill(vendor, 300.0, ref="G-3")
        self.run_stream("bill")
        sent = self.simulator.requests("PUT", "/enterpriseCodes")[-1]["body"]
        self.assertEqual([c["CodeValue"] for c in sent], [expense.code])
        codes = {c["CodeValue"]: c for c in self.simulator.enterprise_codes(COMPANY_ID)}
        self.assertEqual(codes[expense.code]["Description"], "Steel purchases")

    def test_a_refused_gl_code_is_marked_and_the_bill_still_goes(self):
        bill = self.bill(self.vendor(), 100.0)
        expense = bill.invoice_line_ids.account_id
        self.simulator.refuse_code(expense.code, reason="Code locked")
        self.run_stream("bill")
        link = self.env["avidxchange.account.link"].search([("account_id", "=", expense.id)])
        self.assertEqual((link.state, link.error_message), ("error", "Code locked"))
        self.assertEqual(bill.avidxchange_state, "synced")
        log = self.exchanges(operation="gl_code", method="PUT")
        self.assertEqual((log.http_status, log.state), (200, "success"))

    def test_the_purchase_order_stream_sends_a_changed_order_again(self):
        order, _bill = self.purchase_bill(self.vendor(), quantity=4)
        order.order_line.qty_received = 2  # received in part when billed
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("PUT", "/purchaseOrders/*"), 1)
        self.assertEqual(self.run_stream("purchase_order"), (0, 0))  # unchanged: nothing sent
        order.order_line.qty_received = 4
        self.assertEqual(self.run_stream("purchase_order"), (1, 0))
        [remote] = self.simulator.purchase_orders(COMPANY_ID)
        self.assertEqual(remote["Lines"][0]["QuantityReceived"], 4)
        self.assertEqual(self.simulator.count("PUT", "/purchaseOrders/*"), 2)

    def test_the_gl_code_stream_sends_a_renamed_account_again(self):
        bill = self.bill(self.vendor(), 100.0)
        self.run_stream("bill")
        account = bill.invoice_line_ids.account_id
        self.assertEqual(self.run_stream("gl_code"), (0, 0))
        account.name = "Steel purchases"
        self.assertEqual(self.run_stream("gl_code"), (1, 0))
        codes = self.simulator.enterprise_codes(COMPANY_ID)
        [code] = [code for code in codes if code["CodeValue"] == account.code]
        self.assertEqual(code["Description"], "Steel purchases")

    def test_replay_of_a_refused_purchase_order(self):
        order, _bill = self.purchase_bill(self.vendor())
        self.simulator.fail_next(1, status=422, path="/purchaseOrders")
        self.run_stream("bill")
        failed = self.exchanges(operation="purchase_order", state="failed")
        self.assertEqual((failed.res_model, failed.res_id), ("purchase.order", order.id))
        failed.action_replay()
        link = self.env["avidxchange.purchase.link"].search([("order_id", "=", order.id)])
        self.assertEqual((link.state, link.error_message), ("synced", False))
        replay = self.exchanges(replay_of_id=failed.id, method="PUT")
        self.assertEqual((replay.operation, replay.state), ("purchase_order", "success"))

    def test_replay_of_a_refused_gl_code_batch(self):
        bill = self.bill(self.vendor(), 100.0)
        self.simulator.fail_next(1, status=400, path="/enterpriseCodes")
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced")  # the bill did not wait for its codes
        failed = self.exchanges(operation="gl_code", state="failed")
        gl_codes = self.stream("gl_code")
        self.assertEqual((failed.res_model, failed.res_id), ("avidxchange.stream", gl_codes.id))
        links = self.env["avidxchange.account.link"].search([("backend_id", "=", self.backend.id)])
        self.assertEqual(set(links.mapped("state")), {"error"})
        self.assertIn("HTTP 400", links[0].error_message)
        # a refused batch is not sent again and again, and the stream stays healthy
        self.assertEqual(self.run_stream("gl_code"), (0, 0))
        self.assertEqual(gl_codes.failure_count, 0)
        self.assertEqual(self.simulator.count("PUT", "/enterpriseCodes"), 1)
        failed.action_replay()
        self.assertEqual(set(links.mapped("state")), {"synced"})
        replay = self.exchanges(replay_of_id=failed.id, method="PUT")
        self.assertEqual((replay.res_id, replay.state), (gl_codes.id, "success"))
