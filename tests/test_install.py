from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestInstall(TransactionCase):
    """The module installs as an Accounting add-on with its two access levels."""

    def test_groups_imply_nothing_beyond_avidxchange(self):
        """Seeing statuses never grants creating or posting bills: the User
        group implies nothing, the Administrator group only the User group."""
        manager = self.env.ref("account_avidxchange.group_avidxchange_manager")
        user = self.env.ref("account_avidxchange.group_avidxchange_user")
        self.assertFalse(user.all_implied_ids - user)
        self.assertEqual(manager.all_implied_ids, manager | user)
        self.assertIn(self.env.ref("base.user_admin"), manager.user_ids)
        self.assertEqual(
            manager.privilege_id.category_id, self.env.ref("base.module_category_accounting")
        )

    def test_listed_in_apps(self):
        module = self.env["ir.module.module"].search([("name", "=", "account_avidxchange")])
        self.assertEqual(module.state, "installed")
        self.assertEqual(module.shortdesc, "AvidXchange Connector")
        self.assertEqual(module.icon, "/account_avidxchange/static/description/icon.png")
        self.assertEqual(
            module.category_id, self.env.ref("base.module_category_accounting_accounting")
        )
