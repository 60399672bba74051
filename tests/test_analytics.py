"""AvidXchange's approvers see departments, projects and locations as Odoo has
them: each analytic plan is a group of enterprise codes, its accounts the
codes, and a bill line's analytic distribution codes its distributions."""

from odoo.tests import tagged

from .common import COMPANY_ID, AvidxchangeCase


@tagged("post_install", "-at_install")
class TestAnalytics(AvidxchangeCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Plan = cls.env["account.analytic.plan"]
        Account = cls.env["account.analytic.account"]
        cls.department = Plan.create({"name": "Department"})
        cls.location = Plan.create({"name": "Location"})
        cls.sales = Account.create({"name": "Sales", "code": "D-SAL", "plan_id": cls.department.id})
        cls.ops = Account.create({"name": "Operations", "plan_id": cls.department.id})
        cls.rnd = Account.create(
            {"name": "Research", "code": "D-RND", "plan_id": cls.department.id}
        )
        cls.plant = Account.create(
            {"name": "Plant 2", "code": "PLANT-2", "plan_id": cls.location.id}
        )

    def analytic_bill(self, amount, distribution):
        bill = self.bill(self.vendor(), amount, post=False)
        bill.invoice_line_ids.analytic_distribution = {
            ",".join(str(account.id) for account in accounts): share
            for accounts, share in distribution
        }
        bill.action_post()
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced", bill.avidxchange_error)
        return self.simulator.get_invoice(bill.avidxchange_invoice_id)

    @staticmethod
    def coded(remote):
        """``[(amount, {group: code})]`` of the invoice's distributions."""
        return sorted(
            (
                line["Amount"],
                {
                    code["GroupName"]: code["EnterpriseCodeValue"]
                    for code in line["EnterpriseCodes"]
                },
            )
            for line in remote["Distributions"]
        )

    def test_each_plan_is_a_group_and_its_accounts_the_codes(self):
        remote = self.analytic_bill(100.0, [(self.sales, 60.0), (self.ops, 40.0)])
        gl = remote["Distributions"][0]["EnterpriseCodes"][0]["EnterpriseCodeValue"]
        self.assertEqual(
            self.coded(remote),
            [
                (40.0, {"Accounting Codes": gl, "Department": "Operations"}),
                (60.0, {"Accounting Codes": gl, "Department": "D-SAL"}),
            ],
        )
        codes = {
            (code["GroupName"], code["CodeValue"]): code
            for code in self.simulator.enterprise_codes(COMPANY_ID)
        }
        self.assertEqual(codes["Department", "D-SAL"]["Description"], "Sales")
        self.assertIn(("Department", "Operations"), codes)
        self.assertNotIn(("Department", "D-RND"), codes, "only the codes bills use")

    def test_several_plans_on_one_line_and_an_undistributed_rest(self):
        remote = self.analytic_bill(200.0, [((self.sales | self.plant), 75.0)])
        gl = remote["Distributions"][0]["EnterpriseCodes"][0]["EnterpriseCodeValue"]
        self.assertEqual(
            self.coded(remote),
            [
                (50.0, {"Accounting Codes": gl}),
                (150.0, {"Accounting Codes": gl, "Department": "D-SAL", "Location": "PLANT-2"}),
            ],
        )

    def test_rows_that_share_a_plan_are_distributions_of_their_own(self):
        """Odoo's rows: Sales with Plant 2 for 60%, Operations alone for 40%."""
        remote = self.analytic_bill(100.0, [((self.sales | self.plant), 60.0), (self.ops, 40.0)])
        gl = remote["Distributions"][0]["EnterpriseCodes"][0]["EnterpriseCodeValue"]
        self.assertEqual(
            self.coded(remote),
            [
                (40.0, {"Accounting Codes": gl, "Department": "Operations"}),
                (60.0, {"Accounting Codes": gl, "Department": "D-SAL", "Location": "PLANT-2"}),
            ],
        )

    def test_more_than_the_whole_line_is_spread_in_proportion(self):
        remote = self.analytic_bill(90.0, [(self.sales, 100.0), (self.ops, 50.0)])
        self.assertEqual([amount for amount, _codes in self.coded(remote)], [30.0, 60.0])

    def test_cents_are_reconciled_to_the_line(self):
        remote = self.analytic_bill(
            10.01, [(self.sales, 33.33), (self.ops, 33.33), (self.rnd, 33.34)]
        )
        amounts = [line["Amount"] for line in remote["Distributions"]]
        self.assertEqual(len(amounts), 3)
        self.assertAlmostEqual(sum(amounts), 10.01, places=6)
        self.assertEqual(remote["GrossAmount"], 10.01)

    def test_a_renamed_analytic_account_is_sent_again(self):
        self.analytic_bill(100.0, [(self.sales, 100.0)])
        self.assertEqual(self.run_stream("gl_code"), (0, 0))
        self.sales.name = "Sales & Marketing"
        self.assertEqual(self.run_stream("gl_code"), (1, 0))
        codes = {
            (code["GroupName"], code["CodeValue"]): code
            for code in self.simulator.enterprise_codes(COMPANY_ID)
        }
        self.assertEqual(codes["Department", "D-SAL"]["Description"], "Sales & Marketing")

    def test_a_line_without_analytics_is_coded_with_its_account_only(self):
        bill = self.bill(self.vendor(), 30.0)
        bill.invoice_line_ids.analytic_distribution = False
        self.run_stream("bill")
        remote = self.simulator.get_invoice(bill.avidxchange_invoice_id)
        [(amount, codes)] = self.coded(remote)
        self.assertEqual((amount, list(codes)), (30.0, ["Accounting Codes"]))
        groups = {code["GroupName"] for code in self.simulator.enterprise_codes(COMPANY_ID)}
        self.assertEqual(groups, {"Accounting Codes"})

    def test_the_integration_user_sends_the_codes(self):
        """The sync's own user reads analytic accounts and plans without the
        Analytic Accounting group: their names are codes, not secrets."""
        integration = self.env.ref("account_avidxchange.user_avidxchange_integration")
        self.assertFalse(integration.has_group("analytic.group_analytic_accounting"))
        bill = self.bill(self.vendor(), 100.0, post=False)
        bill.invoice_line_ids.analytic_distribution = {str(self.sales.id): 100.0}
        bill.action_post()
        for kind in ("bill", "gl_code"):
            self.env.invalidate_all()  # nothing read as the administrator
            stream = self.stream(kind).with_user(integration)
            stream._run_batch()
            self.assertFalse(stream.last_error, kind)
        self.sales.name = "Sales & Marketing"
        self.env.invalidate_all()
        stream = self.stream("gl_code").with_user(integration)
        self.assertEqual(stream._run_batch(), (1, 0), stream.last_error)
        self.assertEqual(bill.avidxchange_state, "synced")
