"""With ``odoo.service.model`` at DEBUG, Odoo logs the arguments of every RPC
call (``web_save``, ``onchange``...): a secret typed in a form must not reach
the server log that way."""

import logging

from odoo.service.model import call_kw
from odoo.tests import BaseCase, tagged

from .. import const
from ..tools.log_masking import MARKER, install_masking, mask_text
from .common import AvidxchangeCase

RPC_LOGGER = "odoo.service.model"
TYPED = "Typed-S3cret-In-A-Form-4e1d"


@tagged("post_install", "-at_install")
class TestMaskText(BaseCase):
    def test_sensitive_values_are_masked_however_they_are_written(self):
        for text in [
            f"{{'client_secret': '{TYPED}', 'name': 'Acme'}}",
            f'{{"client_secret": "{TYPED}", "name": "Acme"}}',
            f'{{"Client-Secret":"{TYPED}", "name": "Acme"}}',
            f"call x.write([1], client_secret='{TYPED}', name='Acme')",
            f"{{'password': \"it's {TYPED}\", 'name': 'Acme'}}",
            f"{{'secret': 'a\\'b {TYPED}', 'name': 'Acme'}}",
            f"{{'api_key': {TYPED!r}, 'name': 'Acme'}}",
            f"token={TYPED}&name=Acme",
            f"{{'body': '{{\"client_secret\": \"{TYPED}\"}}', 'name': 'Acme'}}",
            f"{{'url': 'https://x.example/?a=1&token={TYPED}', 'name': 'Acme'}}",
        ]:
            with self.subTest(text=text):
                masked = mask_text(text)
                self.assertNotIn(TYPED, masked)
                self.assertNotIn("4e1d", masked)
                self.assertIn(const.REDACTED, masked)
                self.assertIn("Acme", masked)

    def test_other_values_are_kept(self):
        text = (
            "{'name': 'Acme', 'has_client_secret': True, 'client_id': 'odoo', "
            "'specification': {'client_secret': {}, 'name': {}}}"
        )
        self.assertEqual(mask_text(text), text)

    def test_a_number_or_a_boolean_is_masked_too(self):
        self.assertEqual(mask_text("{'ssn': 123456789}"), f"{{'ssn': {const.REDACTED}}}")


@tagged("post_install", "-at_install")
class TestLogMasking(AvidxchangeCase):
    def rpc(self, model, method, args, **kwargs):
        """``method`` called as the web client calls it (``/web/dataset/call_kw``
        runs this very function), with its arguments logged at DEBUG."""
        with self.assertLogs(RPC_LOGGER, "DEBUG") as logs:
            call_kw(self.env[model], method, args, kwargs)
        return "\n".join(logs.output)

    def test_a_secret_saved_on_the_connection_form_is_masked(self):
        output = self.rpc(
            "avidxchange.backend",
            "web_save",
            [[self.backend.id], {"client_secret": TYPED, "name": "Renamed connection"}],
            specification={"name": {}},
        )
        self.assertIn("web_save", output)
        self.assertIn("Renamed connection", output, "the other arguments stay")
        self.assertIn(const.REDACTED, output)
        self.assertNotIn(TYPED, output)
        self.assertEqual(self.backend._decrypted_secret(), TYPED, "the secret itself went through")

    def test_a_secret_typed_in_the_credentials_change_is_masked(self):
        self.assertTrue(
            any(key in const.SENSITIVE_KEYS for key in ("clientsecret", "secret")),
            "the step's secret field is a sensitive key",
        )
        for method, args in [
            ("onchange", [[], {"client_secret": TYPED}, ["client_secret"], {"client_secret": {}}]),
            ("web_save", [[], {"backend_id": self.backend.id, "client_secret": TYPED}]),
        ]:
            with self.subTest(method=method):
                output = self.rpc(
                    "avidxchange.credentials.change",
                    method,
                    args,
                    **({"specification": {"client_id": {}}} if method == "web_save" else {}),
                )
                self.assertIn(method, output)
                self.assertNotIn(TYPED, output)

    def test_the_filter_is_installed_once(self):
        logger = logging.getLogger(RPC_LOGGER)
        install_masking(RPC_LOGGER)
        install_masking(RPC_LOGGER)
        self.assertEqual(len([f for f in logger.filters if getattr(f, MARKER, False)]), 1)
