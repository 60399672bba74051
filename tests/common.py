"""Shared fixtures: a live AvidXchange simulator on a free localhost port.

Tests talk to it over real HTTP through the real client. Odoo's test base
patches ``requests`` so that only localhost is reachable, and raises every
timeout under 10 s to 10 s; the simulator runs on 127.0.0.1, and we let its
requests through with the client's own timeouts so timeout tests stay short.
"""

import os
from unittest.mock import patch
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, new_test_user
from odoo.tests.common import _super_send
from odoo.tools import SQL, config

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .. import const
from ..simulator.tests import common as simulator_common
from ..simulator.tests.common import CLIENT_ID, CLIENT_SECRET, COMPANY_ID
from ..tools.secret_box import KEY_ENVIRONMENT_VARIABLE, KEY_OPTION, OLD_KEYS_OPTION

STREAM_LOGGER = "odoo.addons.account_avidxchange.models.avidxchange_stream"
LINK_LOGGER = "odoo.addons.account_avidxchange.models.avidxchange_link_mixin"
# An accounts payable clerk or lead: bills in Odoo, and an AvidXchange User.
AP_CLERK_GROUPS = ("account.group_account_invoice", "account_avidxchange.group_avidxchange_user")


class SimulatorMixin(simulator_common.SimulatorMixin):
    """Starts one simulator per test class and resets it before every test; its
    requests pass Odoo's patching of ``requests``."""

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        if urlsplit(request.url).hostname == "127.0.0.1":
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)


class SimulatorCase(SimulatorMixin, BaseCase):
    """For plain-Python code (the client): no database involved."""


class CommittedConnectionCase(SimulatorMixin, BaseCase):
    """Two transactions at once, as two scheduled actions (or a cron and a
    user) run them. Real cursors need committed data: a connection and its
    vendor are committed in the main company and deleted afterwards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.startClassPatcher(fernet_keys(Fernet.generate_key().decode()))

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            env["ir.config_parameter"].set_param(const.ALLOWED_HOSTS_PARAMETER, "127.0.0.1")
            backend = env["avidxchange.backend"].create(
                {
                    "name": "Concurrency",
                    "company_id": company.id,
                    "base_url": self.simulator.base_url,
                    "token_url": self.simulator.token_url,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "avidxchange_company_id": COMPANY_ID,
                    "read_timeout": 5,
                    **self._committed_backend_values(),
                }
            )
            vendor = (
                env["res.partner"]
                .with_company(company)
                .create(
                    {"name": "Concurrent Steel", "is_company": True, "avidxchange_enabled": True}
                )
            )
            self.backend_id, self.vendor_id = backend.id, vendor.id
        self.addCleanup(self._delete_committed_data)

    def _committed_backend_values(self):
        return {}

    def _delete_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["avidxchange.backend"].browse(self.backend_id).unlink()
            env["res.partner"].browse(self.vendor_id).unlink()
            env["ir.config_parameter"].set_param(const.ALLOWED_HOSTS_PARAMETER, False)

    def stream_in(self, cr, kind):
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["avidxchange.backend"].browse(self.backend_id)._stream(kind)


def fernet_keys(primary=None, old=()):
    """Patch the encryption keys of the server configuration (None: no key)."""
    return patch.dict(
        config.options.maps[0],  # the runtime layer over the config file and defaults
        {KEY_OPTION: primary, OLD_KEYS_OPTION: ",".join(old)},
    )


class AvidxchangeCase(SimulatorMixin, AccountTestInvoicingCommon):
    """A company with its accounting, an encryption key and a connection to
    the simulator, as an AvidXchange administrator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(os.environ))  # restored as it was afterwards
        os.environ.pop(KEY_ENVIRONMENT_VARIABLE, None)
        cls.fernet_key = Fernet.generate_key().decode()
        cls.startClassPatcher(fernet_keys(cls.fernet_key))
        cls.env.user.group_ids += cls.env.ref("account_avidxchange.group_avidxchange_manager")
        # the simulator is not on AvidXchange's hosts: allowed as a server administrator would
        cls.env["ir.config_parameter"].set_param(const.ALLOWED_HOSTS_PARAMETER, "127.0.0.1")
        cls.backend = cls.env["avidxchange.backend"].create(cls._backend_values())

    @classmethod
    def _backend_values(cls, **values):
        return {
            "name": "AvidXchange test",
            "base_url": cls.simulator.base_url,
            "token_url": cls.simulator.token_url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "avidxchange_company_id": COMPANY_ID,
            "journal_id": cls.company_data["default_journal_bank"].id,
            "read_timeout": 5,
            **values,
        }

    def stream(self, kind, backend=None):
        """The connection's stream of ``kind`` (``vendor``, ``bill``, ``payment``...)."""
        return (backend or self.backend)._stream(kind)

    def run_stream(self, kind, backend=None, batch_size=None):
        """One batch of a stream, as a cron run makes it: ``(done, waiting)``."""
        return self.stream(kind, backend)._run_batch(batch_size)

    @classmethod
    def company_user(cls, login, *groups):
        """An internal user of this company only, in ``groups`` (XML ids) besides."""
        return new_test_user(
            cls.env,
            login=login,
            groups=",".join(("base.group_user", *groups)),
            company_id=cls.env.company.id,
            company_ids=cls.env.company.ids,
        )

    def ap_clerk(self, login):
        """An internal user of this company who is an AvidXchange User, nothing more."""
        return self.env["res.users"].create(
            {
                "name": "AP clerk",
                "login": login,
                "company_id": self.env.company.id,
                "company_ids": [Command.set(self.env.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            self.env.ref("base.group_user").id,
                            self.env.ref("account_avidxchange.group_avidxchange_user").id,
                        ]
                    )
                ],
            }
        )

    def failed_connection_test(self):
        """A failed exchange of the connection, as a failed Test Connection leaves."""
        return (
            self.env["avidxchange.exchange.log"]
            .sudo()
            .create(
                {
                    "backend_id": self.backend.id,
                    "operation": "connection_test",
                    "state": "failed",
                    "res_model": "avidxchange.backend",
                    "res_id": self.backend.id,
                }
            )
        )

    def refuse_bills(self, n, detail):
        """AvidXchange refuses the next ``n`` bills sent: a 422, an unknown GL code."""
        self.simulator.fail_next(
            n,
            status=422,
            path="/invoices",
            method="POST",
            body={"exception": {"reason": "Unknown GL code", "detail": detail}},
        )

    def exchanges(self, **filters):
        domain = [("backend_id", "=", self.backend.id)]
        domain += [(field, "=", value) for field, value in filters.items()]
        return self.env["avidxchange.exchange.log"].search(domain, order="id")

    def set_write_date(self, record, moment):
        """Stamp ``record`` as written by a transaction that began at ``moment``."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = %s WHERE id IN %s",
                SQL.identifier(record._table),
                moment,
                tuple(record.ids),
            )
        )
        self.env.invalidate_all()

    def release(self, bills, reason="Paid by hand after all"):
        """An AvidXchange administrator releases ``bills`` from AvidXchange's hold."""
        self.env["avidxchange.bill.release"].with_context(active_ids=bills.ids).create(
            {"reason": reason}
        ).action_release()

    @classmethod
    def vendor(cls, name="Acme Steel", **values):
        return cls.env["res.partner"].create(
            {"name": name, "is_company": True, "avidxchange_enabled": True, **values}
        )

    def bill(self, vendor, *amounts, taxes=None, ref="INV-0042", post=True, **values):
        """A vendor bill with one line per amount (no taxes unless given)."""
        bill = vendor.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": vendor.id,
                "ref": ref,
                "invoice_date": "2026-11-20",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": f"Line {n}",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.set((taxes or self.env["account.tax"]).ids)],
                        }
                    )
                    for n, amount in enumerate(amounts, start=1)
                ],
                **values,
            }
        )
        if post:
            bill.action_post()
        return bill


class PaymentCase(AvidxchangeCase):
    """A vendor, and helpers to export bills and have AvidXchange pay them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.vendor("Acme Steel")

    def exported_bill(self, *amounts, ref="INV-0042", vendor=None):
        bill = self.bill(vendor or self.acme, *amounts, ref=ref)
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced")
        self.simulator.approve_invoice(bill.avidxchange_invoice_id)
        return bill

    def imported_payment(self, amount, **bill_values):
        """A bill of ``amount`` exported, paid in full in AvidXchange, and the payment
        stream run once: ``(bill, report)``."""
        bill = self.exported_bill(amount, **bill_values)
        report = self.pay((bill, amount))
        self.run_stream("payment")
        return bill, report

    def pay(self, *allocations, **options):
        """Pay ``(bill, amount[, discount])`` allocations in the simulator."""
        return self.simulator.pay(
            [
                {"invoice_id": bill.avidxchange_invoice_id, "amount": amount, "discount": d[0]}
                if d
                else {"invoice_id": bill.avidxchange_invoice_id, "amount": amount}
                for bill, amount, *d in allocations
            ],
            **options,
        )

    def imported(self, report):
        return self.env["avidxchange.payment"].search([("payment_ref", "=", report["PaymentId"])])

    def report(self, payment_id, *allocations, **fields):
        """A report as the contract shapes it, paying ``(bill, amount[, discount])``
        allocations, to inject into the simulator with wrong parts in ``fields``."""
        lines = [
            {
                "Id": bill.avidxchange_invoice_id,
                "ExternalInvoiceId": bill.avidxchange_link_ids.external_invoice_id,
                "Number": bill.ref,
                "AmountPaid": amount,
                "Discount": discount[0] if discount else 0.0,
            }
            for bill, amount, *discount in allocations
        ]
        return {
            "PaymentId": payment_id,
            "Status": {"Id": 3, "Description": "Issued"},
            "PaymentMethod": {"Id": 2, "Description": "ACH"},
            "CheckNumber": None,
            "TraceNumber": "091000019000777",
            "Amount": sum(line["AmountPaid"] for line in lines),
            "Currency": "USD",
            "PaymentDate": "2026-11-28",
            "ClearedDate": None,
            "Invoices": lines,
            "GLPostings": [],
            **fields,
        }

    def inject(self, item):
        return self.simulator.inject_payment(item, COMPANY_ID)


class EnterpriseMode:
    """With Enterprise's accounting installed, simulated as
    ../shared/odoo19-notes.md §12 says: payment methods without an
    outstanding account, and bills "in payment" until the bank reconciles."""

    allow_inherited_tests_method = True  # every test of the class it extends, in this mode

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        journals = cls.env["account.journal"].search([("company_id", "=", cls.env.company.id)])
        journals.outbound_payment_method_line_ids.payment_account_id = False
        cls.startClassPatcher(
            patch.object(
                type(cls.env["account.move"]),
                "_get_invoice_in_payment_state",
                lambda self: "in_payment",
            )
        )
