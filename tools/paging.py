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

So a read is a :class:`ChangesCursor`: the stamp the next request reads from,
and how many records of that request were read already (``skip``: those of
that stamp, and what came after them on the last page). Each request is asked
for the page that holds the first unread record *and the one before it*, which
must be the record expected there: when it is not, the list moved under the
read (a record read before changed), and the read starts again from that
stamp, yielding only what it has not yielded yet. The stamp never jumps to the
largest one on a page: it moves to the smaller of the last two, so one record
shown with a newer stamp than its place cannot carry the read past the records
between. Every record is read, once, in a bounded number of requests whatever
the page size; one changed while it is read comes again, as it now is.

Plain Python, no ORM, no HTTP: the client (``avidxchange_client.py``) asks
the pages this cursor names.
"""

import json

from .payment_report import parse_stamp


def stamp_of(item):
    """An item's ``LastModifiedDate`` as a naive UTC datetime, or None."""
    return parse_stamp(item.get("LastModifiedDate")) if isinstance(item, dict) else None


def page_at(skip, size):
    """``(page size, page number, offset)`` of the page that holds position
    ``skip`` of a list, at ``offset`` on it, and position ``skip - 1`` just
    before it (``offset`` is then at least 1): the record read last is seen
    again, to check that the list did not move.

    The page size is the configured one, or a little smaller, whichever
    leaves the most unread records on the page; only where no smaller size
    can put both positions on one page (a page size of 1) is it larger, by
    as little as it takes.
    """
    if not skip:
        return size, 1, 0
    best = None
    for candidate in range(size, max(1, size // 2) - 1, -1):
        offset = skip % candidate
        if offset and (best is None or candidate - offset > best[0] - best[2]):
            best = (candidate, skip // candidate + 1, offset)
    if best is None:
        candidate = size + 1
        while not skip % candidate:
            candidate += 1
        best = (candidate, skip // candidate + 1, skip % candidate)
    return best


def _key(item):
    """What tells a record read before from one not read yet: its whole
    content (a record that changed is new again)."""
    return json.dumps(item, sort_keys=True, default=str)


class ChangesCursor:
    """Where one read of changes stands; see the module's docstring.

    :param since: the first stamp to read (naive UTC)
    :param until: the last stamp to read (naive UTC); a record stamped later
        (it changed while the read went on) never moves the read
    """

    def __init__(self, since, until):
        self.since = since
        self.until = until
        self.skip = 0  # records of the request from ``since`` read already
        self._expected = None  # the record at position ``skip - 1`` of it
        self._seen = set()  # keys of what was yielded from ``since`` on

    def page(self, size):
        """``(page size, page number, offset)`` to ask for next."""
        return page_at(self.skip, size)

    def take(self, items, size, number, offset):
        """The records of a page answered for ``page(...)`` that were not
        yielded yet, in order; then move on past them.

        Returns ``(fresh, moved)``: ``moved`` when the list moved under the
        read and the page was not the one expected; the read then starts
        again from its stamp, and ``fresh`` holds what this page still gave
        when it was the first page of that stamp."""
        if offset and (len(items) < offset or items[offset - 1] != self._expected):
            self.skip, self._expected = 0, None
            if number != 1:
                return [], True
            offset = 0
        fresh = [item for item in items[offset:] if _key(item) not in self._seen]
        self._advance(items, (number - 1) * size)
        return fresh, False

    def _advance(self, items, start):
        """Move past a page whose first record is at position ``start``."""
        if not items:
            return
        stamped = [
            (index, stamp)
            for index, stamp in enumerate(map(stamp_of, items))
            if stamp is not None and self.since <= stamp <= self.until
        ]
        boundary = min((stamp for _index, stamp in stamped[-2:]), default=None)
        if boundary is not None and boundary > self.since:
            first = next(index for index, stamp in stamped if stamp == boundary)
            self.since, self.skip = boundary, len(items) - first
            self._seen = set(map(_key, items[first:]))
        else:
            # Nothing later to read from (a page of one stamp, or of none):
            # go on by position, past this page.
            self.skip = start + len(items)
            self._seen.update(map(_key, items))
        self._expected = items[-1]
