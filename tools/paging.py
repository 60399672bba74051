"""Where a read of AvidXchange's changes goes next, page after page.

A list of changes (``GET /payments``, ``GET /invoices``, any other) is paged
over records ordered by ``LastModifiedDate``, and the contract warns of three
things a client must survive:

- stamps are not unique: a payment run stamps hundreds of records in one
  second, more than a page holds;
- a record that changes while a client pages moves to the end of the list,
  so the pages after it start one record later;
- a record that changes while AvidXchange builds a page shows its new, latest
  stamp in its old place on that page.

So a read is a :class:`ChangesCursor`: the stamp its request reads from, and
how many records of that request were read already (``skip``). Each request
asks for the page that holds the first unread record *and the one before
it*, which must be the record read last: when it is not, the list moved
under the read (a record read before changed), and the read starts again
from its stamp, yielding only what it has not yielded yet.

The read goes on by position, which is safe however the stamps repeat: a
record that changes only leaves its place for the end of the list, so the
record read last is found one place earlier, and the check says so. Every so
many records (``JUMP_AFTER_RECORDS``), so that starting again stays cheap,
the stamp moves on, only where nothing unread can lie below it: to the
smallest stamp among the fresh records of a page that held at least two of
them, when the record read just before them is older still, and past the
records of that very stamp only. A record shown with a newer stamp than its
place (it changed while the page was built) never carries the read past the
records between. Every record is read, once when nothing changes, in a
bounded number of requests whatever the page size; one changed while it is
read comes again, as it now is.

Plain Python, no ORM, no HTTP: the client (``avidxchange_client.py``) asks
the pages this cursor names.
"""

import hashlib
import json

from .payment_report import parse_stamp

# Restarts in a row with nothing new read: the pages never hold still (or
# the server ignores what is asked): the read stops with an error.
MAX_RESTARTS_WITHOUT_NEWS = 5
# The records read last that the next page must show again, in place: one
# could have moved and come back to the same place, two hardly.
OVERLAP = 2
# Records read by position before the stamp may move on (see the docstring).
JUMP_AFTER_RECORDS = 1000


class PagingError(Exception):
    """The server's pages cannot be read to their end (the client says it
    as an invalid answer)."""


def stamp_of(item):
    """An item's ``LastModifiedDate`` as a naive UTC datetime, or None."""
    return parse_stamp(item.get("LastModifiedDate")) if isinstance(item, dict) else None


def page_at(skip, size, overlap=1):
    """``(page size, page number, offset)`` of the page that holds position
    ``skip`` of a list, at ``offset`` on it, and the ``overlap`` positions
    just before it (``offset`` is then at least that, or ``skip``): the
    records read last are seen again, to check that the list did not move.

    The page size is the configured one, or a little smaller, whichever
    leaves the most unread records on the page; only where no smaller size
    can put them all on one page (a page size of 1 or 2) is it larger, by
    as little as it takes.
    """
    need = min(overlap, skip)
    if not need:
        return size, 1, 0
    best = None
    for candidate in range(size, max(1, size // 2) - 1, -1):
        offset = skip % candidate
        if offset >= need and (best is None or candidate - offset > best[0] - best[2]):
            best = (candidate, skip // candidate + 1, offset)
    if best is None:
        candidate = size + 1
        while skip % candidate < need:
            candidate += 1
        best = (candidate, skip // candidate + 1, skip % candidate)
    return best


def _key(item):
    """What tells a record read before from one not read yet: a digest of its
    whole content (a record that changed is new again)."""
    return hashlib.sha1(json.dumps(item, sort_keys=True, default=str).encode()).digest()


class ChangesCursor:
    """Where one read of changes stands; see the module's docstring.

    :param since: the first stamp to read (naive UTC)
    :param until: the last stamp to read (naive UTC); a record stamped later
        never moves the read
    """

    def __init__(self, since, until):
        self.since = since
        self.until = until
        self.skip = 0  # records of the request from ``since`` read already
        self._expected = []  # the records just before position ``skip`` of it
        self._last_stamp = None  # the stamp that record shows
        self._seen = set()  # digests of what was yielded from ``since`` on
        self._restarts = 0  # in a row, with nothing new read
        self._since_jump = 0  # records passed since the stamp last moved

    def page(self, size, fixed=False):
        """``(page size, page number, offset)`` to ask for next; ``fixed``:
        the server answers pages of ``size`` whatever is asked, so the record
        read last is checked only where it falls on the same page."""
        if fixed:
            return size, self.skip // size + 1, self.skip % size
        return page_at(self.skip, size, OVERLAP)

    def take(self, items, number, offset):
        """The records of a page answered for ``page(...)`` that were not
        yielded yet, in order; then move on past them.

        Returns ``(fresh, moved)``: ``moved`` when the list moved under the
        read and the page was not the one expected; the read then starts
        again from its stamp (and ``fresh`` holds what this page still gave,
        when it was the first page of that stamp)."""
        check = min(offset, len(self._expected))
        if offset and (
            len(items) < offset or items[offset - check : offset] != self._expected[-check:]
        ):
            self._restarts += 1
            if self._restarts > MAX_RESTARTS_WITHOUT_NEWS:
                raise PagingError(
                    "AvidXchange's list kept moving (or its pages are not the ones asked for): "
                    "stopped."
                )
            self.skip, self._expected, self._last_stamp = 0, [], None
            if number != 1:
                return [], True
            offset = 0
        page = items[offset:]
        fresh = [item for item in page if _key(item) not in self._seen]
        if fresh:
            self._restarts = 0
        self._advance(page)
        return fresh, False

    def _advance(self, page):
        """Move past the unread part of a page (``page``)."""
        if not page:
            return
        stamps = [stamp_of(item) for item in page]
        lowest = min((s for s in stamps if s is not None), default=None)
        self._since_jump += len(page)
        can_move = (
            self._since_jump >= JUMP_AFTER_RECORDS
            and len(page) >= 2
            and None not in stamps
            and lowest is not None
            and self.since < lowest <= self.until
            and (self._last_stamp is None or self._last_stamp < lowest)
        )
        if can_move:
            # Nothing unread lies below ``lowest``: read from it on, past the
            # records of that stamp only (they come first in that request;
            # the rest of this page comes again, and is recognised).
            run = [item for item, stamp in zip(page, stamps, strict=True) if stamp == lowest]
            self.since, self.skip, self._since_jump = lowest, len(run), 0
            self._seen = set(map(_key, page))
            self._expected, self._last_stamp = run[-OVERLAP:], lowest
            return
        self.skip += len(page)
        self._seen.update(map(_key, page))
        self._expected = (self._expected + page)[-OVERLAP:]
        self._last_stamp = stamps[-1]
