"""A copy of the database (pg_dump/pg_restore, Odoo's duplicate) sends nothing
until it is reconnected, and then under its own identity: it never
overwrites the original's vendors and bills in AvidXchange."""

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import tagged

from ..tools.identity import database_prefix
from .common import COMPANY_ID, LINK_LOGGER, STREAM_LOGGER, PaymentCase
from .test_migration import migration_step

LINK_MODELS = (
    "avidxchange.partner.link",
    "avidxchange.invoice.link",
    "avidxchange.account.link",
    "avidxchange.purchase.link",
)


@tagged("post_install", "-at_install")
class TestDatabaseCopy(PaymentCase):
    def setUp(self):
        super().setUp()
        self.backend.bill_date_from = "2026-01-01"  # the bills of the tests are in scope
        self.backend.action_activate()
        self.sent = self.exported_bill(50.0, ref="ORIGINAL-1")
        self.original_code = self.vendor_link().external_code
        self.original_prefix = self.backend.sudo().external_id_prefix
        self.ICP = self.env["ir.config_parameter"].sudo()

    def vendor_link(self):
        return self.env["avidxchange.partner.link"].search(
            [("backend_id", "=", self.backend.id), ("partner_id", "=", self.acme.id)]
        )

    def links(self):
        return [
            self.env[model].search([("backend_id", "=", self.backend.id)]) for model in LINK_MODELS
        ]

    def as_a_copy(self):
        """What a dump restored into another database shows: the same
        ``database.uuid``, the connection noted under the original's name."""
        self.backend.sudo().identity_database_name = "the_original"

    def run_all_streams(self):
        return [
            self.run_stream(kind)
            for kind in ("gl_code", "vendor", "purchase_order", "bill", "payment")
        ]

    def test_a_connection_notes_the_database_it_is_made_in(self):
        backend = self.backend.sudo()
        database_uuid = self.ICP.get_param("database.uuid")
        self.assertEqual(backend.identity_database_uuid, database_uuid)
        self.assertEqual(backend.identity_database_name, self.env.cr.dbname)
        self.assertEqual(backend.identity_base_url, self.ICP.get_param("web.base.url"))
        self.assertEqual(backend.external_id_prefix, database_prefix(database_uuid))
        self.assertTrue(self.original_code.startswith(f"ODOO-{backend.external_id_prefix}-"))
        self.assertFalse(self.backend.is_database_copy)

    def test_a_copy_sends_nothing_until_it_is_reconnected(self):
        self.as_a_copy()
        self.assertTrue(self.backend.is_database_copy)
        self.acme.name = "Acme Steel (changed in the copy)"
        self.bill(self.acme, 60.0, ref="COPY-1")
        self.pay((self.sent, 50.0))
        self.simulator.clear_requests()
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.assertEqual(self.run_all_streams(), [(0, 0)] * 5)
        for kind in ("vendor", "bill", "payment"):
            with self.subTest(kind=kind):
                self.assertIn("looks like a copy of the_original", self.stream(kind).last_error)
        with (
            self.assertLogs(LINK_LOGGER, "WARNING"),
            self.assertRaisesRegex(UserError, "looks like a copy"),
        ):
            self.vendor_link().action_send_now()
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("looks like a copy", action["params"]["message"])
        self.backend.action_change_credentials()
        change = self.env["avidxchange.credentials.change"].create({"backend_id": self.backend.id})
        change.action_test_and_save()
        self.assertIn("looks like a copy", change.error_message)
        self.backend.action_deactivate()
        with self.assertRaisesRegex(UserError, "looks like a copy"):
            self.backend.action_activate()
        self.assertEqual(self.simulator.count(), 0, "nothing reached AvidXchange")
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, self.original_code)["Name"], "Acme Steel"
        )

    def test_a_copy_odoo_made_shows_by_its_database_uuid(self):
        """Odoo's duplicate, or a restore "as a copy", gives a new database.uuid."""
        self.ICP.set_param("database.uuid", "0f0f0f0f-1111-2222-3333-444444444444")
        self.acme.name = "Acme Steel (changed in the copy)"
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.assertEqual(self.run_stream("vendor"), (0, 0))
        self.assertIn("looks like a copy", self.stream("vendor").last_error)
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, self.original_code)["Name"], "Acme Steel"
        )

    def test_reconnecting_gives_the_copy_its_own_identity(self):
        self.as_a_copy()
        self.acme.name = "Acme Steel (changed in the copy)"
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            self.run_stream("vendor")
        self.assertEqual(self.stream("vendor").failure_count, 1)

        self.backend.action_reconnect_as_new_database()
        backend = self.backend.sudo()
        self.backend.invalidate_recordset(["is_database_copy"])
        self.assertFalse(self.backend.is_database_copy)
        self.assertEqual(backend.identity_database_name, self.env.cr.dbname)
        prefix = backend.external_id_prefix
        self.assertNotEqual(prefix, self.original_prefix)
        self.assertEqual(len(prefix), len(self.original_prefix))
        self.assertEqual([len(links) for links in self.links()], [0, 0, 0, 0], "the original's")
        self.assertFalse(self.sent.avidxchange_link_ids)
        self.assertEqual(self.backend.state, "draft", "activated again once its settings are seen")
        today = fields.Date.context_today(self.backend)
        self.assertEqual(self.backend.bill_date_from, today, "the original's bills stay theirs")
        self.assertEqual(self.stream("vendor").failure_count, 0)
        self.assertIn("own identity", self.backend.message_ids[0].body)

        self.backend.action_activate()
        new_bill = self.bill(self.acme, 70.0, ref="COPY-2", invoice_date=today)
        self.run_stream("vendor")
        self.run_stream("bill")
        new_code = self.vendor_link().external_code
        self.assertTrue(new_code.startswith(f"ODOO-{prefix}-"), new_code)
        self.assertEqual(new_bill.avidxchange_state, "synced", new_bill.avidxchange_error)
        external_id = new_bill.avidxchange_link_ids.external_invoice_id
        self.assertTrue(external_id.startswith(f"ODOO-{prefix}-"), external_id)
        self.assertFalse(self.sent.avidxchange_link_ids, "the original's bill is not sent again")
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, self.original_code)["Name"],
            "Acme Steel",
            "the original's vendor is not overwritten",
        )
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, new_code)["Name"],
            "Acme Steel (changed in the copy)",
        )
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 2)

    def test_the_original_moved_or_renamed_goes_on_as_itself(self):
        self.as_a_copy()
        self.backend.action_keep_database_identity()
        backend = self.backend.sudo()
        self.assertEqual(backend.identity_database_name, self.env.cr.dbname)
        self.assertEqual(backend.external_id_prefix, self.original_prefix)
        self.assertEqual(self.backend.state, "active")
        self.assertEqual(self.vendor_link().external_code, self.original_code)
        self.acme.name = "Acme Steel Inc."
        self.run_stream("vendor")
        self.assertFalse(self.stream("vendor").last_error)
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, self.original_code)["Name"], "Acme Steel Inc."
        )
        self.assertEqual(len(self.simulator.vendors(COMPANY_ID)), 1)

    def test_the_original_is_never_taken_for_a_copy(self):
        """Odoo rewrites web.base.url when an administrator logs in at another
        address: the original goes on."""
        self.ICP.set_param("web.base.url", "http://localhost:8069")
        self.assertFalse(self.backend.is_database_copy)
        self.acme.name = "Acme Steel Inc."
        self.run_stream("vendor")
        self.assertFalse(self.stream("vendor").last_error)
        with self.assertRaisesRegex(UserError, "not a copy"):
            self.backend.action_reconnect_as_new_database()
        with self.assertRaisesRegex(UserError, "not a copy"):
            self.backend.action_keep_database_identity()
        self.assertEqual([len(links) for links in self.links()][:2], [1, 1], "nothing forgotten")

    def test_only_administrators_reconnect(self):
        self.as_a_copy()
        clerk = self.ap_clerk("avx_clerk_copy")
        for method in ("action_reconnect_as_new_database", "action_keep_database_identity"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(self.backend.with_user(clerk), method)()
        self.assertTrue(self.vendor_link())

    def test_a_neutralized_copy_must_reconnect_too(self):
        """Neutralizing stops the copy's connections; their identity stays, so
        activating one again asks to reconnect first."""
        noted = self.backend.sudo().identity_database_uuid
        self.env.flush_all()
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        backend = self.backend.sudo()
        self.assertEqual((backend.state, backend.identity_database_uuid), ("draft", noted))
        self.as_a_copy()
        self.backend.write({"client_secret": "s3cr3t-Never-Log-Me-7f9c2a"})
        with self.assertRaisesRegex(UserError, "looks like a copy"):
            self.backend.action_activate()

    def forget_identity(self):
        """A connection as versions before this check left it: nothing noted."""
        self.env.flush_all()
        self.env.cr.execute(
            """UPDATE avidxchange_backend
                  SET identity_database_uuid = NULL, identity_database_name = NULL,
                      identity_base_url = NULL, external_id_prefix = NULL
                WHERE id = %s""",
            [self.backend.id],
        )
        self.env.invalidate_all()

    def test_a_connection_older_than_the_check_notes_its_database_on_its_next_run(self):
        self.forget_identity()
        self.assertEqual(self.backend._external_id(7).split("-")[1], self.original_prefix)
        self.run_stream("payment")
        self.assertFalse(self.stream("payment").last_error)
        backend = self.backend.sudo()
        self.assertEqual(backend.identity_database_name, self.env.cr.dbname)
        self.assertEqual(backend.external_id_prefix, self.original_prefix)

    def test_the_upgrade_notes_the_database_of_existing_connections(self):
        self.forget_identity()
        migration_step("post-migrate", "19.0.1.3.0")(self.env.cr, "19.0.1.2.0")
        self.env.invalidate_all()
        backend = self.backend.sudo()
        self.assertEqual(backend.identity_database_uuid, self.ICP.get_param("database.uuid"))
        self.assertEqual(backend.identity_database_name, self.env.cr.dbname)
        self.assertEqual(backend.external_id_prefix, self.original_prefix)
