"""Changing the credentials of a working connection never stops its sync by
mistake: new ones are tested first and replace the saved ones only when
AvidXchange takes them."""

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CLIENT_ID, CLIENT_SECRET, COMPANY_ID, PaymentCase

NEW_CLIENT_ID = "odoo-rotated-client"
NEW_SECRET = "n3w-S3cret-After-Rotation-55aa"


@tagged("post_install", "-at_install")
class TestCredentialsChange(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # AvidXchange issued a second API client for the same company.
        cls.simulator.add_client(NEW_CLIENT_ID, NEW_SECRET, COMPANY_ID)

    def setUp(self):
        super().setUp()
        self.backend.bill_date_from = "2026-01-01"  # the bills of the tests are in scope
        self.backend.action_activate()
        self.saved = self.backend.sudo().client_secret_encrypted

    def change_credentials(self, **values):
        """The *Change credentials* step, filled in as an administrator would."""
        action = self.backend.action_change_credentials()
        self.assertEqual(action["res_model"], "avidxchange.credentials.change")
        Wizard = self.env[action["res_model"]].with_context(**action["context"])
        return Wizard.create(values)

    def assert_the_sync_runs(self):
        bill = self.exported_bill(30.0, ref=f"SYNC-{self.simulator.count()}")
        report = self.pay((bill, 30.0))
        self.run_stream("payment")
        self.assertFalse(self.stream("payment").last_error)
        self.assertTrue(self.imported(report), "the payment came in")
        self.assertEqual(bill.amount_residual, 0.0)

    def row_text(self, record):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT row_to_json(r)::text FROM {record._table} r WHERE id = %s",
            [record.id],
        )
        return self.env.cr.fetchone()[0]

    def test_a_failing_credential_test_leaves_the_saved_secret_and_the_sync(self):
        wizard = self.change_credentials(client_secret="not-the-secret")
        action = wizard.action_test_and_save()
        # refused, in words, in the step itself, which stays open to try again
        self.assertEqual((action["res_model"], action["res_id"]), (wizard._name, wizard.id))
        self.assertEqual(action["target"], "new")
        self.assertIn("refused the client id and secret", wizard.error_message)
        self.assertIn("saved credentials are unchanged", wizard.error_message)
        backend = self.backend.sudo()
        self.assertEqual(backend.client_secret_encrypted, self.saved)
        self.assertEqual(backend.client_id, CLIENT_ID)
        self.assertEqual(self.backend.connection_status, "ok", "the saved ones still work")
        self.assertEqual(self.backend.state, "active")
        self.assert_the_sync_runs()

    def test_a_working_credential_replaces_the_saved_one(self):
        wizard = self.change_credentials(client_id=NEW_CLIENT_ID, client_secret=NEW_SECRET)
        action = wizard.action_test_and_save()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("saved", action["params"]["message"])
        backend = self.backend.sudo()
        self.assertEqual(backend.client_id, NEW_CLIENT_ID)
        self.assertEqual(self.backend._decrypted_secret(), NEW_SECRET)
        self.assertEqual(self.backend.connection_status, "ok")
        self.assertTrue(
            [m for m in self.backend.message_ids.mapped("body") if "credentials" in str(m)]
        )
        for body in self.backend.message_ids.mapped("body"):
            self.assertNotIn(NEW_SECRET, str(body))
        # AvidXchange revokes the old secret: the sync runs on the new one
        self.simulator.add_client(CLIENT_ID, "revoked-secret", COMPANY_ID)
        self.addCleanup(self.simulator.add_client, CLIENT_ID, CLIENT_SECRET, COMPANY_ID)
        self.assert_the_sync_runs()

    def test_the_typed_secret_is_never_stored_in_clear(self):
        wizard = self.change_credentials(client_secret="not-the-secret")
        self.assertNotIn("not-the-secret", self.row_text(wizard))
        wizard.invalidate_recordset()  # as the form reads it back
        self.assertFalse(wizard.client_secret, "never read back")
        wizard.action_test_and_save()
        self.assertFalse(wizard.sudo().client_secret_encrypted, "the candidate is not kept")

    def test_the_saved_secret_never_goes_to_another_client_or_host(self):
        """Left empty, the secret is the saved one: for the same environment,
        URLs and client id only."""
        requests = self.simulator.count()
        for values in (
            {"client_id": NEW_CLIENT_ID},
            {"token_url": self.simulator.base_url + "/other/token"},
            {"environment": "production"},
        ):
            with self.subTest(values=values):
                wizard = self.change_credentials(**values)
                wizard.action_test_and_save()
                self.assertIn("Enter the client secret", wizard.error_message)
        self.assertEqual(self.simulator.count(), requests, "nothing was sent")
        self.assertEqual(self.backend.sudo().client_secret_encrypted, self.saved)

    def test_a_company_id_change_is_tested_with_the_saved_secret(self):
        wizard = self.change_credentials(avidxchange_company_id="SOMEONE-ELSE")
        wizard.action_test_and_save()
        self.assertIn("is not one this API client may use", wizard.error_message)
        self.assertEqual(self.backend.sudo().avidxchange_company_id, COMPANY_ID)
        self.assertEqual(self.backend.sudo().client_secret_encrypted, self.saved)
        self.assert_the_sync_runs()

    def test_the_step_starts_from_the_saved_settings(self):
        wizard = self.change_credentials()
        backend = self.backend.sudo()
        self.assertEqual(
            (wizard.environment, wizard.base_url, wizard.token_url),
            (backend.environment, backend.base_url, backend.token_url),
        )
        self.assertEqual((wizard.client_id, wizard.avidxchange_company_id), (CLIENT_ID, COMPANY_ID))
        self.assertFalse(wizard.client_secret)

    def test_an_active_connection_changes_credentials_only_through_the_step(self):
        """Typing a secret on the form and pressing Test Connection saved it
        first (Odoo saves a form before its button runs)."""
        for values in (
            {"client_secret": "typed-on-the-form"},
            {"client_id": "typed-on-the-form"},
            {"avidxchange_company_id": "typed-on-the-form"},
            {"environment": "production"},
            {"base_url": self.simulator.base_url + "/v2"},
        ):
            with self.subTest(values=values), self.assertRaisesRegex(UserError, "Change"):
                self.backend.write(values)
        self.assertEqual(self.backend.sudo().client_secret_encrypted, self.saved)
        self.backend.write({"client_id": CLIENT_ID, "name": "Renamed"})  # no change: allowed
        with Form(self.backend) as form:
            for field in ("client_secret", "client_id", "environment", "base_url"):
                with self.subTest(field=field), self.assertRaises(AssertionError):
                    setattr(form, field, "x")
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assert_the_sync_runs()

    def test_a_draft_connection_is_still_set_up_on_its_form(self):
        self.backend.action_deactivate()
        self.backend.write({"client_secret": CLIENT_SECRET, "client_id": CLIENT_ID})
        with Form(self.backend) as form:
            form.avidxchange_company_id = COMPANY_ID
        self.assertTrue(self.backend._check_connection()[0])

    def test_only_administrators_change_credentials(self):
        clerk = self.ap_clerk("avx_clerk_credentials")
        wizard = self.change_credentials(client_secret="not-the-secret")
        with self.assertRaises(UserError):
            wizard.with_user(clerk).action_test_and_save()
        self.assertEqual(self.backend.sudo().client_secret_encrypted, self.saved)
