"""After every upgrade, once each version's own steps ran: every connection
has a stream of each kind the registry knows (``avidxchange.stream.handler``),
so a kind a new version brings needs no migration of its own. Runs last, so
that a version that moves older settings into streams (19.0.1.1.0) has done
so first."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    api.Environment(cr, SUPERUSER_ID, {})["avidxchange.stream"]._ensure_streams()
