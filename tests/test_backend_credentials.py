"""Credentials at rest: encrypted with the server's key, never readable again."""

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CLIENT_SECRET, AvidxchangeCase, fernet_keys


@tagged("post_install", "-at_install")
class TestBackendCredentials(AvidxchangeCase):
    def stored_row(self, backend):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(b)::text FROM avidxchange_backend b WHERE id = %s", [backend.id]
        )
        return self.env.cr.fetchone()[0]

    def test_secret_is_stored_encrypted_and_decrypts(self):
        row = self.stored_row(self.backend)
        self.assertNotIn(CLIENT_SECRET, row)
        ciphertext = self.backend.sudo().client_secret_encrypted
        self.assertTrue(ciphertext)
        self.assertEqual(
            Fernet(self.fernet_key.encode()).decrypt(ciphertext.encode()).decode(), CLIENT_SECRET
        )
        self.assertTrue(self.backend.has_client_secret)

    def test_secret_is_never_read_back(self):
        self.assertFalse(self.backend.client_secret)
        form_values = self.backend.web_read({"client_secret": {}, "client_id": {}})[0]
        self.assertFalse(form_values["client_secret"])
        messages = self.backend.message_ids.mapped("body")
        self.assertFalse([m for m in messages if CLIENT_SECRET in str(m)])
        self.assertTrue([m for m in messages if "client secret was changed" in str(m)])

    def test_secret_is_not_exportable(self):
        exportable = self.env["avidxchange.backend"].fields_get(attributes=["exportable"])
        self.assertFalse(exportable["client_secret"]["exportable"])
        self.assertFalse(exportable["client_secret_encrypted"]["exportable"])
        exported = self.backend.export_data(["name", "client_id"])["datas"]
        self.assertNotIn(CLIENT_SECRET, repr(exported))

    def test_without_a_key_the_secret_is_refused_not_stored_in_clear(self):
        with fernet_keys(None):
            self.assertFalse(self.backend.encryption_ready)
            with self.assertRaisesRegex(UserError, "avidxchange_fernet_key"):
                self.env["avidxchange.backend"].create(
                    self._backend_values(
                        company_id=self.setup_other_company()["company"].id,
                        client_secret="plain-text-secret",
                    )
                )
        self.env.cr.execute(
            "SELECT count(*) FROM avidxchange_backend b WHERE row_to_json(b)::text LIKE %s",
            ["%plain-text-secret%"],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_key_rotation_reencrypts(self):
        new_key = Fernet.generate_key().decode()
        before = self.backend.sudo().client_secret_encrypted
        with fernet_keys(new_key, old=[self.fernet_key]):
            manager = new_test_user(
                self.env,
                "avx_manager",
                groups="base.group_user,account_avidxchange.group_avidxchange_manager",
            )
            with self.assertRaises(AccessError):  # a connection manager is not enough
                self.backend.with_user(manager).action_reencrypt_secrets()
            self.assertTrue(self.env.user.has_group("base.group_system"))
            self.backend.action_reencrypt_secrets()
        after = self.backend.sudo().client_secret_encrypted
        self.assertNotEqual(after, before)
        self.assertEqual(Fernet(new_key.encode()).decrypt(after.encode()).decode(), CLIENT_SECRET)
        with fernet_keys(new_key):  # the old key is gone: the connection still works
            ok, message = self.backend._check_connection()
        self.assertTrue(ok, message)
        with fernet_keys(self.fernet_key):  # and the old key alone no longer opens it
            ok, message = self.backend._check_connection()
        self.assertFalse(ok)
        self.assertIn("cannot be decrypted", message)

    def test_wrong_key_gives_a_clear_error(self):
        with fernet_keys("not-a-fernet-key"), self.assertRaisesRegex(UserError, "not a valid"):
            self.backend.client_secret = "another"
