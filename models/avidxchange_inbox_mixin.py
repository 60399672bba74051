from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.tools import split_every

from .. import const
from ..tools import payment_plan
from ..tools.locks import lock_available
from ..tools.payload import fingerprint
from ..tools.payment_report import capped_text, report_text


class AvidxchangeInboxMixin(models.AbstractModel):
    """Reports AvidXchange sends in (payments now, captured invoices next):
    read a window of changes from the stream's mark, store each report as it
    came (redacted, capped) in the same transaction as the mark, then apply
    the stored reports in slices, one transaction and one savepoint each.

    A model that inherits it has ``backend_id``, its ``_inbox_ref_field``
    and the ``_set_error`` of its states, and implements the ``_inbox_*``
    hooks and ``_apply_reports_in_order`` (what a slice of its stored reports
    does, undo included: from what is live in Odoo). The fields of a stored
    report are this mixin's."""

    _name = "avidxchange.inbox.mixin"
    _inherit = ["avidxchange.stream.handler"]
    _description = "AvidXchange Inbound Reports"

    # The field of a report's own id (the trail's operation is the kind).
    _inbox_ref_field = None

    last_report = fields.Text(
        readonly=True, help="The last report, as AvidXchange sent it (secrets masked)."
    )
    report_hash = fields.Char(readonly=True, copy=False)
    to_apply = fields.Boolean(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Its last report waits to be applied.",
    )
    error_message = fields.Text(readonly=True)

    # === STREAM HOOKS === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """One slice of the import; returns ``(applied, still waiting)``.

        Reading and applying are apart. When no stored report waits, the next
        window of changes is read (``_ingest``): every report in it is stored,
        to apply, and the mark moves, in that one transaction. Then up to
        ``batch_size`` waiting reports are applied, oldest record first (a
        void of an earlier payment before its re-issue).
        Applying may be costly (registering a payment, Odoo reconciles it),
        so a large window is applied in slices, one transaction each (the
        cron commits in between), without reading it again: a crash loses at
        most one slice, and what was applied is never applied twice. A report
        another transaction is applying right now is left to it.
        """
        waiting = [("backend_id", "=", stream.backend_id.id), ("to_apply", "=", True)]
        backlog = False
        if not self.search_count(waiting, limit=1):
            backlog = self._ingest(stream)
        records = lock_available(self.search(waiting, limit=batch_size, order="id"))
        records._apply_reports()
        self._commit_applied(stream)
        self._inbox_after_batch(stream.backend_id)
        return len(records), self.search_count(waiting) + int(backlog)

    @api.model
    def _commit_applied(self, stream):
        """In a scheduled run, commit the slice just applied before calling
        AvidXchange again for what goes with it (proofs of payment, images,
        batches told imported). The slice posted bills and payments: until
        it commits, it holds their journals' sequence numbers and the bills
        it paid, so a person posting a bill or registering a payment would
        wait on AvidXchange's answers. What comes next reads its own state
        (``proof_wanted``, ``image_wanted``, batches being imported): a crash
        in between leaves it to the next run. Committed as the reservations
        of a send are (``avidxchange.link.mixin``)."""
        self.env["avidxchange.link.mixin"]._avidxchange_commit(stream)

    @api.model
    def _avidxchange_waiting_count(self, backend):
        """How many of ``backend``'s reports wait to be applied."""
        return self.search_count([("backend_id", "=", backend.id), ("to_apply", "=", True)])

    @api.model
    def _avidxchange_requeue_failed(self, backend):
        """Nothing to queue: a report in error is retried from its own record,
        and it comes again whenever AvidXchange changes it."""

    # === BUSINESS METHODS - READ THE REPORTS === #

    @api.model
    def _ingest(self, stream):
        """Read AvidXchange's changes after the mark, store every report to
        apply (``_inbox_before_window`` reads what goes with them), and move
        the mark; returns whether more windows wait to be read.

        The mark is AvidXchange's own clock, never ours: the last
        ``LastModifiedDate`` read, or the end of a window that is past on any
        clock. A window spans ``MAX_WINDOW_DAYS`` at most: a backlog is read
        window by window, empty past windows in one go, one holding reports
        at a time (its reports are applied before the next is read).
        """
        backend = stream.backend_id
        with backend._get_client() as client, client.recording(self._avidxchange_kind.name, stream):
            for _window in range(const.MAX_WINDOWS_PER_READ):
                since = payment_plan.window_start(stream.mark, backend.create_date)
                until = payment_plan.window_end(since)
                self._inbox_before_window(backend, client, since, until)
                # The reports' own stamps, within the window read: a stamp
                # outside it (a date in 2099) must not carry the mark past
                # reports still to come.
                latest = min(until, self._utc_now() + payment_plan.CLOCK_SKEW)
                stamps, read = [], 0
                # Page by page, the cache emptied after each: memory stays
                # flat however large the window.
                pages = split_every(backend.page_size, self._inbox_read(client, since, until))
                for items in pages:
                    self._store_reports(backend, items)
                    self.env.invalidate_all(flush=True)
                    stamps += payment_plan.stamps_within(items, since, latest)
                    read += len(items)
                over = payment_plan.is_past(until, self._utc_now())
                if over:
                    stamps.append(until)  # past on AvidXchange's clock too: read to its end
                stream.mark = payment_plan.next_mark(stream.mark, stamps)
                if not over or read:
                    return over
        return True

    @api.model
    def _store_reports(self, backend, items):
        """Keep each report that is new or changed on its record, to apply; a
        report seen before (same fingerprint) is left alone.

        An item that cannot even be told apart (not an object, no id) cannot
        become a record: it is kept in the audit trail, once."""
        refs = [self._inbox_ref_of(item) for item in items]
        field = self._inbox_ref_field
        known = {
            record[field]: record
            for record in self.sudo().search(
                [("backend_id", "=", backend.id), (field, "in", [r for r in refs if r])]
            )
        }
        # the records of the page's new reports, in one create
        new_refs = [ref for ref in dict.fromkeys(refs) if ref is not None and ref not in known]
        if new_refs:
            created = self.sudo().create(
                [{"backend_id": backend.id, field: ref} for ref in new_refs]
            )
            known.update(zip(new_refs, created, strict=True))
        for item, ref in zip(items, refs, strict=True):
            if ref is None:
                self._inbox_unusable(backend, item)
                continue
            digest = fingerprint(item)
            record = known[ref]
            if record.report_hash == digest:
                continue  # the same report again
            text = report_text(item)
            if len(text) <= const.REPORT_MAX_CHARS:
                record.write({"last_report": text, "report_hash": digest, "to_apply": True})
                continue
            record._set_error(
                self._inbox_too_large(len(text)),
                last_report=capped_text(text),
                report_hash=digest,
                to_apply=False,
            )

    # === BUSINESS METHODS - APPLY THE REPORTS === #

    def _apply_reports(self):
        """Apply the stored reports (``last_report``) of these records: a
        slice of the import, in one savepoint. What no report can be blamed
        for (the sync's user lacks a right, a conflict with another
        transaction) undoes the whole slice: its reports stay waiting, to
        apply on the next run."""
        with self.env.cr.savepoint():
            self._apply_reports_in_order()

    def _apply_reports_in_order(self):
        raise NotImplementedError

    # === HOOKS === #

    def _inbox_read(self, client, since, until):
        """The reports AvidXchange changed between ``since`` and ``until``."""
        raise NotImplementedError

    def _inbox_ref_of(self, item):
        """A report's own id, or None when it cannot be told apart."""
        raise NotImplementedError

    def _inbox_before_window(self, backend, client, since, until):
        """What is read before a window's reports (nothing by default)."""

    def _inbox_after_batch(self, backend):
        """What a batch does once its slice is applied (nothing by default)."""

    def _inbox_unusable(self, backend, item):
        """Keep an item that cannot become a record in the audit trail."""
        raise NotImplementedError

    def _inbox_too_large(self, size):
        """Why a report of ``size`` characters was not applied, in words."""
        raise NotImplementedError

    # === PRIVATE HELPERS === #

    @api.model
    def _utc_now(self):
        return datetime.now(timezone.utc).replace(tzinfo=None)
