"""Encryption of credentials at rest, with keys the database never holds.

The key lives in the Odoo server configuration (``odoo.conf``), so a database
dump, a copied database or a stolen backup holds only ciphertext. Keys are
Fernet keys (``Fernet.generate_key()``). To rotate, put the new key in
``avidxchange_fernet_key``, move the old one to ``avidxchange_fernet_old_keys``
(comma-separated), restart, and re-encrypt (the connection's *Re-encrypt secrets*
action); then drop the old key.
"""

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_OPTION = "avidxchange_fernet_key"
OLD_KEYS_OPTION = "avidxchange_fernet_old_keys"
KEY_ENVIRONMENT_VARIABLE = "AVIDXCHANGE_FERNET_KEY"  # for containers without a config file


class SecretBoxError(Exception):
    """No usable key, or ciphertext that no configured key opens. The message
    says what to do; it never holds key material."""


def configured_keys(config):
    """The keys from the server configuration, the one to encrypt with first."""
    primary = config.get(KEY_OPTION) or os.environ.get(KEY_ENVIRONMENT_VARIABLE)
    if not primary:
        return []
    old = [key.strip() for key in (config.get(OLD_KEYS_OPTION) or "").split(",") if key.strip()]
    return [primary.strip(), *old]


class SecretBox:
    """Encrypts with the first key, decrypts with any of them."""

    def __init__(self, keys):
        if not keys:
            raise SecretBoxError(
                f"No encryption key is configured. Add '{KEY_OPTION} = <key>' to the "
                "[options] section of the Odoo configuration file and restart Odoo; "
                "make a key with: python3 -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError):
            raise SecretBoxError(
                f"The configured '{KEY_OPTION}' is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None

    def encrypt(self, text):
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token):
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretBoxError(
                "The stored secret cannot be decrypted with the configured keys: the "
                "key changed without re-encryption. Enter the client secret again."
            ) from None

    def rotate(self, token):
        """The same secret, encrypted with the current first key."""
        try:
            return self._fernet.rotate(token.encode()).decode("ascii")
        except InvalidToken:
            raise SecretBoxError(
                "A stored secret cannot be decrypted with the configured keys."
            ) from None
