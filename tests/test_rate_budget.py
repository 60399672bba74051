"""A connection's requests-per-minute budget is kept in PostgreSQL and shared
by every worker and host: two clients of one connection, each taking its
slots through cursors of its own, share it; a 429 one of them meets pauses
the other."""

from concurrent.futures import ThreadPoolExecutor

from odoo.tests import tagged

from ..tools import rate_budget
from ..tools.exceptions import RetryableError
from .common import AvidxchangeCase


class Slept(Exception):
    """Raised by a budget's sleep: the request would have waited."""


@tagged("post_install", "-at_install")
class TestRateBudget(AvidxchangeCase):
    def setUp(self):
        super().setUp()
        self.forget_budget()
        self.addCleanup(self.forget_budget)
        self.backend.requests_per_minute = 3

    def forget_budget(self):
        with self.registry.cursor() as cr:  # the budget's rows are committed: see rate_budget
            cr.execute(
                f"DELETE FROM {rate_budget.TABLE} WHERE backend_id = %s",
                [self.backend.id],
            )

    def waits_before_sending(self, client):
        """Whether ``client``'s next request would wait for the budget, and how long."""
        waits = []

        def sleep(seconds):
            waits.append(seconds)
            raise Slept

        client.budget._sleep = sleep
        with self.assertRaises(Slept):
            self.check_connection(client)
        return waits[0]

    def check_connection(self, client):
        with client.recording("connection_test", self.backend):
            client.check_connection()

    def test_two_workers_share_one_budget(self):
        """Each client (a worker, a host) takes its slots in transactions of
        its own: the minute's three requests are the two clients' together."""
        first, second = self.backend._get_client(), self.backend._get_client()
        self.assertIsNot(first.budget, second.budget)
        self.check_connection(first)  # a token and a list: two requests
        self.assertEqual(second.budget.state()[0], 2)
        self.assertEqual(second.budget.try_take(), 0)  # the third
        used, wait = first.budget.state()
        self.assertEqual(used, 3)
        self.assertGreater(wait, 50, "the rest of the minute")
        self.assertEqual(self.waits_before_sending(first), rate_budget.POLL_SECONDS)
        self.assertEqual(self.simulator.count(), 2, "nothing sent beyond the budget")

    def test_slots_are_never_taken_twice(self):
        budgets = [self.backend._rate_budget() for _ in range(2)]
        taken = [budget.try_take() == 0 for budget in budgets * 3]
        self.assertEqual(taken, [True, True, True, False, False, False])

    def test_workers_at_once_never_take_the_same_slot(self):
        self.backend.requests_per_minute = 5
        budgets = [self.backend._rate_budget() for _ in range(8)]
        with ThreadPoolExecutor(max_workers=8) as pool:  # eight workers' transactions at once
            taken = list(pool.map(lambda budget: budget.try_take() == 0, budgets))
        self.assertEqual(taken.count(True), 5)

    def test_no_limit(self):
        self.backend.requests_per_minute = 0
        budget = self.backend._rate_budget()
        self.assertEqual([budget.try_take() for _ in range(5)], [0] * 5)

    def test_a_429_seen_by_one_worker_slows_the_other(self):
        self.backend.write({"requests_per_minute": 0, "max_attempts": 1})
        first, second = self.backend._get_client(), self.backend._get_client()
        self.simulator.fail_next(1, status=429, retry_after=30, path="/payments")
        with self.assertRaises(RetryableError):
            self.check_connection(first)
        _used, wait = second.budget.state()
        self.assertGreater(wait, 25)
        self.assertLessEqual(wait, 30)
        requests = self.simulator.count()
        self.assertEqual(self.waits_before_sending(second), rate_budget.POLL_SECONDS)
        self.assertEqual(self.simulator.count(), requests, "the other waits, and sends nothing")

    def test_a_pause_is_capped(self):
        budget = self.backend._rate_budget()
        budget.pause(3600)
        self.assertLessEqual(budget.state()[1], budget.max_pause)
