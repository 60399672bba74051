import json
import logging

from odoo import api, fields, models
from odoo.tools import split_every

from .. import const
from ..tools.captured_invoice import invoice_id_of
from ..tools.exceptions import AvidXchangeError, InvalidResponseError, PermanentError
from ..tools.locks import create_unless_taken, lock_available
from ..tools.payment_report import parse_stamp, report_text

_logger = logging.getLogger(__name__)


class AvidxchangeCapturedBatch(models.Model):
    """A batch of invoices AvidXchange closed for Odoo to import, and how far
    its import is.

    A batch is listed by the day it closed (``_store_listed``); its invoices
    are read and kept, each on its ``avidxchange.captured.invoice``
    (``_read_invoices``); once every one of them is a bill or needs a
    person's attention, AvidXchange is told the batch is imported
    (``_mark_imported``). Telling it may fail: that is tried again on the
    next run, and never a reason to import the batch again. A batch closed
    again later (a later ``DateClosed``) is read again: what was added,
    changed or removed is then applied to its bills.
    """

    _name = "avidxchange.captured.batch"
    _inherit = ["avidxchange.connection.mixin"]
    _description = "AvidXchange Closed Batch"
    _order = "date_closed desc, id desc"

    batch_guid = fields.Char(string="AvidXchange Batch", required=True, readonly=True)
    name = fields.Char(readonly=True)
    date_closed = fields.Datetime(
        string="Closed", readonly=True, help="When AvidXchange last closed the batch."
    )
    read_closed = fields.Datetime(
        string="Invoices Read For",
        readonly=True,
        copy=False,
        help="The closing whose invoices were read: a later one is read again.",
    )
    invoice_count = fields.Integer(string="Invoices in AvidXchange", readonly=True)
    total = fields.Float(string="Total in AvidXchange", readonly=True)
    currency_code = fields.Char(string="Currency", readonly=True)
    last_report = fields.Text(readonly=True, help="The batch as AvidXchange last listed it.")
    state = fields.Selection(
        [
            ("to_read", "To read"),
            ("importing", "Importing"),
            ("done", "Imported"),
            ("error", "Cannot be read"),
        ],
        default="to_read",
        required=True,
        readonly=True,
        index=True,
    )
    error_message = fields.Text(readonly=True)
    started_at = fields.Datetime(
        string="Import Started",
        readonly=True,
        copy=False,
        help="Told to AvidXchange with the mark.",
    )
    marked_at = fields.Datetime(string="Marked Imported", readonly=True, copy=False)
    invoice_ids = fields.One2many(
        "avidxchange.captured.invoice", "batch_id", string="Invoices", readonly=True
    )

    _backend_guid_uniq = models.Constraint(
        "UNIQUE(backend_id, batch_guid)", "A batch is imported once per connection."
    )

    # === ACTION METHODS === #

    def action_read_again(self):
        """Read a batch in error again with the next run."""
        self.backend_id._check_admin_access()
        self.filtered(lambda b: b.state == "error").sudo().write({"state": "to_read"})

    # === BUSINESS METHODS === #

    @api.model
    def _store_listed(self, backend, items):
        """Keep the batches of a list of closed batches: a new one, or one
        closed again since its invoices were read, is to read. An item that
        is no batch (no BatchGUID, no DateClosed) is left out, and said."""
        listed = {}
        for item in items:
            guid = item.get(const.BATCH_GUID_KEY) if isinstance(item, dict) else None
            closed = parse_stamp(item.get(const.BATCH_DATE_CLOSED_KEY)) if guid else None
            if not isinstance(guid, str) or not guid.strip() or closed is None:
                _logger.warning(
                    "AvidXchange listed a closed batch without a BatchGUID or a DateClosed "
                    "for connection %s: left out.",
                    backend.display_name,
                )
                continue
            listed[guid.strip()] = (item, closed)
        known = {
            batch.batch_guid: batch
            for batch in self.sudo().search(
                [("backend_id", "=", backend.id), ("batch_guid", "in", list(listed))]
            )
        }
        create_unless_taken(
            self.sudo(),
            [
                {"backend_id": backend.id, "batch_guid": guid, **self._listed_values(item, closed)}
                for guid, (item, closed) in listed.items()
                if guid not in known
            ],
        )
        for guid, batch in known.items():
            item, closed = listed[guid]
            if batch.read_closed and closed <= batch.read_closed:
                continue  # as read: nothing new
            lock_available(batch).write({**self._listed_values(item, closed), "state": "to_read"})

    @api.model
    def _listed_values(self, item, closed):
        total = item.get("BatchTotal")
        return {
            "name": _text(item.get("BatchName"), 200),
            "date_closed": closed,
            "invoice_count": item.get("InvoiceCount")
            if isinstance(item.get("InvoiceCount"), int)
            else 0,
            "total": total if isinstance(total, int | float) and not isinstance(total, bool) else 0,
            "currency_code": _text(item.get(const.INVOICE_CURRENCY_KEY), 3),
            "last_report": report_text(item),
        }

    def _read_invoices(self, client):
        """Read the invoices of these batches (to read) and keep each on its
        record, to apply; an invoice no longer in a batch closed again is to
        remove. A batch AvidXchange answers wrongly for is in error (its
        *Read Again* tries again); the others go on. A failure of the
        connection (a timeout, the credentials) fails the run."""
        Invoice = self.env["avidxchange.captured.invoice"]
        for batch in lock_available(self.filtered(lambda b: b.state == "to_read")):
            try:
                with self.env.cr.savepoint():
                    seen, unusable = set(), 0
                    pages = client.iter_batch_invoices(json.loads(batch.last_report))
                    for page in split_every(batch.backend_id.page_size, pages):
                        seen |= Invoice._store_batch_invoices(batch, page)
                        unusable += sum(1 for item in page if invoice_id_of(item) is None)
                    gone = batch.invoice_ids.filtered(
                        lambda invoice, seen=seen: (
                            invoice.invoice_ref not in seen and not invoice.removed
                        )
                    )
                    gone._set_removed()
                    batch.write(
                        {
                            # never told imported while an invoice of it is nowhere
                            "state": "error" if unusable else "importing",
                            "read_closed": batch.date_closed,
                            "started_at": batch.started_at or fields.Datetime.now(),
                            "marked_at": False,
                            "error_message": unusable
                            and self.env._(
                                "%s invoice(s) of the batch have no Id: they cannot become "
                                "bills (the audit trail keeps them). Have AvidXchange correct "
                                "the batch, then Read Again.",
                                unusable,
                            ),
                        }
                    )
            except (InvalidResponseError, PermanentError) as error:
                # this batch's answer, not the connection: the others go on
                batch.write({"state": "error", "error_message": batch.backend_id._explain(error)})

    def _mark_imported(self, client):
        """Tell AvidXchange that these batches (importing) are imported, each
        once every one of its invoices is a bill or needs attention. A mark
        that fails is tried again on the next run."""
        for batch in lock_available(self.filtered(lambda b: b.state == "importing")):
            if batch.invoice_ids.filtered("to_apply"):
                continue
            now = fields.Datetime.now()
            try:
                client.mark_batch_imported(batch.batch_guid, batch.started_at or now, now)
            except AvidXchangeError as error:  # even a timeout: the mark alone is tried again
                batch.error_message = self.env._(
                    "Imported, but AvidXchange could not be told (tried again on the next run): %s",
                    batch.backend_id._explain(error),
                )
                continue
            batch.write({"state": "done", "marked_at": now, "error_message": False})


def _text(value, size):
    return value.strip()[:size] or False if isinstance(value, str) else False
