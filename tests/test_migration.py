"""A database on 19.0.1.0.0 upgrades without losing links, marks or payments."""

import importlib.util
from datetime import datetime
from pathlib import Path

from odoo.tests import tagged

from .common import AvidxchangeCase

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def migration_step(name, version="19.0.1.1.0"):
    spec = importlib.util.spec_from_file_location(
        f"avx_{version.replace('.', '_')}_{name.replace('-', '_')}",
        MIGRATIONS / version / f"{name}.py",
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.migrate


@tagged("post_install", "-at_install")
class TestMigrationFrom1900(AvidxchangeCase):
    def setUp(self):
        super().setUp()
        acme = self.vendor("Acme Steel")
        self.bill_paid = self.bill(acme, 80.0, ref="PAID")
        self.bill_waiting = self.bill(acme, 20.0, ref="WAITING")
        self.run_stream("bill")
        self.simulator.approve_invoice(self.bill_paid.avidxchange_invoice_id)
        self.simulator.pay([{"invoice_id": self.bill_paid.avidxchange_invoice_id, "amount": 80.0}])
        self.run_stream("payment")
        self.assertEqual(self.bill_paid.amount_residual, 0.0)

    def downgrade_to_1900(self):
        """Put the data in the shape 19.0.1.0.0 left it: marks and intervals
        on the connection, no streams, the bill's state not stored, the
        scheduled actions calling the connection."""
        cr = self.env.cr
        cr.execute(
            """
            ALTER TABLE avidxchange_backend
                ADD COLUMN vendor_sync_mark timestamp, ADD COLUMN bill_sync_mark timestamp,
                ADD COLUMN payment_sync_mark timestamp, ADD COLUMN vendor_sync_interval int,
                ADD COLUMN bill_sync_interval int, ADD COLUMN payment_sync_interval int;
            UPDATE avidxchange_backend
               SET vendor_sync_mark = '2026-11-01 10:00:00', bill_sync_mark = '2026-11-02 10:00:00',
                   payment_sync_mark = '2026-11-03 10:00:00', vendor_sync_interval = 45,
                   bill_sync_interval = 20, payment_sync_interval = 5
             WHERE id = %(backend)s;
            DELETE FROM avidxchange_stream WHERE backend_id = %(backend)s;
            UPDATE avidxchange_payment SET status_category = NULL,
                   last_report = '{"BankAccountNumber": "000123456789"}'
             WHERE backend_id = %(backend)s;
            ALTER TABLE account_move DROP COLUMN avidxchange_state, DROP COLUMN avidxchange_status;
            INSERT INTO avidxchange_exchange_log
                (backend_id, company_id, operation, state, res_model, res_id, create_date)
            VALUES (%(backend)s, %(company)s, 'payment_import', 'failed', 'avidxchange.backend',
                    %(backend)s, now());
            """,
            {"backend": self.backend.id, "company": self.backend.company_id.id},
        )
        model = self.env["ir.model"]._get("avidxchange.backend")
        for xmlid in ("ir_cron_avidxchange_export_vendors", "ir_cron_avidxchange_import_payments"):
            self.env.ref(f"account_avidxchange.{xmlid}").write(
                {"model_id": model.id, "code": "model._cron_import_payments()", "active": False}
            )
        self.env.invalidate_all()

    def test_upgrade_keeps_marks_intervals_links_and_payments(self):
        links = self.env["avidxchange.invoice.link"].search([("backend_id", "=", self.backend.id)])
        payments = self.env["avidxchange.payment"].search([("backend_id", "=", self.backend.id)])
        self.downgrade_to_1900()
        migration_step("pre-migrate")(self.env.cr, "19.0.1.0.0")
        migration_step("post-migrate")(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()

        streams = {stream.kind: stream for stream in self.backend.stream_ids}
        self.assertEqual(
            sorted(streams),
            sorted(["gl_code", "vendor", "purchase_order", "bill", "captured_invoice", "payment"]),
            "a kind newer than the step gets its stream too, with its defaults",
        )
        self.assertEqual(streams["vendor"].mark, datetime(2026, 11, 1, 10))
        self.assertEqual(streams["bill"].mark, datetime(2026, 11, 2, 10))
        self.assertEqual(streams["payment"].mark, datetime(2026, 11, 2, 10))  # a day's skew back
        self.assertFalse(streams["gl_code"].mark)
        intervals = {kind: stream.interval for kind, stream in streams.items()}
        self.assertEqual(
            intervals,
            {
                "gl_code": 45,
                "vendor": 45,
                "purchase_order": 20,
                "bill": 20,
                "captured_invoice": 30,
                "payment": 5,
            },
        )
        self.assertEqual(
            (self.bill_paid.avidxchange_state, self.bill_paid.avidxchange_status),
            ("synced", "Paid"),
        )
        self.assertEqual(self.bill_waiting.avidxchange_state, "synced")
        self.assertEqual(
            links,
            self.env["avidxchange.invoice.link"].search([("backend_id", "=", self.backend.id)]),
        )
        self.assertEqual(payments.odoo_payment_ids.reconciled_bill_ids, self.bill_paid)
        self.assertEqual(payments.status_category, "paid")
        self.assertNotIn("000123456789", payments.last_report)
        for xmlid in ("ir_cron_avidxchange_export_vendors", "ir_cron_avidxchange_import_payments"):
            cron = self.env.ref(f"account_avidxchange.{xmlid}")
            self.assertEqual(cron.model_id.model, "avidxchange.stream")
            self.assertIn("model._cron_run(", cron.code)
            self.assertTrue(cron.active)
        old_page = self.exchanges(operation="payment_import", state="failed")
        self.assertEqual(
            (old_page.res_model, old_page.res_id), ("avidxchange.stream", streams["payment"].id)
        )

        # and the upgraded connection syncs on: nothing is sent twice
        sent = self.simulator.count("POST", "/invoices")
        self.run_stream("bill")
        self.run_stream("payment")
        self.assertEqual(self.simulator.count("POST", "/invoices"), sent)
        self.assertEqual(len(self.bill_paid.matched_payment_ids), 1)


@tagged("post_install", "-at_install")
class TestMigrationFrom1910(AvidxchangeCase):
    def test_exported_bills_remember_what_was_sent(self):
        """19.0.1.1.0 did not keep what a bill was sent with: the upgrade takes
        the bill as it is, so nothing shows as changed, and a later change does."""
        bill = self.bill(self.vendor(), 77.0)
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE avidxchange_invoice_link SET exported_amount = NULL, exported_date = NULL, "
            "exported_partner_id = NULL WHERE id = %s",
            [link.id],
        )
        self.env.invalidate_all()
        migration_step("post-migrate", "19.0.1.2.0")(self.env.cr, "19.0.1.1.0")
        self.env.invalidate_all()
        self.assertEqual(
            (link.exported_amount, link.exported_date, link.exported_partner_id),
            (77.0, bill.invoice_date, bill.partner_id),
        )
        self.assertNotEqual(bill.avidxchange_sync_status, "changed")
        link.released = True
        bill.button_draft()
        self.assertEqual(bill.avidxchange_sync_status, "changed")


@tagged("post_install", "-at_install")
class TestMigrationFrom1930(AvidxchangeCase):
    def test_the_trail_and_the_scheduled_actions_speak_of_kinds(self):
        """19.0.1.3.0 named exchanges by operation ("bill_export") and listed
        each scheduled action's kinds: the trail's old entries become kinds,
        and the scheduled actions name the group their kinds declare."""
        bill = self.bill(self.vendor(), 12.0)
        self.run_stream("bill")
        entry = self.exchanges(operation="bill")[-1]
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_bills")
        cron.code = 'model._cron_run(["purchase_order", "bill"])'
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE avidxchange_exchange_log SET operation = 'bill_export' WHERE id = %s",
            [entry.id],
        )
        self.env.invalidate_all()
        migration_step("post-migrate", "19.0.1.4.0")(self.env.cr, "19.0.1.3.0")
        self.env.invalidate_all()
        self.assertEqual(entry.operation, "bill")
        self.assertEqual((entry.res_model, entry.res_id), ("account.move", bill.id))
        self.assertEqual(cron.code, 'model._cron_run("export_bills")')
