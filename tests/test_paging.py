"""Where a read of changes goes next (``tools/paging.py``), without a server:
the page asked for holds the first unread record and those read just before."""

import datetime
from unittest.mock import patch

from odoo.tests import BaseCase, tagged

from ..tools import paging
from ..tools.paging import ChangesCursor, page_at

T0 = datetime.datetime(2026, 11, 24, 10)


def item(n, seconds):
    stamp = (T0 + datetime.timedelta(seconds=seconds)).isoformat() + "Z"
    return {"PaymentId": f"PAY-{n}", "LastModifiedDate": stamp}


@tagged("post_install", "-at_install")
class TestPaging(BaseCase):
    def test_the_page_holds_the_first_unread_record_and_those_before(self):
        for size in (1, 2, 3, 7, 100, 500):
            for skip in range(0, 1200, 7):
                with self.subTest(size=size, skip=skip):
                    page_size, number, offset = page_at(skip, size, 2)
                    self.assertEqual((number - 1) * page_size + offset, skip)
                    self.assertLess(offset, page_size)
                    self.assertGreaterEqual(offset, min(2, skip))
                    if page_size > size:  # only when no smaller size can do
                        self.assertTrue(
                            all(skip % z < min(2, skip) for z in range(size // 2 or 1, size + 1))
                        )

    def test_the_page_size_leaves_the_most_unread_records(self):
        self.assertEqual(page_at(0, 100, 2), (100, 1, 0))
        self.assertEqual(page_at(2, 100, 2), (100, 1, 2))
        self.assertEqual(page_at(100, 100, 2), (98, 2, 2))
        self.assertEqual(page_at(1, 1, 2), (2, 1, 1))

    def test_a_read_goes_on_by_position(self):
        cursor = ChangesCursor(T0, T0 + datetime.timedelta(days=1))
        page = [item(n, 5) for n in range(6)]
        cursor.take(page, 1, 0)
        self.assertEqual((cursor.since, cursor.skip), (T0, 6))
        size, number, offset = cursor.page(3)
        self.assertEqual((size, number, offset), (4, 2, 2), "records 4 and 5 again, then unread")
        moved_page = [item(5, 5), item(6, 5), item(7, 5)]  # not the records read last
        fresh, moved = cursor.take(moved_page, number, offset)
        self.assertEqual((fresh, moved), ([], True))
        self.assertEqual(cursor.skip, 0, "read again from the stamp's first record")

    @patch.object(paging, "JUMP_AFTER_RECORDS", 0)
    def test_the_stamp_moves_to_a_pages_lowest_past_its_records_only(self):
        cursor = ChangesCursor(T0, T0 + datetime.timedelta(days=1))
        page = [item(1, 1), item(2, 2), item(9, 900)]  # PAY-9 changed while the page was built
        fresh, moved = cursor.take(page, 1, 0)
        self.assertEqual((fresh, moved), (page, False))
        self.assertEqual((cursor.since, cursor.skip), (T0 + datetime.timedelta(seconds=1), 1))

    @patch.object(paging, "JUMP_AFTER_RECORDS", 0)
    def test_the_stamp_never_moves_past_a_record_read_just_before(self):
        cursor = ChangesCursor(T0, T0 + datetime.timedelta(days=1))
        cursor.take([item(1, 5), item(2, 5)], 1, 0)  # from T0 + 5 s, both read
        self.assertEqual(cursor.since, T0 + datetime.timedelta(seconds=5))
        size, number, offset = cursor.page(2)
        cursor.take([item(1, 5), item(2, 5), item(3, 5), item(4, 6)][:size], number, offset)
        self.assertEqual(
            cursor.since, T0 + datetime.timedelta(seconds=5), "same stamp: by position"
        )
