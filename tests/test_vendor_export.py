"""Vendors flow to AvidXchange: once per change, each linked to its id."""

from cryptography.fernet import Fernet

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import COMPANY_ID, LINK_LOGGER, STREAM_LOGGER, AvidxchangeCase, fernet_keys


@tagged("post_install", "-at_install")
class TestVendorExport(AvidxchangeCase):
    def code(self, partner):
        return self.backend._external_id(partner.id)  # its format: test_identity

    def test_marked_vendors_are_exported_and_linked(self):
        acme = self.vendor(
            "Acme Steel",
            email="ap@acme.example",
            street="1 Main St",
            city="Charlotte",
            zip="28202",
            country_id=self.env.ref("base.us").id,
        )
        self.vendor("Not marked", avidxchange_enabled=False)
        sent, pending = self.run_stream("vendor")
        self.assertEqual((sent, pending), (1, 0))
        remote = self.simulator.get_vendor(COMPANY_ID, self.code(acme))
        self.assertEqual(remote["Name"], "Acme Steel")
        self.assertEqual(remote["Email"], "ap@acme.example")
        self.assertEqual(remote["Address"]["Country"], "US")
        self.assertNotIn("Line2", remote["Address"])  # empty values are left out
        self.assertEqual(acme.avidxchange_state, "synced")
        self.assertEqual(acme.avidxchange_vendor_id, remote["Id"])
        self.assertEqual(len(self.simulator.vendors(COMPANY_ID)), 1)

    def test_unchanged_vendors_are_never_sent_twice(self):
        acme = self.vendor()
        self.run_stream("vendor")
        self.stream("vendor").mark = False  # look at every vendor again
        self.run_stream("vendor")
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 1)
        acme.phone = "+1 555 0100"
        self.stream("vendor").mark = False
        self.run_stream("vendor")
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 2)
        self.assertEqual(
            self.simulator.get_vendor(COMPANY_ID, self.code(acme))["Telephone1"], "+1 555 0100"
        )

    def test_a_refused_vendor_is_marked_and_the_batch_goes_on(self):
        first, second, third = (self.vendor(f"Vendor {n}") for n in range(3))
        self.simulator.fail_next(1, status=422, path=f"/vendors/{self.code(second)}")
        self.run_stream("vendor")
        self.assertEqual(
            [p.avidxchange_state for p in (first, second, third)], ["synced", "error", "synced"]
        )
        self.assertIn("HTTP 422", second.avidxchange_error)
        second.avidxchange_link_ids.action_send_now()
        self.assertEqual(second.avidxchange_state, "synced")

    def test_an_unreachable_service_leaves_vendors_pending(self):
        vendors = self.vendor("One") | self.vendor("Two")
        self.backend.max_attempts = 2
        self.simulator.fail_next(2, status=503, path="/vendors")
        with self.assertLogs(STREAM_LOGGER, "WARNING"):
            done = self.run_stream("vendor")
        self.assertEqual(done, (0, 0))  # nothing to report: the cron stops until its next run
        self.assertEqual(vendors.mapped("avidxchange_state"), ["pending", "pending"])
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 2)  # one vendor, two attempts
        self.assertEqual(self.stream("vendor").failure_count, 1)
        self.assertIn("503", self.stream("vendor").last_error)
        self.run_stream("vendor")
        self.assertEqual(vendors.mapped("avidxchange_state"), ["synced", "synced"])

    def test_batches_and_the_scheduled_action(self):
        vendors = self.env["res.partner"]
        for n in range(5):
            vendors |= self.vendor(f"Vendor {n}")
        sent, pending = self.run_stream("vendor", batch_size=2)
        self.assertEqual((sent, pending), (2, 3))
        self.backend.action_activate()
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(set(vendors.mapped("avidxchange_state")), {"synced"})
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 5)

    def test_the_scheduled_action_stops_when_the_service_is_down(self):
        for n in range(3):
            self.vendor(f"Vendor {n}")
        self.backend.action_activate()
        self.backend.max_attempts = 1
        self.simulator.fail_next(100, status=503, path="/vendors")
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors")
        with self.enter_registry_test_mode(), self.assertLogs(STREAM_LOGGER, "WARNING"):
            cron.method_direct_trigger()
        self.assertEqual(self.simulator.count("PUT", "/vendors/*"), 1)

    def test_a_secret_that_no_key_opens_stops_the_run_quietly(self):
        vendor = self.vendor()
        self.backend.action_activate()
        self.simulator.clear_requests()
        cron = self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors")
        with fernet_keys(Fernet.generate_key().decode()):  # the key was replaced, not rotated
            with self.enter_registry_test_mode(), self.assertLogs(STREAM_LOGGER, "WARNING"):
                cron.method_direct_trigger()
            self.env.invalidate_all()
            self.assertEqual(vendor.avidxchange_state, "pending")
            self.assertEqual(self.stream("vendor").failure_count, 1)
            self.assertIn("cannot be decrypted", self.stream("vendor").last_error)
            with (
                self.assertRaisesRegex(UserError, "cannot be decrypted"),
                self.assertLogs(LINK_LOGGER, "WARNING"),
            ):
                vendor.avidxchange_link_ids.action_send_now()
        self.assertEqual(self.simulator.count(), 0)

    def test_an_archived_vendor_is_sent_inactive(self):
        acme = self.vendor()
        self.run_stream("vendor")
        self.assertIs(self.simulator.get_vendor(COMPANY_ID, self.code(acme))["Active"], True)
        acme.active = False
        self.stream("vendor").mark = False
        self.run_stream("vendor")
        self.assertIs(self.simulator.get_vendor(COMPANY_ID, self.code(acme))["Active"], False)
