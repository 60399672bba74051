"""The connection settings against the simulator: test connection, activation,
and neutralized copies."""

import socket

from odoo.exceptions import UserError, ValidationError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import tagged

from .. import const
from .common import CLIENT_SECRET, AvidxchangeCase


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@tagged("post_install", "-at_install")
class TestBackendConnection(AvidxchangeCase):
    def test_connection_ok(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertRegex(action["params"]["message"], r"Connected to AvidXchange company .* ms")
        self.assertEqual(self.backend.connection_status, "ok")
        self.assertEqual(self.simulator.count("POST", "/token"), 1)
        self.assertEqual(self.simulator.count("GET", "/payments"), 1)

    def test_connection_bad_credentials(self):
        self.backend.client_secret = "not-the-secret"
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("refused the client id and secret", action["params"]["message"])
        self.assertEqual(self.backend.connection_status, "failed")
        self.assertEqual(self.simulator.count(path="/avidconnect/*"), 0)

    def test_connection_wrong_company_id(self):
        self.backend.avidxchange_company_id = "SOMEONE-ELSE"
        ok, message = self.backend._check_connection()
        self.assertFalse(ok)
        self.assertIn("company id SOMEONE-ELSE is not one this API client may use", message)

    def test_connection_unreachable(self):
        url = f"http://127.0.0.1:{closed_port()}"
        self.backend.write(
            {
                "base_url": url,
                "token_url": url + "/token",
                "client_secret": CLIENT_SECRET,  # a new URL forgets the stored one
                "max_attempts": 1,
            }
        )
        ok, message = self.backend._check_connection()
        self.assertFalse(ok)
        self.assertIn(f"could not be reached at {url}", message)

    def test_activation_needs_a_working_connection(self):
        self.backend.client_secret = "not-the-secret"
        with self.assertRaisesRegex(UserError, "refused the client id and secret"):
            self.backend.action_activate()
        self.assertEqual(self.backend.state, "draft")

    def test_activation_needs_the_settings(self):
        self.backend.journal_id = False
        with self.assertRaisesRegex(UserError, "Payment Journal"):
            self.backend.action_activate()

    def test_neutralized_copy_never_calls_production(self):
        self.backend.write(
            {
                "environment": "production",
                "base_url": const.PRODUCTION_BASE_URL,
                "token_url": const.PRODUCTION_BASE_URL + const.TOKEN_PATH,
                "state": "active",
            }
        )
        self.assertTrue(
            self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors").active
        )
        self.env.flush_all()
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        backend = self.backend.sudo()
        self.assertEqual(backend.environment, "sandbox")
        self.assertEqual(backend.base_url, const.SANDBOX_BASE_URL)
        self.assertEqual(backend.token_url, const.SANDBOX_BASE_URL + const.TOKEN_PATH)
        self.assertEqual(backend.state, "draft")
        self.assertFalse(backend.client_secret_encrypted)
        self.assertFalse(backend.has_client_secret)
        self.assertFalse(
            self.env.ref("account_avidxchange.ir_cron_avidxchange_export_vendors").active
        )

    def test_production_requires_https(self):
        with self.assertRaisesRegex(ValidationError, "https"):
            self.backend.write({"environment": "production", "base_url": "http://127.0.0.1:9"})

    def test_urls_follow_the_environment(self):
        backend = self.env["avidxchange.backend"].create(
            {
                "company_id": self.setup_other_company()["company"].id,
                "environment": "production",
            }
        )
        self.assertEqual(backend.base_url, const.PRODUCTION_BASE_URL)
        self.assertEqual(backend.token_url, const.PRODUCTION_BASE_URL + const.TOKEN_PATH)
        backend.environment = "sandbox"
        self.assertEqual(backend.base_url, const.SANDBOX_BASE_URL)

    def test_connection_to_something_else_than_avidxchange(self):
        self.simulator.malformed_next(1, path="/payments")
        ok, message = self.backend._check_connection()
        self.assertFalse(ok)
        self.assertIn("answered, but not as AvidXchange does", message)

    def test_settings_open_the_company_connection(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.avidxchange_backend_id, self.backend)
        self.assertEqual(settings.avidxchange_state, "draft")
        action = settings.action_open_avidxchange_backend()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("avidxchange.backend", self.backend.id)
        )
        other = self.setup_other_company()["company"]
        action = settings.with_company(other).create({}).action_open_avidxchange_backend()
        self.assertFalse(action["res_id"])
        self.assertEqual(action["context"]["default_company_id"], other.id)
