"""Where the connection may send its credentials: AvidXchange's hosts over
https, and other hosts only where the server administrator allows them.

The token URL receives the client id and secret, and the base URL's answers
land in the audit trail: a connection pointed at any host would hand the
secret to it, or read an internal address into the trail. So the hosts are
AvidXchange's (``const.AVIDXCHANGE_HOST_SUFFIX``), or listed by the server
administrator, in the server configuration (``avidxchange_allowed_hosts``)
or the system parameter ``account_avidxchange.allowed_hosts`` (comma
separated host names; a listed host may be plain http, e.g. a simulator on
localhost). Only the server administrator can write either.
"""

from urllib.parse import urlsplit

from odoo.tools import config

from .. import const


def environment_urls(environment):
    """``(base URL, token URL)`` of AvidXchange's ``environment`` (sandbox or production)."""
    base = const.PRODUCTION_BASE_URL if environment == "production" else const.SANDBOX_BASE_URL
    return base, base + const.TOKEN_PATH


def allowed_hosts(env):
    """The host names the server administrator allows besides AvidXchange's."""
    listed = ",".join(
        [
            config.get(const.ALLOWED_HOSTS_OPTION) or "",
            env["ir.config_parameter"].sudo().get_param(const.ALLOWED_HOSTS_PARAMETER) or "",
        ]
    )
    return {host.strip().lower() for host in listed.split(",") if host.strip()}


def url_refusal(env, url, production=False):
    """Why ``url`` may not receive the connection's requests, or None."""
    try:
        parts = urlsplit(url or "")
        host = (parts.hostname or "").lower()
    except ValueError:
        return env._("%s is not a URL.", url)
    if parts.scheme not in ("https", "http") or not host:
        return env._("%s is not an http(s) URL.", url)
    if parts.username or parts.password or parts.query or parts.fragment or "#" in url:
        return env._("%s may not carry credentials, a query or a fragment.", url)
    listed = host in allowed_hosts(env)
    theirs = host == const.AVIDXCHANGE_HOST_SUFFIX or host.endswith(
        "." + const.AVIDXCHANGE_HOST_SUFFIX
    )
    if not (theirs or listed):
        return env._(
            "%(url)s is not on AvidXchange's hosts (*.%(suffix)s): the server administrator "
            "may allow another host (system parameter %(parameter)s).",
            url=url,
            suffix=const.AVIDXCHANGE_HOST_SUFFIX,
            parameter=const.ALLOWED_HOSTS_PARAMETER,
        )
    if parts.scheme != "https" and (production or not listed):
        return env._("%s: credentials only travel over https.", url)
    return None
