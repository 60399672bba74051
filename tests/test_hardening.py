"""An attacker with an account on the database: the secret cannot be sent
elsewhere, nothing reaches AvidXchange before an access check, and seeing
statuses grants nothing more."""

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import config

from .. import const
from .common import CLIENT_SECRET, AvidxchangeCase, PaymentCase


@tagged("post_install", "-at_install")
class TestSecretDestination(PaymentCase):
    def test_changing_where_the_secret_goes_forgets_it(self):
        """Whoever may edit the URLs, the environment or the client id cannot
        send the stored secret anywhere without typing it again."""
        sim = self.simulator.base_url
        for field, value in [
            ("token_url", sim + "/oauth2/token"),
            ("base_url", sim + "/v2"),
            ("client_id", "someone-else"),
            ("environment", "production"),
        ]:
            with self.subTest(field=field):
                self.backend.write(self._backend_values(environment="sandbox"))
                self.assertTrue(self.backend.has_client_secret)
                self.backend.write({field: value})
                self.assertFalse(self.backend.has_client_secret)
                self.assertFalse(self.backend.sudo().client_secret_encrypted)
                self.assertIn("client secret was forgotten", self.backend.message_ids[0].body)
                requests = self.simulator.count()
                ok, message = self.backend._check_connection()
                self.assertFalse(ok)
                self.assertIn("secret", message)
                self.assertEqual(self.simulator.count(), requests, "nothing was sent")

    def test_a_new_secret_in_the_same_write_is_kept(self):
        self.backend.write({"client_id": "rotated-client", "client_secret": "rotated-secret"})
        self.assertTrue(self.backend.has_client_secret)
        self.assertEqual(self.backend._decrypted_secret(), "rotated-secret")
        self.backend.write({"name": "Renamed"})  # nothing about where it goes
        self.assertTrue(self.backend.has_client_secret)

    def test_credentials_go_to_avidxchange_hosts_only(self):
        refused = {
            "base_url": [
                "http://internal/admin#",
                "https://intranet.example/api",
                "https://apistore.avidxchange.net.evil.example",
                "https://user:pass@apistore.avidxchange.net",
                "https://apistore.avidxchange.net/?next=x",
                "http://apistore.avidxchange.net",  # sandbox or not: https
            ],
            "token_url": ["https://evil.example/token", "ftp://apistore.avidxchange.net/token"],
        }
        for field, urls in refused.items():
            for url in urls:
                with self.subTest(url=url), self.assertRaises(ValidationError):
                    self.backend.write({field: url, "client_secret": CLIENT_SECRET})
        self.backend.write(
            {
                "base_url": "https://sandbox.apistore.avidxchange.net",
                "token_url": "https://sandbox.apistore.avidxchange.net/token",
                "client_secret": CLIENT_SECRET,
            }
        )

    def test_a_host_the_server_administrator_no_longer_allows_gets_nothing(self):
        """The list is read again before every cycle: a connection saved while
        a host was allowed sends nothing to it once it is not."""
        self.env["ir.config_parameter"].set_param(const.ALLOWED_HOSTS_PARAMETER, False)
        with self.assertRaisesRegex(UserError, "not on AvidXchange's hosts"):
            self.backend._get_client()
        ok, message = self.backend._check_connection()
        self.assertFalse(ok)
        self.assertIn("system parameter account_avidxchange.allowed_hosts", message)
        self.assertEqual(self.simulator.count(), 0)
        # the server configuration may allow it instead
        with patch.dict(config.options, {const.ALLOWED_HOSTS_OPTION: "127.0.0.1"}):
            self.assertTrue(self.backend._check_connection()[0])


@tagged("post_install", "-at_install")
class TestActionsCheckAccessFirst(PaymentCase):
    """Public actions, as every kind of user would call them over RPC: an
    access check comes before any setting is read or anything is sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.other = other = cls.setup_other_company()["company"]

        def user(login, groups, companies=company):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=companies[:1].id,
                company_ids=companies.ids,
            )

        cls.intruders = {
            "portal user": user("avx_portal", "base.group_portal"),
            "accountant": user("avx_accountant", "base.group_user,account.group_account_manager"),
            "AvidXchange user": user(
                "avx_user", "base.group_user,account_avidxchange.group_avidxchange_user"
            ),
            "administrator of another company": user(
                "avx_other_admin",
                "base.group_user,account_avidxchange.group_avidxchange_manager",
                companies=other,
            ),
        }

    def test_nobody_else_makes_the_server_call_avidxchange(self):
        bill = self.exported_bill(40.0)
        report = self.pay((bill, 40.0))
        self.run_stream("payment")
        payment = self.imported(report)
        payment.sudo().state = "error"  # a retry would apply it again
        failed = self.failed_connection_test()
        self.backend.state = "draft"
        calls = {
            "test connection": lambda env: (
                env["avidxchange.backend"].browse(self.backend.id).action_test_connection()
            ),
            "activate": lambda env: (
                env["avidxchange.backend"].browse(self.backend.id).action_activate()
            ),
            "run a stream": lambda env: (
                env["avidxchange.stream"].browse(self.stream("vendor").id).action_run_now()
            ),
            "export a bill now": lambda env: (
                env["avidxchange.invoice.link"]
                .browse(bill.avidxchange_link_ids.id)
                .action_send_now()
            ),
            "retry a payment": lambda env: (
                env["avidxchange.payment"].browse(payment.id).action_retry()
            ),
            "replay an exchange": lambda env: (
                env["avidxchange.exchange.log"].browse(failed.id).action_replay()
            ),
        }
        self.simulator.reset()
        for who, intruder in self.intruders.items():
            for what, call in calls.items():
                with self.subTest(who=who, what=what), self.assertRaises(AccessError):
                    call(self.env(user=intruder))
        self.assertEqual(self.simulator.count(), 0, "nothing reached AvidXchange")
        self.assertEqual(self.backend.state, "draft")
        self.assertEqual(payment.state, "error")
        self.assertFalse(failed.replayed)

    def test_an_action_runs_in_its_connection_company(self):
        """An administrator of two companies, working in the other one, sends
        a bill of this company: with this company's GL codes."""
        other = self.other
        admin = new_test_user(
            self.env,
            login="avx_two_companies",
            groups="base.group_user,account.group_account_manager,"
            "account_avidxchange.group_avidxchange_manager",
            company_id=other.id,
            company_ids=[other.id, self.env.company.id],
        )
        bill = self.bill(self.acme, 75.0)
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        link.write({"state": "error"})
        env = self.env(user=admin, context={"allowed_company_ids": [other.id, self.env.company.id]})
        env["avidxchange.invoice.link"].browse(link.id).action_send_now()
        self.assertEqual(link.state, "synced")
        sent = self.simulator.get_invoice(link.avidxchange_id)
        codes = {d["EnterpriseCodes"][0]["EnterpriseCodeValue"] for d in sent["Distributions"]}
        self.assertEqual(codes, set(bill.invoice_line_ids.account_id.mapped("code")))
        self.assertTrue(all(codes))


@tagged("post_install", "-at_install")
class TestUserGroupGrantsNothingElse(PaymentCase):
    def test_an_avidxchange_user_sees_but_cannot_bill(self):
        clerk = self.ap_clerk("avx_seer")
        self.exported_bill(10.0)
        self.assertTrue(self.env["avidxchange.invoice.link"].with_user(clerk).search([]))
        self.assertFalse(clerk.has_group("account.group_account_invoice"))
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(clerk).create(
                {"move_type": "in_invoice", "partner_id": self.acme.id}
            )
        with self.assertRaises(AccessError):
            self.env["account.payment"].with_user(clerk).create(
                {"payment_type": "outbound", "partner_id": self.acme.id, "amount": 1.0}
            )


@tagged("post_install", "-at_install")
class TestBranches(PaymentCase):
    def test_bills_of_the_company_branches_go_unless_a_branch_has_its_own_connection(self):
        main = self.env.company
        Company = self.env["res.company"]
        branch, separate = Company.create(
            [
                {"name": name, "country_id": main.country_id.id, "parent_id": main.id}
                for name in ("Acme Branch East", "Acme Branch West")
            ]
        )
        self.env.cr.precommit.run()  # load the chart of accounts
        self.env.user.company_ids += branch | separate
        self.env["avidxchange.backend"].create(
            {
                "name": "West's own",
                "company_id": separate.id,
                "base_url": "https://west.avidxchange.net",
                "token_url": "https://west.avidxchange.net/token",
            }
        )
        bills = {}
        for company in (branch, separate):
            env = self.env(
                context={**self.env.context, "allowed_company_ids": [company.id, main.id]}
            )
            bills[company] = self.bill(
                self.acme.with_env(env), 55.0, ref=company.name, company_id=company.id
            )
        self.assertEqual(bills[branch].company_id, branch)
        self.run_stream("bill")
        self.assertEqual(bills[branch].avidxchange_state, "synced")
        self.assertFalse(bills[separate].avidxchange_link_ids, "the branch's own connection's")


@tagged("post_install", "-at_install")
class TestRpcRefused(AvidxchangeCase, HttpCase):
    """The same over Odoo's RPC route, as a logged-in attacker would call it."""

    def test_test_connection_over_rpc_sends_nothing(self):
        intruders = [
            new_test_user(self.env, login="avx_rpc_portal", groups="base.group_portal"),
            new_test_user(
                self.env,
                login="avx_rpc_user",
                groups="base.group_user,account_avidxchange.group_avidxchange_user",
                company_id=self.env.company.id,
                company_ids=self.env.company.ids,
            ),
        ]
        self.simulator.reset()
        for user in intruders:
            with self.subTest(user=user.login):
                self.authenticate(user.login, user.login)
                for method in ("action_test_connection", "action_activate"):
                    with (
                        self.assertRaisesRegex(JsonRpcException, "AccessError"),
                        self.assertLogs("odoo.http", "WARNING") as logs,
                    ):
                        self.make_jsonrpc_request(
                            f"/web/dataset/call_kw/avidxchange.backend/{method}",
                            {
                                "model": "avidxchange.backend",
                                "method": method,
                                "args": [[self.backend.id]],
                                "kwargs": {},
                            },
                        )
                    self.assertIn("Only AvidXchange administrators", logs.output[0])
        self.assertEqual(self.simulator.count(), 0, "nothing reached AvidXchange")
        self.assertEqual(self.backend.connection_status, "unknown")
