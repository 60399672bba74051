"""The errors the AvidXchange client raises, split by what the caller should do.

A sync job only has to know one thing about a failure: will it go away by itself
(try the record again in the next cycle) or does somebody have to act (mark the
record in error with the message). Messages are written for an AP clerk and
never carry a secret, a token or a raw token-endpoint body.
"""

import logging

from odoo.exceptions import RedirectWarning, UserError

from .groups import MANAGER_GROUP


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


def clerk_message(error, env, *, base_url=None, company=None):
    """``error`` in words an AP clerk can act on.

    ``env`` translates (to the user's language); ``base_url`` and
    ``company`` (the AvidXchange company id) name what to check. An error that
    is not one of ours is a bug: its text may hold anything, so only its kind
    is named and the details stay in the server log.
    """
    if isinstance(error, UserError):  # a configuration problem, already in words
        return error.args[0]
    if isinstance(error, CredentialsRejectedError):
        return env._(
            "AvidXchange refused the client id and secret. Check them, and the "
            "environment (sandbox or production) they were issued for."
        )
    if isinstance(error, PermanentError) and error.status in (403, 404):
        return env._(
            "The credentials are valid, but AvidXchange company id %(company)s is not "
            "one this API client may use (HTTP %(status)s). Check the company id.",
            company=company,
            status=error.status,
        )
    if isinstance(error, RetryableError) and error.status is None:
        return env._(
            "AvidXchange could not be reached at %(url)s: %(error)s Check the URL and "
            "the server's network access.",
            url=base_url,
            error=str(error),
        )
    if isinstance(error, InvalidResponseError):
        return env._(
            "The server at %(url)s answered, but not as AvidXchange does: %(error)s",
            url=base_url,
            error=str(error),
        )
    if isinstance(error, AvidXchangeError):
        return str(error)
    return env._(
        "An unexpected error (%s) stopped this run; the server log has the details.",
        type(error).__name__,
    )


def refuse(env, message, release_action, release_offer):
    """Refuse, in words, what would make Odoo disagree with AvidXchange (a held
    bill changed, a payment AvidXchange made edited): a ``UserError`` for a
    user; for an AvidXchange administrator, a ``RedirectWarning`` offering
    ``release_action`` ("Release with a reason"), ``release_offer`` said.

    A ``RedirectWarning`` is no ``UserError``, so ``odoo.http`` would log it as
    a crash, ERROR and a traceback: the level it reads off the exception makes
    it one WARNING line, as for a user's refusal. Not a subclass: the web
    client picks the dialog with the button by the class's name."""
    if not env.user.has_group(MANAGER_GROUP):
        raise UserError(
            message
            + " "
            + env._("An AvidXchange administrator may also release it, with a reason.")
        )
    refusal = RedirectWarning(
        message + " " + release_offer, release_action, env._("Release with a reason")
    )
    refusal.loglevel = logging.WARNING
    raise refusal
