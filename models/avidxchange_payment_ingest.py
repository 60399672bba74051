import json
from datetime import datetime, timedelta, timezone

from odoo import api, models
from odoo.tools import split_every

from .. import const
from ..tools.locks import lock_available
from ..tools.paging import stamp_of
from ..tools.payload import fingerprint
from ..tools.payment_report import payment_id_of
from ..tools.redaction import redact

WINDOW_OVERLAP = timedelta(minutes=const.PAYMENT_WINDOW_OVERLAP_MINUTES)


class AvidxchangePayment(models.Model):
    """How payments are read from AvidXchange: the payment stream's batch,
    the windows of changes and their mark, and the reports stored to apply.
    What a stored report then does is ``avidxchange_payment.py``'s business."""

    _inherit = "avidxchange.payment"

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """One slice of the payment import; returns ``(applied, still waiting)``.

        Reading and applying are apart. When no stored report waits, the next
        window of changes is read (``_ingest``): every report in it is stored,
        to apply, and the mark moves, in that one transaction. Then up to
        ``batch_size`` waiting reports are applied, oldest payment first (a
        void of an earlier payment before its re-issue).
        Registering a payment is costly (Odoo reconciles it), so a large
        window is applied in slices, one transaction each (the cron commits in
        between), without reading it again: a crash loses at most one slice,
        and what was applied is never applied twice. A report another
        transaction is applying right now is left to it.
        """
        waiting = [("backend_id", "=", stream.backend_id.id), ("to_apply", "=", True)]
        backlog = False
        if not self.search_count(waiting, limit=1):
            backlog = self._ingest(stream)
        payments = lock_available(self.search(waiting, limit=batch_size, order="id"))
        payments._apply_reports()
        self._fetch_wanted_proofs(stream.backend_id)
        return len(payments), self.search_count(waiting) + int(backlog)

    @api.model
    def _ingest(self, stream):
        """Read AvidXchange's changes after the mark, store every payment
        report to apply, bring the bills' approval statuses up to date, and
        move the mark; returns whether more windows wait to be read.

        The mark is AvidXchange's own clock, never ours: the last
        ``LastModifiedDate`` read, or the end of a window that is past on any
        clock. A window spans ``MAX_WINDOW_DAYS`` at most: a backlog is read
        window by window, empty past windows in one go, one holding reports
        at a time (its reports are applied before the next is read).
        """
        backend = stream.backend_id
        Link = self.env["avidxchange.invoice.link"]
        skew = timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
        with backend._get_client() as client, client.recording("payment", stream):
            for _window in range(const.MAX_WINDOWS_PER_READ):
                since = self._window_start(stream)
                until = since + timedelta(days=const.MAX_WINDOW_DAYS)
                # Page by page, the cache emptied after each: memory stays
                # flat however large the window.
                for invoices in split_every(backend.page_size, client.iter_invoices(since, until)):
                    Link._refresh_statuses(backend, invoices)
                    self.env.invalidate_all(flush=True)
                # Payments' own stamps, within the window read: an invoice's
                # stamp says nothing of payments, and a stamp outside the
                # window (a date in 2099) must not carry the mark past
                # payments still to come.
                latest = min(until, self._utc_now() + skew)
                stamps, read = [], 0
                for items in split_every(backend.page_size, client.iter_payments(since, until)):
                    self._store_reports(backend, items)
                    self.env.invalidate_all(flush=True)
                    stamps += [s for s in map(stamp_of, items) if s and since <= s <= latest]
                    read += len(items)
                over = until < self._utc_now() - skew
                if over:
                    stamps.append(until)  # past on AvidXchange's clock too: read to its end
                stream.mark = max([stream.mark, *stamps] if stream.mark else stamps, default=False)
                if not over or read:
                    return over
        return True

    @api.model
    def _window_start(self, stream):
        """Where the next read starts: a little before the mark; before the
        first mark, a clock's skew before the connection was made (its clock
        may be behind ours)."""
        if stream.mark:
            return stream.mark - WINDOW_OVERLAP
        return stream.backend_id.create_date - timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)

    @api.model
    def _utc_now(self):
        return datetime.now(timezone.utc).replace(tzinfo=None)

    @api.model
    def _store_reports(self, backend, items):
        """Keep each report that is new or changed on its payment, to apply; a
        report seen before (same fingerprint) is left alone.

        An item that cannot even be told apart (not an object, no PaymentId)
        cannot become a payment record: it is kept in the audit trail, once."""
        refs = [payment_id_of(item) for item in items]
        known = {
            payment.payment_ref: payment
            for payment in self.sudo().search(
                [("backend_id", "=", backend.id), ("payment_ref", "in", [r for r in refs if r])]
            )
        }
        for item, ref in zip(items, refs, strict=True):
            if ref is None:
                self.env["avidxchange.exchange.log"]._log_unusable_report(backend, item)
                continue
            digest = fingerprint(item)
            payment = known.get(ref)
            if payment and payment.report_hash == digest:
                continue  # the same report again
            if not payment:
                payment = known[ref] = self.sudo().create(
                    {"backend_id": backend.id, "payment_ref": ref}
                )
            text = _report_text(item)
            if len(text) > const.REPORT_MAX_CHARS:
                payment.write(
                    {
                        "last_report": text[: const.REPORT_MAX_CHARS] + "\n…",
                        "report_hash": digest,
                        "to_apply": False,
                        "state": "error",
                        "error_message": self.env._(
                            "AvidXchange sent a report of %(size)s characters for this payment, "
                            "more than the %(limit)s kept: it was not applied. Look the payment "
                            "up in AvidXchange.",
                            size=len(text),
                            limit=const.REPORT_MAX_CHARS,
                        ),
                    }
                )
                continue
            payment.write({"last_report": text, "report_hash": digest, "to_apply": True})


def _report_text(item):
    """A report as kept on its record: bank details masked (the audit trail
    keeps the same)."""
    return json.dumps(redact(item), indent=1, sort_keys=True)
