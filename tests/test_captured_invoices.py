"""Invoices captured in AvidXchange become Odoo bills: exactly once, coded,
matched to their purchase order, with their image, and paid by the payment
import; what cannot be done needs a person's attention, and goes on once
fixed. Against the simulator over HTTP."""

from datetime import date, timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, RedirectWarning, UserError
from odoo.tests import tagged

from ..models.avidxchange_captured_invoice import AvidxchangeCapturedInvoice
from ..tools.locks import lock_available
from .common import CommittedConnectionCase, PaymentCase

API = "/avidconnect/v1"
MARKS = "/invoices/batches/exportHistories"
HELD = "AvidXchange holds"


def coded(amount, account="600000", description="Goods", quantity=None, **dimensions):
    """A distribution as AvidXchange sends it: ``dimensions`` as group=code."""
    codes = [{"GroupName": "Accounting Codes", "EnterpriseCodeValue": account}] if account else []
    codes += [{"GroupName": g, "EnterpriseCodeValue": c} for g, c in dimensions.items()]
    distribution = {"Amount": amount, "Description": description, "EnterpriseCodes": codes}
    if quantity is not None:
        distribution["Quantity"] = quantity
    return distribution


class CapturedCase(PaymentCase):
    """A connection whose bills start in AvidXchange (and in Odoo), importing
    for the simulator's accounting system "Odoo"."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend.write({"bills_origin": "both", "accounting_system_name": "Odoo"})
        cls.backend.action_activate()
        Account = cls.env["account.account"]
        cls.goods_account = cls.expense_account("600000", "Purchases")
        cls.freight_account = cls.expense_account("600100", "Freight")
        cls.acme_code = (
            cls.env["avidxchange.partner.link"]
            .create({"backend_id": cls.backend.id, "partner_id": cls.acme.id})
            .external_code
        )
        cls.Account = Account

    @classmethod
    def expense_account(cls, code, name):
        Account = cls.env["account.account"]
        found = Account.search(
            [*Account._check_company_domain(cls.env.company), ("code", "=", code)]
        )
        return found or Account.create({"code": code, "name": name, "account_type": "expense"})

    def capture(self, number="A-7731", amount=1250.0, vendor=None, **options):
        """An invoice captured and approved in AvidXchange: its ``Id``."""
        vendor = vendor or {
            "VendorName": "Acme Steel",
            "VendorExternalSystemID": f"{self.acme_code}|ADDR-7",
        }
        if "distributions" in options:
            amount = round(sum(d["Amount"] for d in options["distributions"]), 2)
        return self.simulator.capture_invoice(number, vendor, amount=amount, **options)

    def import_batch(self, *invoice_ids):
        """Close ``invoice_ids`` in a batch and run the captured invoices'
        stream until nothing waits: the batch's GUID."""
        guid = self.simulator.close_batch(list(invoice_ids))
        self.run_captured()
        return guid

    def run_captured(self):
        for _run in range(10):
            _done, waiting = self.run_stream("captured_invoice")
            if not waiting:
                break
        self.assertFalse(self.stream("captured_invoice").last_error)

    def captured(self, invoice_id):
        return self.env["avidxchange.captured.invoice"].search(
            [("backend_id", "=", self.backend.id), ("invoice_ref", "=", invoice_id)]
        )

    def bill_of(self, invoice_id):
        return self.env["account.move"].search(
            [("avidxchange_captured_id.invoice_ref", "=", invoice_id)]
        )

    def marks(self, guid):
        return self.simulator.export_histories(guid)


@tagged("post_install", "-at_install")
class TestCapturedInvoices(CapturedCase):
    def test_vendor_by_our_code_makes_a_draft_bill_linked_by_its_id(self):
        invoice_id = self.capture(
            "A-7731",
            distributions=[
                coded(1000.0, quantity=10, description="Steel plate"),
                coded(250.0, "600100", "Freight"),
            ],
            invoice_date="2026-11-20",
            due_date="2026-12-20",
            memo="Deliver to dock 3",
        )
        guid = self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        self.assertEqual(len(bill), 1)
        self.assertEqual(
            (bill.move_type, bill.state, bill.partner_id, bill.ref, str(bill.invoice_date)),
            ("in_invoice", "draft", self.acme, "A-7731", "2026-11-20"),
        )
        self.assertEqual(str(bill.invoice_date_due), "2026-12-20")
        self.assertEqual(bill.amount_total, 1250.0)
        self.assertEqual(
            [
                (line.account_id, line.name, line.quantity, line.price_unit)
                for line in bill.invoice_line_ids
            ],
            [
                (self.goods_account, "Steel plate", 10.0, 100.0),
                (self.freight_account, "Freight", 1.0, 250.0),
            ],
        )
        self.assertFalse(bill.invoice_line_ids.tax_ids)
        # linked as a sent bill is: the payment import finds it by its Id
        self.assertEqual(bill.avidxchange_invoice_id, invoice_id)
        self.assertEqual(bill.avidxchange_captured_id.state, "done")
        self.assertEqual(len(self.marks(guid)), 1, "the batch is marked imported once")
        self.assertEqual(self.marks(guid)[0]["ExportHistoryStatusId"], 1)
        # nothing more on the next runs
        self.run_captured()
        self.assertEqual(len(self.bill_of(invoice_id)), 1)
        self.assertEqual(len(self.marks(guid)), 1)

    def test_vendor_by_tax_id(self):
        vendor = self.vendor("Tax Id Steel", vat="12-3456789")
        invoice_id = self.capture(
            "T-1",
            100.0,
            vendor={
                "VendorName": "Tax Id Steel Inc.",
                "VendorExternalSystemID": None,
                "FedTaxId": "123456789",
            },
        )
        self.import_batch(invoice_id)
        self.assertEqual(
            self.bill_of(invoice_id).partner_id, vendor, self.captured(invoice_id).error_message
        )

    def test_unknown_vendor_needs_attention_and_goes_on_once_picked(self):
        partners = self.env["res.partner"].search_count([])
        stranger = {
            "VendorName": "Stranger Supply",
            "VendorExternalSystemID": "",
            "FedTaxId": "99-0000001",
        }
        first = self.capture("S-1", 80.0, vendor=stranger)
        second = self.capture("S-2", 20.0, vendor=stranger)
        guid = self.import_batch(first, second)
        record = self.captured(first)
        self.assertEqual((record.state, record.attention_reason), ("error", "vendor"))
        self.assertIn("Stranger Supply", record.error_message)
        self.assertFalse(self.bill_of(first) | self.bill_of(second))
        self.assertEqual(self.env["res.partner"].search_count([]), partners, "no partner made up")
        self.assertEqual(len(self.marks(guid)), 1, "needing attention, the batch is imported")
        self.assertTrue(record.activity_ids, "a person is told")
        # an AP clerk creates the vendor and goes on: both invoices become bills
        supply = self.vendor("Stranger Supply")
        clerk = self.ap_clerk("avx_captured_clerk")
        with self.assertRaises(AccessError):  # only the import writes the rest
            record.with_user(clerk).amount = 1.0
        record.with_user(clerk).partner_id = supply
        record.with_user(clerk).action_use_vendor()
        self.assertEqual((self.bill_of(first) | self.bill_of(second)).partner_id, supply)
        self.assertEqual(self.captured(second).state, "done")
        self.assertFalse(record.activity_ids)
        self.assertEqual(len(self.marks(guid)), 1, "never imported again")

    def test_unknown_code_needs_attention_and_goes_on_after_retry(self):
        invoice_id = self.capture("C-1", distributions=[coded(40.0, "777777")])
        self.import_batch(invoice_id)
        record = self.captured(invoice_id)
        self.assertEqual((record.state, record.attention_reason), ("error", "code"))
        self.assertIn("777777", record.error_message)
        self.assertFalse(self.bill_of(invoice_id))
        account = self.expense_account("777777", "Office supplies")
        record.action_retry()
        self.assertEqual(self.bill_of(invoice_id).invoice_line_ids.account_id, account)

    def test_distributions_to_accounts_and_analytics(self):
        location = self.env["account.analytic.plan"].create({"name": "Location"})
        plant = self.env["account.analytic.account"].create(
            {"name": "Plant 2", "code": "PLANT-2", "plan_id": location.id}
        )
        invoice_id = self.capture(
            distributions=[coded(1000.0, Location="PLANT-2"), coded(250.0, "600100")]
        )
        self.import_batch(invoice_id)
        lines = self.bill_of(invoice_id).invoice_line_ids
        self.assertEqual(lines[0].analytic_distribution, {str(plant.id): 100})
        self.assertFalse(lines[1].analytic_distribution)
        # an unknown dimension needs attention like an unknown account
        other = self.capture("C-2", distributions=[coded(5.0, Location="PLANT-9")])
        self.import_batch(other)
        self.assertEqual(self.captured(other).attention_reason, "code")
        self.assertIn("Location PLANT-9", self.captured(other).error_message)

    def test_lines_are_matched_to_the_purchase_order(self):
        product = self.env["product.product"].create(
            {"name": "Steel plate", "type": "consu", "purchase_method": "purchase"}
        )
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.acme.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_qty": 10,
                            "price_unit": 100.0,
                            "tax_ids": [],
                        }
                    ),
                ],
            }
        )
        order.button_confirm()
        invoice_id = self.capture(
            po_number=order.name,
            distributions=[
                coded(1000.0, quantity=10, description="Steel plate"),
                coded(250.0, "600100", "Freight"),
            ],
        )
        self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        steel, freight = bill.invoice_line_ids
        self.assertEqual(steel.purchase_line_id, order.order_line)
        self.assertEqual(steel.product_id, product)
        self.assertEqual(
            (steel.account_id, steel.quantity, steel.price_unit), (self.goods_account, 10.0, 100.0)
        )
        self.assertFalse(freight.purchase_line_id)
        self.assertEqual(bill.invoice_origin, order.name)
        self.assertEqual(bill.amount_total, 1250.0, "AvidXchange's amounts stay")
        self.assertEqual(order.order_line.qty_invoiced, 10.0)
        self.assertIn(bill, order.invoice_ids)

    def test_image_kept_once_as_the_main_attachment(self):
        invoice_id = self.capture("I-1", 60.0, image=True)
        guid = self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        attachment = bill.message_main_attachment_id
        self.assertEqual(attachment.res_id, bill.id)
        self.assertTrue(attachment.raw.startswith(b"%PDF"), "the file as AvidXchange sent it")
        # closed again with a change: the bill is updated, the image not fetched again
        self.simulator.reclose_batch(guid, change={invoice_id: {"Memo": "Second look"}})
        self.run_captured()
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
            ),
            1,
        )
        self.assertEqual(self.simulator.count("GET", f"{API}/invoices/{invoice_id}/image"), 1)

    def test_credit_memo_is_a_vendor_credit_note(self):
        invoice_id = self.capture("CM-1", 45.0, invoice_type="CreditMemo")
        self.import_batch(invoice_id)
        credit = self.bill_of(invoice_id)
        self.assertEqual((credit.move_type, credit.amount_total), ("in_refund", 45.0))

    def test_posted_mode_posts_and_the_bill_is_held(self):
        self.backend.captured_bill_state = "posted"
        invoice_id = self.capture("P-1", 70.0)
        self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        self.assertEqual(bill.state, "posted")
        with self.assertRaisesRegex(RedirectWarning, HELD):
            bill.button_draft()

    def test_a_draft_captured_bill_is_not_held_and_never_sent_back(self):
        invoice_id = self.capture("D-1", 70.0)
        self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        bill.button_cancel()  # a draft is Odoo's to check: not held
        bill.button_draft()
        bill.action_post()  # posted in Odoo: held now, and not sent
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("POST", API + "/invoices"), 0)
        self.assertEqual(len(bill.avidxchange_link_ids), 1)
        with self.assertRaisesRegex(RedirectWarning, HELD):
            bill.button_draft()

    def test_an_invoice_of_a_bill_keyed_in_odoo_is_not_imported_twice(self):
        self.backend.bills_origin = "avidxchange"  # keyed bills are not sent
        same = self.bill(self.acme, 300.0, ref="K-1")
        other = self.bill(self.acme, 500.0, ref="K-2")
        first = self.capture("K-1", 300.0)
        second = self.capture("K-2", 450.0)
        self.import_batch(first, second)
        self.assertEqual(self.bill_of(first), same, "same amount: linked to it")
        self.assertEqual(same.avidxchange_invoice_id, first)
        record = self.captured(second)
        self.assertEqual((record.state, record.attention_reason), ("error", "duplicate"))
        self.assertFalse(self.bill_of(second))
        self.assertFalse(other.avidxchange_captured_id)
        self.assertEqual(self.env["account.move"].search_count([("ref", "in", ("K-1", "K-2"))]), 2)
        # a bill Odoo may have sent (its answer lost) is AvidXchange's twice: a person looks
        self.backend.bills_origin = "both"
        maybe = self.bill(self.acme, 80.0, ref="K-3")
        self.env["avidxchange.invoice.link"].create(
            {
                "backend_id": self.backend.id,
                "move_id": maybe.id,
                "state": "error",
                "maybe_received": True,
            }
        )
        third = self.capture("K-3", 80.0)
        self.import_batch(third)
        self.assertEqual(self.captured(third).attention_reason, "duplicate")
        self.assertIn("already in AvidXchange", self.captured(third).error_message)
        self.assertTrue(maybe.avidxchange_link_ids.maybe_received, "its link kept")

    def test_a_batch_is_imported_once_under_a_crash_between_bills(self):
        ids = [self.capture(f"X-{n}", 10.0 + n) for n in range(3)]
        guid = self.simulator.close_batch(ids)
        create_bill = AvidxchangeCapturedInvoice._create_bill
        made = []

        def crash_on_the_second(record, invoice):
            if made:
                raise RuntimeError("the worker died")
            made.append(create_bill(record, invoice))

        with (
            patch.object(AvidxchangeCapturedInvoice, "_create_bill", crash_on_the_second),
            self.assertRaises(RuntimeError),
        ):
            self.run_stream("captured_invoice")
        self.assertFalse(self.marks(guid), "not marked: the run did not finish")
        self.run_captured()
        for invoice_id in ids:
            self.assertEqual(len(self.bill_of(invoice_id)), 1, invoice_id)
        self.assertEqual(len(self.marks(guid)), 1)

    def test_a_failed_mark_is_retried_never_imported_again(self):
        invoice_id = self.capture("M-1", 12.0)
        self.simulator.fail_next(1, status=422, path=MARKS, method="POST")
        guid = self.simulator.close_batch([invoice_id])
        self.run_stream("captured_invoice")
        batch = self.captured(invoice_id).batch_id
        self.assertEqual(batch.state, "importing")
        self.assertTrue(batch.error_message)
        self.run_captured()
        self.assertEqual(batch.state, "done")
        self.assertEqual(len(self.marks(guid)), 1)
        self.assertEqual(len(self.bill_of(invoice_id)), 1)

    def test_a_batch_closed_again_adds_updates_and_cancels_drafts(self):
        kept, changed, removed = (self.capture(f"R-{n}", 100.0 * n) for n in (1, 2, 3))
        guid = self.import_batch(kept, changed, removed)
        added = self.capture("R-4", 40.0)
        self.simulator.reclose_batch(
            guid, add=[added], remove=[removed], change={changed: {"InvoiceDate": "2026-11-25"}}
        )
        self.run_captured()
        self.assertEqual(self.bill_of(added).amount_total, 40.0)
        self.assertEqual(str(self.bill_of(changed).invoice_date), "2026-11-25")
        self.assertEqual(self.bill_of(removed).state, "cancel")
        self.assertEqual(self.captured(removed).state, "removed")
        self.assertEqual(self.bill_of(kept).state, "draft")
        self.assertEqual(len(self.marks(guid)), 2, "marked again after the new closing")

    def test_a_posted_bill_changed_or_removed_needs_attention_with_what_changed(self):
        self.backend.captured_bill_state = "posted"
        changed, removed = self.capture("Q-1", 100.0), self.capture("Q-2", 200.0)
        guid = self.import_batch(changed, removed)
        changed_distribution = [coded(120.0)]
        self.simulator.reclose_batch(
            guid,
            remove=[removed],
            change={changed: {"GrossAmount": 120.0, "Distributions": changed_distribution}},
        )
        self.run_captured()
        record = self.captured(changed)
        self.assertEqual((record.state, record.attention_reason), ("error", "changed"))
        self.assertIn("amount 100.00 → 120.00", record.error_message)
        self.assertEqual(self.bill_of(changed).amount_total, 100.0, "a posted bill is left alone")
        self.assertEqual(self.captured(removed).attention_reason, "removed")
        self.assertEqual(self.bill_of(removed).state, "posted")
        # an administrator brings them in line
        record.action_update_bill()
        self.assertEqual(
            (self.bill_of(changed).state, self.bill_of(changed).amount_total), ("posted", 120.0)
        )
        self.captured(removed).action_update_bill()
        self.assertEqual(self.bill_of(removed).state, "cancel")

    def test_a_captured_bill_is_paid_by_the_payment_import_and_reconciled(self):
        self.backend.captured_bill_state = "posted"
        invoice_id = self.capture("PAY-1", 250.0)
        self.import_batch(invoice_id)
        bill = self.bill_of(invoice_id)
        report = self.simulator.pay([{"invoice_id": invoice_id, "amount": 250.0}])
        self.run_stream("payment")
        self.assertEqual(self.imported(report).state, "posted", self.imported(report).error_message)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))
        wizard = self.env["avidxchange.reconciliation"].create({"backend_id": self.backend.id})
        wizard.action_compare()
        self.assertEqual(wizard.difference_count, 0, wizard.line_ids.mapped("what_to_do"))

    def test_a_connection_whose_bills_start_in_odoo_reads_nothing(self):
        self.backend.bills_origin = "odoo"
        self.simulator.close_batch([self.capture("O-1", 5.0)])
        self.assertEqual(self.run_stream("captured_invoice"), (0, 0))
        self.assertEqual(self.simulator.count("GET", API + "/*"), 0)

    def test_keyed_bills_are_not_sent_when_bills_start_in_avidxchange(self):
        self.backend.bills_origin = "avidxchange"
        bill = self.bill(self.acme, 10.0, ref="NOT-SENT")
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("POST", API + "/invoices"), 0)
        self.assertIn("Bills start in AvidXchange", bill.avidxchange_reason)

    def test_the_accounting_system_is_looked_up_by_name(self):
        self.simulator.set_accounting_systems(
            [{"ID": 17, "Name": "Odoo"}, {"ID": 21, "Name": "Legacy ERP"}]
        )
        self.backend.accounting_system_name = "legacy erp"
        self.assertFalse(self.backend.accounting_system_ref)
        self.backend.action_look_up_accounting_system()
        self.assertEqual(
            (self.backend.accounting_system_ref, self.backend.accounting_system_name),
            (21, "Legacy ERP"),
        )
        self.backend.accounting_system_name = "Sage"
        with self.assertRaisesRegex(UserError, "Odoo, Legacy ERP"):
            self.backend.action_look_up_accounting_system()


@tagged("post_install", "-at_install")
class TestCapturedRunsTogether(CommittedConnectionCase):
    """Two runs of the captured invoices at once (two cron workers, or a
    worker and a person's Retry): one bill per invoice, one mark per batch."""

    def _committed_backend_values(self):
        return {"bills_origin": "avidxchange", "accounting_system_name": "Odoo"}

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            Account = env["account.account"].with_company(company)
            self.code = Account.search(
                [*Account._check_company_domain(company), ("account_type", "=", "expense")],
                limit=1,
            ).code
            link = env["avidxchange.partner.link"].create(
                {"backend_id": self.backend_id, "partner_id": self.vendor_id}
            )
            self.vendor = {
                "VendorName": "Concurrent Steel",
                "VendorExternalSystemID": link.external_code,
            }
        self.addCleanup(self._delete_bills)

    def _delete_bills(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            bills = env["account.move"].search([("partner_id", "=", self.vendor_id)])
            bills.avidxchange_link_ids.unlink()
            bills.with_context(force_delete=True).unlink()

    def batch(self, count):
        ids = [
            self.simulator.capture_invoice(
                f"CC-{n}", self.vendor, distributions=[coded(10.0 + n, self.code)], amount=10.0 + n
            )
            for n in range(count)
        ]
        return ids, self.simulator.close_batch(ids)

    def bills(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})["account.move"].search(
            [("partner_id", "=", self.vendor_id)]
        )

    def test_a_run_that_began_first_does_not_import_again(self):
        _ids, guid = self.batch(3)
        with self.registry.cursor() as cr_first, self.registry.cursor() as cr_second:
            first = self.stream_in(cr_first, "captured_invoice")
            second = self.stream_in(cr_second, "captured_invoice")
            self.assertTrue(first.interval and second.interval)  # both transactions began
            self.assertEqual(first._run_batch(), (3, 0))
            cr_first.commit()
            # the second began before the first committed: it leaves the stream to it
            self.assertEqual(second._run(), 0)
            self.assertFalse(second.last_error)
            cr_second.commit()
        with self.registry.cursor() as cr:
            self.assertEqual(sorted(self.bills(cr).mapped("ref")), ["CC-0", "CC-1", "CC-2"])
            self.assertEqual(self.stream_in(cr, "captured_invoice")._run_batch(), (0, 0))
        self.assertEqual(len(self.simulator.export_histories(guid)), 1)

    def test_invoices_another_run_is_applying_are_left_to_it(self):
        _ids, guid = self.batch(2)
        with self.registry.cursor() as cr:
            stream = self.stream_in(cr, "captured_invoice")
            with patch.object(AvidxchangeCapturedInvoice, "_apply_reports_in_order"):
                stream._run_batch()  # read and stored, nothing applied yet
        with self.registry.cursor() as cr_worker, self.registry.cursor() as cr_other:
            Captured = api.Environment(cr_worker, SUPERUSER_ID, {})["avidxchange.captured.invoice"]
            taken = lock_available(Captured.search([("to_apply", "=", True)]))
            self.assertEqual(len(taken), 2)
            taken._apply_reports()  # a worker is making the bills, not committed yet
            other = self.stream_in(cr_other, "captured_invoice")
            self.assertEqual(other._run_batch(), (0, 2), "locked: left to the other run")
            cr_other.commit()
            cr_worker.commit()
        with self.registry.cursor() as cr:
            self.assertEqual(len(self.bills(cr)), 2)
            self.assertEqual(self.stream_in(cr, "captured_invoice")._run_batch(), (0, 0))
        self.assertEqual(len(self.simulator.export_histories(guid)), 1)


@tagged("post_install", "-at_install")
class TestCapturedInvoicesUntrusted(CapturedCase):
    """What AvidXchange sends is untrusted: a wrong invoice needs attention on
    its own record, the rest of the batch goes on; a backlog is read 30 days
    a request; a tax id is never kept in clear."""

    def test_a_wrong_invoice_needs_attention_and_the_batch_goes_on(self):
        good = self.capture("G-1", 10.0)
        wrong = self.capture("W-1", 10.0, fields={"GrossAmount": "ten", "InvoiceType": "Bill"})
        guid = self.import_batch(good, wrong)
        record = self.captured(wrong)
        self.assertEqual((record.state, record.attention_reason), ("error", "invalid"))
        self.assertIn("GrossAmount is not a number", record.error_message)
        self.assertIn("InvoiceType 'Bill'", record.error_message)
        self.assertEqual(len(self.bill_of(good)), 1)
        self.assertEqual(len(self.marks(guid)), 1)

    def test_an_invoice_without_an_id_keeps_its_batch_from_being_marked(self):
        good = self.capture("NI-1", 10.0)
        guid = self.simulator.close_batch([good])
        item = {
            "Id": good,
            "Number": "NI-1",
            "InvoiceType": "Invoice",
            "InvoiceDate": "2026-11-20",
            "GrossAmount": 10.0,
            "Currency": "USD",
            "BuyerVendor": {"VendorName": "Acme Steel", "VendorExternalSystemID": self.acme_code},
            "Distributions": [coded(10.0)],
        }
        page = {
            "Items": [item, {"Number": "NO-ID"}],
            "Paging": {"PageNumber": 1, "PageSize": 100, "Pages": 1, "TotalItems": 2, "Links": []},
        }
        self.simulator.answer_next(body=page, path=f"/invoices/batches/{guid}/invoices")
        self.run_captured()
        batch = self.captured(good).batch_id
        self.assertEqual(batch.state, "error")
        self.assertIn("1 invoice(s) of the batch have no Id", batch.error_message)
        self.assertEqual(len(self.bill_of(good)), 1, "the others go on")
        self.assertFalse(self.marks(guid))
        self.assertTrue(self.exchanges(operation="captured_invoice", state="failed"))
        batch.action_read_again()  # AvidXchange corrected it
        self.run_captured()
        self.assertEqual((batch.state, len(self.marks(guid))), ("done", 1))
        self.assertEqual(len(self.bill_of(good)), 1)

    def test_a_backlog_is_read_thirty_days_a_request(self):
        today = self.env["avidxchange.captured.invoice"]._utc_now().date()
        self.backend.captured_from = today - timedelta(days=45)
        old = self.capture("B-OLD", 5.0)
        self.simulator.close_batch([old], date_closed=f"{today - timedelta(days=40)}T12:00:00Z")
        new = self.capture("B-NEW", 6.0)
        self.simulator.close_batch([new])
        self.run_captured()
        self.assertEqual(len(self.bill_of(old) | self.bill_of(new)), 2)
        windows = {
            (r["query"]["closeDateFrom"], r["query"]["closeDateTo"])
            for r in self.simulator.requests("GET", API + "/invoices/batches/closed/*")
        }
        for first, last in windows:
            span = date.fromisoformat(last) - date.fromisoformat(first)
            self.assertLessEqual(span.days, 30)
        self.assertIn(str(today - timedelta(days=45)), {first for first, _last in windows})
        self.assertEqual(self.stream("captured_invoice").mark.date(), today)

    def test_a_tax_id_is_never_kept_in_clear(self):
        vendor = self.vendor("Sole Trader", vat="123-45-6789")
        invoice_id = self.capture(
            "ST-1",
            15.0,
            vendor={"VendorName": "Sole Trader", "FedTaxId": "123-45-6789"},
        )
        self.import_batch(invoice_id)
        record = self.captured(invoice_id)
        self.assertEqual(self.bill_of(invoice_id).partner_id, vendor)
        self.assertEqual(record.vendor_tax_hint, "…6789")
        kept = [
            record.last_report,
            record.vendor_tax_hash,
            *self.exchanges().mapped("response_body"),
        ]
        for text in kept:
            self.assertNotIn("123456789", text or "")
            self.assertNotIn("123-45-6789", text or "")

    def test_the_bill_opens_in_avidxchange_and_the_overview_counts_what_waits(self):
        invoice_id = self.capture("OPEN-1", 25.0)
        self.import_batch(invoice_id)
        action = self.bill_of(invoice_id).action_open_in_avidxchange()
        self.assertEqual(action["type"], "ir.actions.act_url")
        unknown = self.capture("OPEN-2", 5.0, vendor={"VendorName": "Nobody Known"})
        self.import_batch(unknown)
        self.assertEqual(self.backend.captured_attention_count, 1)
        action = self.backend.action_open_captured_needing_attention()
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]), self.captured(unknown)
        )
