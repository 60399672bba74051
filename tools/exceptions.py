"""The errors the AvidXchange client raises, split by what the caller should do.

A sync job only has to know one thing about a failure: will it go away by itself
(try the record again in the next cycle) or does somebody have to act (mark the
record in error with the message). Messages are written for an AP clerk and
never carry a secret, a token or a raw token-endpoint body.
"""


class AvidXchangeError(Exception):
    """Base class. ``status`` is the HTTP status when there was an answer."""

    retryable = False

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class AuthenticationError(AvidXchangeError):
    """The credentials were refused, or a fresh token was refused too."""


class CredentialsRejectedError(AuthenticationError):
    """The token endpoint refused the client id and secret."""


class RetryableError(AvidXchangeError):
    """Throttling, a server error, a timeout or a dropped connection that lasted
    through every attempt: the same request may well pass later."""

    retryable = True


class PermanentError(AvidXchangeError):
    """AvidXchange refused the request itself (a 4xx): sending it again as it is
    cannot help. ``reason`` and ``detail`` are the server's own words."""

    def __init__(self, message, status=None, reason=None, detail=None):
        super().__init__(message, status=status)
        self.reason = reason
        self.detail = detail


class InvalidResponseError(AvidXchangeError):
    """The answer is not what the contract promises: not JSON, or a field the
    contract guarantees is missing."""
