"""What the audit trail keeps of a body: secrets and bank details masked
whatever the key's spelling, before anything is cut short."""

from odoo.tests import BaseCase, tagged

from ..const import REDACTED
from ..tools.redaction import MAX_BODY_CHARS, redact, redacted_text

MASKED = [
    "access_token",
    "AccessToken",
    "accessToken",
    "refresh_token",
    "id_token",
    "Token",
    "token",
    "client_secret",
    "clientSecret",
    "Client-Secret",
    "password",
    "Password",
    "authorization",
    "Authorization",
    "api_key",
    "apiKey",
    "API-KEY",
    "FedTaxId",
    "fed_tax_id",
    "ssn",
    "SSN",
    "account_number",
    "AccountNumber",
    "BankAccountNumber",
    "bank_account",
    "BankAccount",
    "routing_number",
    "RoutingNumber",
    "Iban",
    "IBAN",
    "secret",
]
KEPT = ["Name", "Amount", "PaymentId", "TraceNumber", "CheckNumber", "Currency", "Status"]


@tagged("post_install", "-at_install")
class TestRedaction(BaseCase):
    def test_each_sensitive_key_is_masked_however_it_is_spelled(self):
        for key in MASKED:
            with self.subTest(key=key):
                self.assertEqual(
                    redact({"Outer": [{key: "S3CRET-VALUE"}]}), {"Outer": [{key: REDACTED}]}
                )

    def test_ordinary_keys_are_kept(self):
        for key in KEPT:
            with self.subTest(key=key):
                self.assertEqual(redact({key: "visible"}), {key: "visible"})

    def test_a_secret_is_scrubbed_before_the_text_is_cut(self):
        secret = "S3CRET-VALUE-THAT-MUST-NOT-SHOW"
        body = {"Notes": "x" * (MAX_BODY_CHARS - 40) + secret}
        text = redacted_text(body, scrub=lambda text: text.replace(secret, REDACTED))
        self.assertNotIn("S3CRE", text)

    def test_a_body_that_is_not_json_is_kept_as_its_length_only(self):
        text = redacted_text("<html>internal admin page, password=hunter2</html>")
        self.assertNotIn("hunter2", text)
        self.assertIn("50 characters", text)
