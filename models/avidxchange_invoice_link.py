from functools import partial
from typing import NamedTuple
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import format_amount, format_date, split_every
from odoo.tools.translate import LazyTranslate

from .. import const
from ..tools import bill_payload
from ..tools.exceptions import (
    AuthenticationError,
    AvidXchangeError,
    InvalidResponseError,
    PermanentError,
    RetryableError,
)
from ..tools.locks import create_unless_taken, lock_available
from ..tools.notify import notification
from ..tools.parallel import run_calls
from ..tools.redaction import storable
from ..tools.states import INVOICE_STATUSES
from ..tools.stream_kinds import StreamKind

_lt = LazyTranslate(__name__)

# The kind of record this file owns (see avidxchange.stream.handler).
BILLS = StreamKind("bill", _lt("Bills"), order=40, interval=30, batch=50, cron="export_bills")
# What goes to AvidXchange: vendor bills, and credit notes as credit memos.
BILL_TYPES = tuple(const.INVOICE_TYPES)
# Images read into memory at once, per request made at a time (_send_images).
IMAGES_A_WORKER = 4
# What the exchanges with AvidXchange write, and only they: never copied.
ANSWERED = {"readonly": True, "copy": False}


class AvidxchangeInvoiceLink(models.Model):
    """A vendor bill as AvidXchange knows it, and the bill stream.

    A bill is submitted once. Its ``external_invoice_id`` is its identity on
    both sides: if a crash loses the answer of a submission, the next cycle
    submits again, AvidXchange answers 409 with the invoice it already has,
    and the link adopts it; no bill is ever entered twice.

    Read in sections: the bill stream (what goes, when), sending a bill, the
    409 recovery, the approval status the payment import refreshes
    (``_refresh_statuses``), the scope and the holds, and the payload, built
    from plain values by ``tools/bill_payload.py``.
    """

    _name = "avidxchange.invoice.link"
    _description = "AvidXchange Bill Link"
    _inherit = ["avidxchange.link.mixin"]
    _rec_name = _avidxchange_record_field = "move_id"  # named after the record it links
    _avidxchange_kind = BILLS
    _avidxchange_external_id_field = "external_invoice_id"

    move_id = fields.Many2one(
        "account.move", string="Bill", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(related="move_id.partner_id", string="Vendor")
    external_invoice_id = fields.Char(string="External Invoice ID", required=True, **ANSWERED)
    avidxchange_id = fields.Char(string="AvidXchange ID", index=True, **ANSWERED)
    avidxchange_status = fields.Selection(INVOICE_STATUSES, string="Approval Status", **ANSWERED)
    # What AvidXchange was sent, to tell what changed since (see ``changes``).
    currency_id = fields.Many2one(related="move_id.currency_id")
    exported_amount = fields.Monetary(string="Amount Sent", **ANSWERED)
    exported_date = fields.Date(string="Bill Date Sent", **ANSWERED)
    exported_partner_id = fields.Many2one("res.partner", string="Vendor Sent", **ANSWERED)
    changes = fields.Char(
        string="Changed After Sending",
        help="What differs between the bill in Odoo and what AvidXchange was sent.",
        compute="_compute_changes",
        store=True,
    )
    maybe_received = fields.Boolean(
        help="Submitted, and the answer was lost or could not be read: AvidXchange may "
        "have the bill, so it is held, never dropped, until an answer says.",
        string="AvidXchange May Have It",
        **ANSWERED,
    )
    unconfirmed_attempts = fields.Integer(
        help="Submissions in a row whose answer could not be read (see _note_unconfirmed).",
        **ANSWERED,
    )
    invoice_url = fields.Char(
        string="AvidXchange URL", help="The invoice in AvidXchange's web application.", **ANSWERED
    )
    rejection_reason = fields.Text(
        help="Why AvidXchange's approver rejected (or voided) the invoice, in their words.",
        **ANSWERED,
    )
    image_avidxchange_id = fields.Char(
        string="Image Sent",
        help="AvidXchange's id of the bill's image (its main attachment), sent once.",
        **ANSWERED,
    )
    released = fields.Boolean(
        string="Released from Hold",
        help="An AvidXchange administrator released the bill, with a reason logged on it: "
        "Odoo may reset, cancel or pay it although AvidXchange still holds it.",
        **ANSWERED,
    )
    image_error = fields.Char(string="Image Not Sent", **ANSWERED)

    _backend_move_uniq = models.Constraint(
        "UNIQUE(backend_id, move_id)", "A bill is linked once per connection."
    )
    _backend_external_uniq = models.Constraint(
        "UNIQUE(backend_id, external_invoice_id)", "External invoice ids are unique."
    )

    # === COMPUTE METHODS === #

    @api.depends(
        "state",
        "exported_amount",
        "exported_date",
        "exported_partner_id",
        "move_id.state",
        "move_id.amount_total",
        "move_id.invoice_date",
        "move_id.commercial_partner_id",
    )
    def _compute_changes(self):
        for link in self:
            move = link.move_id
            if link.state != "synced" or not link.exported_partner_id:
                link.changes = False
                continue
            changes = []
            if move.state != "posted":
                changes.append(
                    self.env._("reset to draft")
                    if move.state == "draft"
                    else self.env._("cancelled")
                )
            currency = move.currency_id
            if currency.compare_amounts(move.amount_total, link.exported_amount):
                changes.append(
                    self.env._(
                        "amount %(sent)s → %(now)s",
                        sent=format_amount(self.env, link.exported_amount, currency),
                        now=format_amount(self.env, move.amount_total, currency),
                    )
                )
            if move.invoice_date != link.exported_date:
                changes.append(
                    self.env._(
                        "date %(sent)s → %(now)s",
                        sent=format_date(self.env, link.exported_date),
                        now=format_date(self.env, move.invoice_date) or "-",
                    )
                )
            if move.commercial_partner_id != link.exported_partner_id:
                changes.append(
                    self.env._(
                        "vendor %(sent)s → %(now)s",
                        sent=link.exported_partner_id.display_name,
                        now=move.commercial_partner_id.display_name,
                    )
                )
            link.changes = "; ".join(changes) or False

    # === ACTION METHODS === #

    def action_open_in_avidxchange(self):
        """The invoice in AvidXchange's web application (asked for once), for
        AvidXchange users: its address is read with the connection's client."""
        self.ensure_one()
        self.check_access("read")  # AvidXchange users only
        link = self.sudo()
        if not link.invoice_url and link.avidxchange_id:
            backend = link.backend_id
            try:
                with backend._get_client() as client, client.recording("bill", self.move_id):
                    found = link._keep_invoice_url(client.get_invoice(link.avidxchange_id))
            except (AvidXchangeError, UserError) as error:
                raise UserError(backend._explain(error)) from None
            if not found:
                raise UserError(
                    self.env._(
                        "AvidXchange gave no usable address for invoice %s.", link.avidxchange_id
                    )
                )
        if not link.invoice_url:
            raise UserError(self.env._("This bill is not in AvidXchange."))
        return {"type": "ir.actions.act_url", "url": link.invoice_url, "target": "new"}

    # === BUSINESS METHODS: THE BILL STREAM === #

    @api.model
    def _avidxchange_stream_batch(self, stream, batch_size):
        """Queue the in-scope bills written since the mark, then submit up to
        ``batch_size`` waiting ones; returns ``(submitted, still waiting)``."""
        self._queue_changed_bills(stream)
        return self._avidxchange_send_waiting(stream.backend_id, batch_size, stream)

    @api.model
    def _queue_changed_bills(self, stream):
        """Link the in-scope bills written since the mark; a bill already
        exported is never queued again, one in error is when it changed since."""
        backend = stream.backend_id
        now = self._avidxchange_mark_moment()
        mark = False if stream._take_rescan() else stream.mark
        companies = backend._scope_companies()  # once for the domain and the rules
        domain = self._avidxchange_written_since(
            self._scope_domain(backend, companies=companies), mark
        )
        bills = backend._in_scope("account.move", companies).search(domain)
        Link = self.sudo()
        links = Link.search([("backend_id", "=", backend.id), ("move_id", "in", bills.ids)])
        # Changed since its failed attempt: written after the link was. Both
        # stamps are the writing transactions' starts (ours writes the bill's
        # stored state too, with the very same stamp).
        failed = links.filtered(lambda link: link.state == "error")
        changed = failed.filtered(lambda link: link.move_id.write_date > link.write_date)
        lock_available(changed).state = "pending"
        new_bills = bills - links.move_id
        if new_bills:
            Link.create([{"backend_id": backend.id, "move_id": bill.id} for bill in new_bills])
        stream.mark = now

    @api.model
    def _link_in_scope(self, moves):
        """Link those of ``moves`` (posted vendor bills and credit notes) that
        an active connection sends; returns the links of ``moves``, old and
        new. Linked when posted, a bill shows as waiting at once."""
        Link = self.sudo()
        Backend = self.env["avidxchange.backend"]
        for company, company_moves in moves.grouped("company_id").items():
            backend = Backend._covering(company)
            if backend.state != "active":
                continue
            in_scope = company_moves.with_company(backend.company_id).filtered_domain(
                self._scope_domain(backend)
            )
            linked = Link.search([("backend_id", "=", backend.id), ("move_id", "in", in_scope.ids)])
            create_unless_taken(
                Link,
                [
                    {"backend_id": backend.id, "move_id": move.id}
                    for move in in_scope - linked.move_id
                ],
            )
        return Link.search([("move_id", "in", moves.ids)])

    @api.model
    def _send_bills(self, moves):
        """Send ``moves`` now (a user's *Send*), and say how it went in a
        notification: how many went, were there already, failed, or are not
        in scope, with the first reason of each."""
        links = self._link_in_scope(moves)
        already = links.filtered(lambda link: link.state == "synced")
        inactive = (links - already).filtered(lambda link: link.backend_id.state != "active")
        busy = (links - already - inactive)._avidxchange_being_sent()
        to_send = links - already - inactive - busy
        stopped = []
        for backend, group in to_send.grouped("backend_id").items():
            # the sync's own user sends, as the scheduled run would
            user = backend._sync_user()
            group = group.with_user(user).with_company(backend.company_id)
            locked = lock_available(group)
            busy |= group - locked  # another transaction is changing it
            if not locked:
                continue
            try:
                locked._avidxchange_send_at_request()
            except (AvidXchangeError, UserError) as error:
                stopped.append(backend._explain(error))
        # a bill that left the scope since it was posted lost its link: out of scope
        links, to_send = links.exists(), (to_send - busy).exists()
        to_send.invalidate_recordset()
        outside = moves - links.move_id
        sent = to_send.filtered(lambda link: link.state == "synced")
        failed = to_send - sent
        lines = []
        if sent:
            lines.append(self.env._("%s sent to AvidXchange.", len(sent)))
        if already:
            lines.append(self.env._("%s already in AvidXchange.", len(already)))
        if busy:
            lines.append(self.env._("%s being sent to AvidXchange right now.", len(busy)))
        if failed:
            reason = stopped[0] if stopped else failed[0].error_message or "-"
            lines.append(
                self.env._("%(count)s not sent: %(reason)s", count=len(failed), reason=reason)
            )
        if inactive:
            lines.append(
                self.env._("%s not sent: the AvidXchange connection is not active.", len(inactive))
            )
        if outside:
            _code, reason = self._scope_refusal(outside[0])
            lines.append(
                self.env._("%(count)s not in scope: %(reason)s", count=len(outside), reason=reason)
            )
        kind = "danger" if failed else "warning" if outside or inactive or busy else "success"
        return notification(self.env._("Send to AvidXchange"), "\n".join(lines), kind)

    def _avidxchange_to_resend(self):
        return self.filtered(lambda link: link.state != "synced")

    # === BUSINESS METHODS: SENDING A BILL === #

    def _avidxchange_send_with(self, client):
        """Submit each bill (its GL codes, vendor and purchase orders first);
        mark it exported or in error. Returns the bills left waiting: those
        whose vendor or GL codes another stream is sending right now.

        Errors that concern every bill alike (credentials, AvidXchange down)
        stop the batch and leave the rest pending for the next cycle.
        """
        backend = self.backend_id  # one connection's links: see _avidxchange_send
        # Linked when posted, a bill may have left the scope since (paid or
        # reset in Odoo, its vendor unmarked): it is dropped, not sent, unless
        # AvidXchange may have it (a lost answer): then it stays, held.
        scope = self.move_id.with_company(backend.company_id).filtered_domain(
            self._scope_domain(backend)
        )
        gone = self.filtered(lambda link: link.move_id not in scope and not link.maybe_received)
        gone.sudo().unlink()
        kept = self - gone
        # A reserved bill is refused a payment or a reset while it is sent
        # (``account.move._avidxchange_check_sending``). Sent at a user's
        # request, without a reservation, the bill is locked instead: a
        # payment registered meanwhile waits for the send, then meets the hold.
        reserved = kept._avidxchange_being_sent()
        free = reserved.move_id | lock_available((kept - reserved).move_id)
        busy = kept.filtered(lambda link: link.move_id not in free)
        return (kept - busy)._submit(client, backend) | busy

    def _avidxchange_reserve(self):
        """Reserve the bills no transaction is changing right now (a payment
        being registered on one: it goes with the next run). A reservation
        that timed out was left by a run that may have submitted the bill
        before it stopped: AvidXchange may have it (see ``_holds``) until
        the submission this run makes again says (a 409 for a bill it has)."""
        free = lock_available(self.move_id)
        links = self.filtered(lambda link: link.move_id in free)
        links.filtered("sending_since").maybe_received = True
        return super(AvidxchangeInvoiceLink, links)._avidxchange_reserve()

    def _submit(self, client, backend):
        """Submit these bills: their GL codes, vendors and orders first, one
        at a time; then the bills themselves and their images, several at a
        time (``backend.parallel_requests``, see tools/parallel.py), each
        outcome written in order once the requests are answered. Returns the
        bills left waiting."""
        moves = self.move_id
        # What the batch writes besides its bills is locked before the first
        # request: a lock refused later would roll back requests already made.
        vendor_links = lock_available(
            self.env["avidxchange.partner.link"]._link_vendors(backend, moves.partner_id)
        )
        vendor_by_partner = {vendor_link.partner_id: vendor_link for vendor_link in vendor_links}
        order_links = self.env["avidxchange.purchase.link"]._link_orders(
            backend, moves.invoice_line_ids.purchase_line_id.order_id
        )
        busy_accounts, busy_analytics = self._export_gl_codes(client)
        waiting = self.browse()
        prepared = []  # (link, payload)
        for link in self:
            move = link.move_id
            vendor_link = vendor_by_partner.get(move.partner_id.commercial_partner_id)
            if (
                not vendor_link
                or move.line_ids.account_id & busy_accounts
                or _analytic_accounts(move.line_ids) & busy_analytics
            ):
                waiting |= link
                continue
            try:
                vendor_code = link._ensure_vendor(vendor_link, client)
                orders = move.invoice_line_ids.purchase_line_id.order_id
                order_links.filtered(lambda o, orders=orders: o.order_id in orders)._export_changed(
                    client
                )
                prepared.append((link, link._avidxchange_payload(vendor_code)))
            except (AuthenticationError, RetryableError, AccessError) as error:
                link.error_message = str(error)
                raise  # nothing submitted yet: the batch waits for the next run
            except (UserError, AvidXchangeError) as error:
                waiting |= link._note_refusal(error)
        return waiting | self._submit_prepared(client, backend, prepared)

    def _submit_prepared(self, client, backend, prepared):
        """Submit the ``(link, payload)`` of ``prepared``, several at a time,
        and write each outcome in order; returns the links left waiting.
        An error that concerns every bill (credentials, AvidXchange down) is
        raised once every outcome is written."""
        outcomes = run_calls(
            client,
            [partial(_submit_call, payload, link.move_id) for link, payload in prepared],
            backend.parallel_requests,
        )
        waiting, fatal, sent = self.browse(), None, self.browse()
        # the bills whose submission was not made (AvidXchange unreachable) wait
        for (link, payload), (answer, error) in zip(prepared, outcomes, strict=False):
            if error is None:
                error = link._adopt_answer(client, payload, answer)
            if isinstance(error, AuthenticationError | RetryableError):
                # Sent, and no answer: AvidXchange may have it (see _holds).
                link.write(
                    {
                        "error_message": str(error),
                        "maybe_received": True,
                        "last_export_at": fields.Datetime.now(),
                    }
                )
                fatal = fatal or error
            elif error is not None:
                waiting |= link._note_refusal(error)
            else:
                sent |= link
        sent._send_images(client, backend.parallel_requests)
        if fatal is not None:
            raise fatal
        return waiting

    def _adopt_answer(self, client, payload, answer):
        """Write AvidXchange's answer to this bill's submission (a 409: the
        invoice it had already, once it is known to be this bill); returns
        the error that kept it from being written, or None."""
        answer, known = answer
        move = self.move_id
        try:
            if known:
                with client.recording("bill", move):
                    self._check_same_bill(client, answer[const.ANSWER_ID_KEY], payload)
        except (UserError, AvidXchangeError) as error:
            return error
        status = answer.get(const.ANSWER_STATUS_KEY)
        self._mark_synced(
            payload,
            avidxchange_id=answer[const.ANSWER_ID_KEY],
            avidxchange_status=status if status in const.INVOICE_STATUSES else False,
            exported_amount=move.amount_total,
            exported_date=move.invoice_date,
            exported_partner_id=move.commercial_partner_id.id,
            unconfirmed_attempts=0,
            maybe_received=False,
        )
        move._message_log(
            body=self.env._(
                "AvidXchange already had this bill: linked to its invoice %s.",
                answer[const.ANSWER_ID_KEY],
            )
            if known
            else self.env._("Submitted to AvidXchange as invoice %s.", answer[const.ANSWER_ID_KEY])
        )
        return None

    def _note_refusal(self, error):
        """This bill alone failed: a garbled answer (submitted again next
        time, see ``_note_unconfirmed``) or a refusal. Returns it when it
        still waits."""
        if isinstance(error, InvalidResponseError):
            self._note_unconfirmed(error)
            return self if self.state == "pending" else self.browse()
        self._mark_error(error)
        self.maybe_received = False  # refused: AvidXchange has not got it
        return self.browse()

    def _export_gl_codes(self, client):
        """The codes these bills use, their GL accounts and analytic accounts
        as enterprise codes, first. Returns the accounts and the analytic
        accounts the GL code stream holds right now.

        A refused code is no reason to hold the bills back: AvidXchange then
        refuses a bill whose code it lacks, with a reason on that bill.
        """
        lines = self.move_id.line_ids.filtered(lambda line: line.display_type in ("product", "tax"))
        AccountLink = self.env["avidxchange.account.link"]
        return AccountLink._export_accounts(
            self.backend_id, [lines.account_id, _analytic_accounts(lines)], client
        )

    def _ensure_vendor(self, vendor_link, client):
        """AvidXchange refuses a bill of an unknown vendor: export it first."""
        self.ensure_one()
        vendor_link._avidxchange_queue()
        if vendor_link.state == "pending":
            vendor_link._avidxchange_send_with(client)
        if vendor_link.state != "synced":
            raise UserError(
                self.env._("The vendor could not be sent: %s", vendor_link.error_message or "-")
            )
        return vendor_link.external_code

    def _send_images(self, client, workers):
        """These bills' images (their main attachments: the vendor's PDF or a
        scan) for AvidXchange's approvers, once, ``workers`` at a time (and
        ``IMAGES_A_WORKER`` times as many in memory). AvidXchange has the bills already: an image it
        cannot take is said on the link and the bill's chatter, and holds
        nothing back."""
        for chunk in split_every(max(1, workers) * IMAGES_A_WORKER, self.ids, self.browse):
            calls = {link: link._image_call() for link in chunk}
            calls = {link: call for link, call in calls.items() if call}
            outcomes = run_calls(client, list(calls.values()), workers)
            # AvidXchange unreachable: the images not sent say so, as that first one
            outcomes += outcomes[-1:] * (len(calls) - len(outcomes))
            for link, (image_id, error) in zip(calls, outcomes, strict=True):
                link._note_image(image_id, error)

    def _image_call(self):
        """The request that sends this bill's image, or None: it has none,
        it went already, or it is too large (said on the link)."""
        self.ensure_one()
        attachment = self.move_id.message_main_attachment_id
        if self.image_avidxchange_id or not attachment:
            return None
        if attachment.file_size > const.MAX_ATTACHMENT_BYTES:
            self._note_image(
                None,
                UserError(
                    self.env._(
                        "%(file)s is %(size)s MB; AvidXchange takes files of %(max)s MB at most.",
                        file=attachment.name,
                        size=round(attachment.file_size / 2**20, 1),
                        max=const.MAX_ATTACHMENT_BYTES // 2**20,
                    )
                ),
            )
            return None
        return partial(
            _upload_image,
            self.move_id,
            self.avidxchange_id,
            attachment.name,
            attachment.mimetype or "application/octet-stream",
            attachment.raw,
        )

    def _note_image(self, image_id, error):
        if error is None:
            self.write({"image_avidxchange_id": image_id, "image_error": False})
            return
        reason = error.args[0] if isinstance(error, UserError) else str(error)
        self.image_error = reason
        self.move_id._message_log(
            body=self.env._("The bill's image was not sent to AvidXchange: %s", reason)
        )

    def _note_unconfirmed(self, error):
        """AvidXchange answered, but not so that we can tell whether it has
        the bill: the next run submits again and its 409 says. After
        ``MAX_UNCONFIRMED_ATTEMPTS`` such answers the bill is in error, for a
        person to look the invoice up in AvidXchange (it stays held)."""
        attempts = self.unconfirmed_attempts + 1
        values = {
            "unconfirmed_attempts": attempts,
            "maybe_received": True,
            "last_export_at": fields.Datetime.now(),
        }
        if attempts < const.MAX_UNCONFIRMED_ATTEMPTS:
            values["error_message"] = self.env._(
                "AvidXchange's answer was garbled (%s). The next run submits the bill again; "
                "AvidXchange then says whether it already has it.",
                error,
            )
            self.write(values)
            return
        self.write(values)
        self._mark_error(
            UserError(
                self.env._(
                    "AvidXchange's answers about this bill could not be read %(count)s times "
                    "(%(error)s). Look up invoice %(external_id)s in AvidXchange before doing "
                    "anything in Odoo, then press Send now.",
                    count=attempts,
                    error=error,
                    external_id=self.external_invoice_id,
                )
            )
        )

    # === BUSINESS METHODS: 409, AVIDXCHANGE HAS IT ALREADY === #

    def _check_same_bill(self, client, invoice_id, payload):
        """AvidXchange answered 409: it has an invoice under this bill's
        ``ExternalInvoiceId``. Adopt it only when it is this bill (same id,
        amount and vendor); another database, or a bill renumbered since,
        must not be taken for it."""
        try:
            theirs = client.get_invoice(invoice_id)
        except (PermanentError, InvalidResponseError) as error:
            # AvidXchange has an invoice under this id: not an error of the bill's
            raise InvalidResponseError(
                self.env._(
                    "its invoice %(id)s could not be read: %(error)s", id=invoice_id, error=error
                )
            ) from None
        self._keep_invoice_url(theirs)
        if bill_payload.is_invoice_sent(theirs, payload):
            return
        amount, vendor, currency = bill_payload.held_invoice(theirs)
        raise UserError(
            self.env._(
                "AvidXchange already has an invoice under this bill's id %(external_id)s, "
                "and it is another bill: AvidXchange's invoice %(id)s is %(their_amount)s "
                "from vendor %(their_vendor)s; this bill is %(our_amount)s from vendor "
                "%(our_vendor)s. It was not adopted. Is another database sending to the "
                "same AvidXchange company?",
                external_id=payload["ExternalInvoiceId"],
                id=invoice_id,
                their_amount=f"{'?' if amount is None else amount} {currency or ''}",
                their_vendor=vendor or "?",
                our_amount=f"{payload['GrossAmount']} {payload['Currency']}",
                our_vendor=payload[const.INVOICE_VENDOR_KEY][const.INVOICE_VENDOR_CODE_KEY],
            )
        )

    def _keep_invoice_url(self, invoice):
        """Keep AvidXchange's ``InvoiceUrl``, an address the bill's form
        opens: only a web address (http or https, a host), never a script."""
        url = invoice.get(const.INVOICE_URL_KEY)
        if not isinstance(url, str) or len(url) > 2048:
            return False
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return False
        self.invoice_url = parts.geturl()
        return True

    # === BUSINESS METHODS: APPROVAL STATUS, READ BY THE PAYMENT IMPORT === #

    @api.model
    def _refresh_statuses(self, backend, invoices):
        """Bring the approval status of exported bills up to date (Approved,
        Rejected, Scheduled, Paid...) from AvidXchange's invoice list, so AP
        sees it on the bill.

        A rejection keeps the approver's reason, says it on the bill, and asks
        the responsible person to act on it (correct and resubmit in
        AvidXchange, or cancel or credit the bill in Odoo); that is done when
        the invoice is approved again or voided, or the bill cancelled."""
        reports = {
            invoice[const.ANSWER_ID_KEY]: invoice
            for invoice in invoices
            if isinstance(invoice, dict)
            and isinstance(invoice.get(const.ANSWER_ID_KEY), str)
            and invoice.get(const.ANSWER_STATUS_KEY) in const.INVOICE_STATUSES
        }
        links = self.sudo().search(
            [("backend_id", "=", backend.id), ("avidxchange_id", "in", list(reports))]
        )
        said = {}  # {bill id: what its chatter is told}, one link a bill and connection
        for link in links:
            report = reports[link.avidxchange_id]
            status, reason = report[const.ANSWER_STATUS_KEY], False
            if status in const.INVOICE_STATUSES_RELEASED:
                reason = storable(
                    report.get(const.REJECTION_REASON_KEY), const.REJECTION_REASON_MAX_CHARS
                )
            changed = (link.avidxchange_status, link.rejection_reason) != (status, reason or False)
            if changed and (body := link._set_status(status, reason or False)):
                said[link.move_id.id] = body
        if said:  # said last, in one batch, so that each bill's newest message is where it is now
            bills = self.env["account.move"].browse(list(said))
            bills._message_log_batch(bodies=said)

    def _set_status(self, status, reason):
        """AvidXchange says the invoice is now in ``status``, for ``reason``
        when it was rejected or voided: what the bill's chatter is to say of
        it (None when the reason alone changed), for the caller to log with
        the others."""
        self.ensure_one()
        previous = self.avidxchange_status
        self.write({"avidxchange_status": status, "rejection_reason": reason})
        if previous == status:
            return None  # the reason alone changed
        label = dict(self._fields["avidxchange_status"]._description_selection(self.env))[status]
        bill = self.move_id
        Attention = self.env["avidxchange.attention"]
        if status == const.INVOICE_STATUS_REJECTED:
            Attention._ask(
                bill,
                self.backend_id,
                self.env._("Rejected in AvidXchange"),
                self.env._(
                    "AvidXchange's approver rejected %(bill)s: %(reason)s. Correct it in "
                    "AvidXchange and resubmit it there; or, if it should not be paid, cancel the "
                    "bill in Odoo (or credit it with a credit note).",
                    bill=bill.display_name,
                    reason=reason or self.env._("AvidXchange gave no reason"),
                ),
            )
        elif previous == const.INVOICE_STATUS_REJECTED:
            Attention._resolve(bill, self.env._("AvidXchange: %s.", label))
        if reason:
            return self.env._(
                "AvidXchange status: %(status)s. Reason: %(reason)s", status=label, reason=reason
            )
        return self.env._("AvidXchange status: %s.", label)

    # === SCOPE AND HOLDS === #

    @api.model
    def _scope_rules(self, backend, companies=None, dated=True):
        """The bill scope of ``backend``, one rule a row: ``ScopeRule(code,
        domain, reason, sendable)``. The bills it sends are those every
        rule's domain holds for (``_scope_domain``); a bill left out is told
        the reason of the first rule it fails (``_scope_refusal``); a bill is
        never sent without the ``sendable`` rules, even one AvidXchange may
        have (``_check_sendable``). A rule whose domain is a boolean is one of
        the connection, in no domain. ``companies``: ``_scope_companies()``
        when not given; not ``dated``: from any date."""
        if companies is None:
            companies = backend._scope_companies() if backend else backend.company_id
        start = dated and backend.bill_date_from
        rules = [
            ScopeRule(
                "other_company",
                [("company_id", "in", companies.ids)],
                self.env._("The bill's company is not one this AvidXchange connection sends."),
            ),
            ScopeRule(
                "not_a_bill",
                [("move_type", "in", BILL_TYPES)],  # credit notes as credit memos
                self.env._("Only vendor bills and credit notes go to AvidXchange."),
                sendable=True,
            ),
            ScopeRule(
                "captured",
                [("avidxchange_captured_id", "=", False)],
                self.env._("It came from AvidXchange, which has it: it is never sent back."),
                sendable=True,
            ),
            ScopeRule(
                "draft",
                [("state", "=", "posted")],
                self.env._("Only posted bills go to AvidXchange."),
                sendable=True,
            ),
            ScopeRule(
                "no_connection",
                bool(backend),
                self.env._("No AvidXchange connection for this company."),
            ),
            ScopeRule(
                "inactive",
                backend.state == "active",
                self.env._("The AvidXchange connection is not active."),
            ),
            ScopeRule(
                "bills_start_in_avidxchange",
                backend.bills_origin != "avidxchange",
                self.env._(
                    "Bills start in AvidXchange for this connection: bills keyed in Odoo are "
                    "not sent (Bills Start, on the connection)."
                ),
            ),
            ScopeRule(
                "paid",
                [("payment_state", "not in", ("paid", "in_payment", "reversed"))],
                self.env._("Paid in Odoo: there is nothing for AvidXchange to pay."),
                sendable=True,
            ),
            ScopeRule(
                "partly_paid",
                # AvidXchange would pay its full total.
                [("payment_state", "=", "not_paid")],
                self.env._(
                    "Partly paid in Odoo: AvidXchange would pay its full amount. Register the "
                    "rest in Odoo, or undo the payment to send the bill."
                ),
                sendable=True,
            ),
        ]
        if start:
            rules.append(
                ScopeRule(
                    "dated_before",
                    [("invoice_date", ">=", start)],
                    self.env._(
                        "Dated before %s, when the connection started sending bills.",
                        start.strftime("%x"),
                    ),
                )
            )
        if backend.vendor_scope == "marked":
            rules.append(
                ScopeRule(
                    "vendor_unmarked",
                    [("partner_id.commercial_partner_id.avidxchange_enabled", "=", True)],
                    self.env._(
                        'The vendor is not marked "Pay via AvidXchange": mark it to send its bills.'
                    ),
                )
            )
        return rules

    @api.model
    def _scope_domain(self, backend, dated=True, companies=None):
        """The bills ``backend`` sends (see ``_scope_rules``)."""
        return Domain.AND(
            rule.domain
            for rule in self._scope_rules(backend, companies, dated)
            if not isinstance(rule.domain, bool)
        )

    @api.model
    def _scope_refusal(self, move):
        """Why ``move``, a vendor bill without a link, does not go to
        AvidXchange: ``(code, sentence an AP clerk acts on)``, the first rule
        of ``_scope_rules`` it fails. ``"waiting"`` when it goes with the next
        run of the bill stream."""
        backend = self.env["avidxchange.backend"]._covering(move.company_id)
        failed = _first_failed(
            move.with_company(backend.company_id),
            self._scope_rules(backend, companies=move.company_id),
        )
        if failed:
            return failed.code, failed.reason
        return "waiting", self.env._("Goes to AvidXchange with the next bill sync.")

    def _check_sendable(self):
        """Refuse to build the payload of a bill AvidXchange must not get,
        whatever its connection's scope (a bill it may have included)."""
        self.ensure_one()
        rules = self._scope_rules(self.backend_id, companies=self.move_id.company_id)
        failed = _first_failed(self.move_id, [rule for rule in rules if rule.sendable])
        if failed:
            raise UserError(failed.reason)

    def _holds(self):
        """The links whose bill AvidXchange holds: sent (or sent without an
        answer we could read) or captured there and posted, neither rejected
        nor void there, and not released by an AvidXchange administrator."""
        return self.filtered(
            lambda link: (
                # sent, or sent without an answer we could read: AvidXchange may have it
                (link.state == "synced" or link.maybe_received)
                # captured there: held once posted (a draft is Odoo's to check)
                and (link.move_id.state == "posted" or not link.move_id.avidxchange_captured_id)
                and link.avidxchange_status not in const.INVOICE_STATUSES_RELEASED
                and not link.released
            )
        )

    # === THE PAYLOAD (BUILT BY tools/bill_payload.py) === #

    def _avidxchange_payload(self, vendor_code):
        """The bill (or credit note, as a credit memo) as the contract's
        ``POST /invoices`` body (see ``tools/bill_payload.py``).

        Each invoice line is a distribution coded with its account and its
        analytic accounts (split by its analytic distribution); taxes are
        distributions of their own, coded with the tax account. Amounts are
        in the bill's currency and add up to its total.
        """
        self.ensure_one()
        move = self.move_id
        self._check_sendable()
        if not move.invoice_date:
            raise UserError(self.env._("The bill has no bill date."))
        distributions = []
        for line in move.invoice_line_ids.filtered(lambda line: line.display_type == "product"):
            distributions += self._line_distributions(line, line.price_subtotal)
        # A credit memo's amounts are positive too: its tax lines are credits.
        sign = -1 if move.move_type == "in_refund" else 1
        for line in move.line_ids.filtered(lambda line: line.display_type == "tax"):
            distributions += self._line_distributions(line, sign * line.amount_currency)
        return bill_payload.invoice_payload(
            external_id=self.external_invoice_id,
            move_type=move.move_type,
            number=move.ref or move.name,
            invoice_date=move.invoice_date,
            due_date=move.invoice_date_due,
            total=move.amount_total,
            currency=move.currency_id,
            vendor_code=vendor_code,
            distributions=distributions,
            po_number=move.invoice_origin,
            memo=move.payment_reference,
        )

    def _line_distributions(self, line, amount):
        """``line`` (for ``amount``) as distributions: its GL account's code
        and the codes of its analytic distribution's accounts."""
        AccountLink = self.env["avidxchange.account.link"]
        account_codes = (
            [AccountLink._code_of_account(line.account_id)] if line.account_id.code else []
        )
        return bill_payload.line_distributions(
            amount,
            line.name,
            account_codes,
            bill_payload.analytic_shares(_analytic_rows(line)),
            line.currency_id,
        )


def _submit_call(payload, move, client):
    """Submit a bill (in a thread of tools/parallel.py: ``move`` is only
    named in the exchange, never read)."""
    with client.recording("bill", move):
        return client.submit_invoice(payload)


def _upload_image(move, invoice_id, file_name, content_type, content, client):
    with client.recording("bill", move):
        return client.add_invoice_attachment(invoice_id, file_name, content_type, content)


class ScopeRule(NamedTuple):
    """One rule of the bill scope (see ``_scope_rules``)."""

    code: str
    domain: list | bool
    reason: str
    sendable: bool = False


def _first_failed(move, rules):
    """The first of ``rules`` that ``move`` fails, or None."""
    for rule in rules:
        holds = rule.domain if isinstance(rule.domain, bool) else move.filtered_domain(rule.domain)
        if not holds:
            return rule
    return None


def _analytic_accounts(lines):
    """The analytic accounts the analytic distributions of ``lines`` name."""
    ids = {
        int(account_id)
        for line in lines
        for key in (line.analytic_distribution or {})
        for account_id in key.split(",")
        if account_id.isdigit()
    }
    return lines.env["account.analytic.account"].sudo().browse(ids).exists()


def _analytic_rows(line):
    """``line``'s analytic distribution as ``(percentage, root plans, codes)``
    rows, for ``bill_payload.analytic_shares``."""
    Analytic = line.env["account.analytic.account"].sudo()  # names are codes, not secrets
    AccountLink = line.env["avidxchange.account.link"]
    rows = []
    for key, share in (line.analytic_distribution or {}).items():
        accounts = Analytic.browse(int(i) for i in key.split(",") if i.isdigit()).exists()
        rows.append(
            (
                share,
                accounts.root_plan_id.ids,
                [AccountLink._code_of_analytic(account) for account in accounts],
            )
        )
    return rows
