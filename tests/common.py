"""Shared fixtures: a live AvidXchange simulator on a free localhost port.

Tests talk to it over real HTTP through the real client. Odoo's test base
patches ``requests`` so that only localhost is reachable, and raises every
timeout under 10 s to 10 s; the simulator runs on 127.0.0.1, and we let its
requests through with the client's own timeouts so timeout tests stay short.
"""

from urllib.parse import urlsplit

from odoo.tests import BaseCase
from odoo.tests.common import _super_send

from ..simulator import AvidSimulator

CLIENT_ID = "odoo-test-client"
CLIENT_SECRET = "s3cr3t-Never-Log-Me-7f9c2a"
COMPANY_ID = "AVX-COMPANY-1"


class SimulatorMixin:
    """Starts one simulator per test class and resets it before every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = AvidSimulator(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, company_id=COMPANY_ID
        ).start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        if urlsplit(request.url).hostname == "127.0.0.1":
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)


class SimulatorCase(SimulatorMixin, BaseCase):
    """For plain-Python code (the client): no database involved."""
