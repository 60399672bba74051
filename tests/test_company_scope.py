"""Which companies a connection speaks for (``tools/company_scope.py``),
without a database: a company tree given by its parent paths."""

from odoo.tests import BaseCase, tagged

from ..tools.company_scope import covering_company_id, scope_company_ids

# 1 ─┬─ 2 ─── 4
#    └─ 3 ─── 5 ─── 6
TREE = {1: "1/", 2: "1/2/", 3: "1/3/", 4: "1/2/4/", 5: "1/3/5/", 6: "1/3/5/6/"}


def below(company):
    return {c: path for c, path in TREE.items() if f"/{company}/" in f"/{path}"}


@tagged("post_install", "-at_install")
class TestCompanyScope(BaseCase):
    def test_a_connection_speaks_for_its_company_and_branches(self):
        self.assertEqual(scope_company_ids(1, below(1), [1]), [1, 2, 3, 4, 5, 6])

    def test_a_branch_with_a_connection_of_its_own_speaks_for_itself(self):
        self.assertEqual(scope_company_ids(1, below(1), [1, 3]), [1, 2, 4])
        self.assertEqual(scope_company_ids(3, below(3), [1, 3]), [3, 5, 6])

    def test_a_connection_above_is_not_one_below(self):
        """The parent's connection shows in every branch's path: it takes nothing away."""
        self.assertEqual(scope_company_ids(5, below(5), [1, 3, 5]), [5, 6])

    def test_the_nearest_connection_covers_a_company(self):
        self.assertEqual(covering_company_id(TREE[6], [1, 3]), 3)
        self.assertEqual(covering_company_id(TREE[4], [1, 3]), 1)
        self.assertEqual(covering_company_id(TREE[3], [1, 3]), 3)
        self.assertIsNone(covering_company_id(TREE[4], [3]))
        self.assertIsNone(covering_company_id(False, [1]))
