"""Where a read of changes goes next (``tools/paging.py``), without a server:
the page asked for always holds the first unread record and the one before."""

import datetime

from odoo.tests import BaseCase, tagged

from ..tools.paging import ChangesCursor, page_at

T0 = datetime.datetime(2026, 11, 24, 10)


def item(n, seconds):
    stamp = (T0 + datetime.timedelta(seconds=seconds)).isoformat() + "Z"
    return {"PaymentId": f"PAY-{n}", "LastModifiedDate": stamp}


@tagged("post_install", "-at_install")
class TestPaging(BaseCase):
    def test_the_page_holds_the_first_unread_record_and_the_one_before(self):
        for size in (1, 2, 3, 7, 100, 500):
            for skip in range(0, 1200, 7):
                with self.subTest(size=size, skip=skip):
                    page_size, number, offset = page_at(skip, size)
                    self.assertEqual((number - 1) * page_size + offset, skip)
                    self.assertLess(offset, page_size)
                    if skip:
                        self.assertGreaterEqual(offset, 1)
                    if page_size > size:  # only when no smaller size can do
                        self.assertTrue(all(not skip % z for z in range(size // 2 or 1, size + 1)))
                        self.assertTrue(all(not skip % z for z in range(size + 1, page_size)))

    def test_the_page_size_leaves_the_most_unread_records(self):
        self.assertEqual(page_at(0, 100), (100, 1, 0))
        self.assertEqual(page_at(2, 100), (100, 1, 2))
        self.assertEqual(page_at(100, 100), (99, 2, 1))
        self.assertEqual(page_at(1, 1), (2, 1, 1))

    def test_one_record_with_a_newer_stamp_at_the_end_of_a_page_moves_no_read_past_it(self):
        cursor = ChangesCursor(T0, T0 + datetime.timedelta(days=1))
        page = [item(1, 1), item(2, 2), item(9, 900)]  # PAY-9 changed while the page was built
        fresh, moved = cursor.take(page, 3, 1, 0)
        self.assertEqual((fresh, moved), (page, False))
        self.assertEqual(cursor.since, T0 + datetime.timedelta(seconds=2))

    def test_a_page_of_one_stamp_is_followed_by_position(self):
        cursor = ChangesCursor(T0, T0 + datetime.timedelta(days=1))
        page = [item(n, 5) for n in range(3)]
        cursor.take(page, 3, 1, 0)
        self.assertEqual((cursor.since, cursor.skip), (T0 + datetime.timedelta(seconds=5), 3))
        # the next page must show PAY-2 before the unread ones; a list that moved does not
        size, number, offset = cursor.page(3)
        moved_page = [item(3, 5), item(4, 5)]
        fresh, moved = cursor.take(moved_page, size, number, offset)
        self.assertEqual((fresh, moved), ([], True))
        self.assertEqual(cursor.skip, 0, "read again from the stamp's first record")
