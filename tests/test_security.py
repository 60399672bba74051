"""Who sees what: AvidXchange users and administrators, and company walls."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import AvidxchangeCase


@tagged("post_install", "-at_install")
class TestSecurity(AvidxchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ap_clerk = cls.company_user("avx_clerk", "account_avidxchange.group_avidxchange_user")
        cls.ap_admin = cls.company_user(
            "avx_admin", "account_avidxchange.group_avidxchange_manager"
        )
        cls.backend.action_test_connection()  # leaves exchanges behind
        cls.other = cls.setup_other_company()
        cls.other_backend = cls.env["avidxchange.backend"].create(
            cls._backend_values(
                name="Other company",
                company_id=cls.other["company"].id,
                journal_id=cls.other["default_journal_bank"].id,
            )
        )
        cls.other_backend.with_company(cls.other["company"]).action_test_connection()

    def test_user_sees_status_and_trail_but_no_credentials(self):
        backend = self.backend.with_user(self.ap_clerk)
        self.assertEqual(backend.connection_status, "ok")
        self.assertTrue(self.env["avidxchange.exchange.log"].with_user(self.ap_clerk).search([]))
        with self.assertRaises(AccessError):
            backend.read(["client_id"])
        with self.assertRaises(AccessError):
            backend.read(["avidxchange_company_id"])
        with self.assertRaises(AccessError):
            backend.write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["avidxchange.backend"].with_user(self.ap_clerk).create({"name": "Mine"})

    def test_user_cannot_replay(self):
        failed = self.failed_connection_test()
        with self.assertRaises(AccessError):
            failed.with_user(self.ap_clerk).action_replay()
        self.assertFalse(failed.replayed)

    def test_manager_configures_but_never_reads_the_secret(self):
        backend = self.backend.with_user(self.ap_admin)
        self.assertEqual(backend.client_id, self.backend.client_id)
        self.assertFalse(backend.client_secret)
        with self.assertRaises(AccessError):
            backend.read(["client_secret_encrypted"])
        backend.write({"name": "Renamed", "client_secret": "rotated-secret"})
        self.assertEqual(self.backend.name, "Renamed")

    def test_companies_are_isolated(self):
        for user in (self.ap_clerk, self.ap_admin):
            with self.subTest(user=user.login):
                Backend = self.env["avidxchange.backend"].with_user(user)
                Log = self.env["avidxchange.exchange.log"].with_user(user)
                self.assertEqual(Backend.search([]), self.backend)
                self.assertEqual(Log.search([]).backend_id, self.backend)
                with self.assertRaises(AccessError):
                    self.other_backend.with_user(user).read(["name"])
        other_logs = self.env["avidxchange.exchange.log"].search(
            [("backend_id", "=", self.other_backend.id)]
        )
        self.assertTrue(other_logs)  # they exist, the users above just cannot see them
