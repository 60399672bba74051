from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools.exceptions import AvidXchangeError
from ..tools.notify import notification
from ..tools.payment_report import parse_stamp

# Fetched per payment stream batch at most: each is a request.
PROOFS_PER_BATCH = 20


class AvidxchangePayment(models.Model):
    """Proof of payment: the payment's status history as AvidXchange tells it
    (a timeline on the payment), and a cleared check's image, attached to the
    Odoo payment once the check clears."""

    _inherit = "avidxchange.payment"

    history_ids = fields.One2many(
        "avidxchange.payment.event", "payment_id", string="Status History", readonly=True
    )
    check_image_id = fields.Many2one("ir.attachment", string="Cleared Check", readonly=True)
    proof_wanted = fields.Boolean(
        readonly=True,
        index="btree_not_null",
        help="The check cleared and AvidXchange has its image: the next payment run fetches it.",
    )

    # === ACTION METHODS === #

    def action_fetch_proof(self):
        """Read the payment's status history (and its cleared check's image),
        for an AvidXchange user, and say what was found."""
        self.ensure_one()
        self.check_access("read")  # AvidXchange users only
        payment = self.sudo()
        backend = payment.backend_id
        try:
            with backend._get_client() as client:
                payment._fetch_proof(client)
        except (AvidXchangeError, UserError) as error:
            raise UserError(backend._explain(error)) from None
        message = self.env._("%s status changes.", len(payment.history_ids))
        if payment.check_image_id:
            message += " " + self.env._("The cleared check is attached to the Odoo payment.")
        return notification(
            self.env._("Proof of payment %s", payment.payment_ref), message, "success"
        )

    # === BUSINESS METHODS === #

    @api.model
    def _fetch_wanted_proofs(self, backend):
        """The images of checks that cleared since the last run (see
        ``proof_wanted``), a few per batch; one that fails is tried again."""
        wanted = self.sudo().search(
            [("backend_id", "=", backend.id), ("proof_wanted", "=", True)], limit=PROOFS_PER_BATCH
        )
        if wanted:
            with backend._get_client() as client:
                for payment in wanted:
                    payment._fetch_proof(client)

    def _fetch_proof(self, client):
        """Replace the status history with AvidXchange's, and attach the
        cleared check's image to the Odoo payment, once."""
        self.ensure_one()
        with client.recording("payment_import", self):
            items = client.get_payment_history(self.payment_ref)
            events = [event for event in map(_event_values, items) if event]
            self.history_ids.unlink()
            self.write({"history_ids": [fields.Command.create(event) for event in events]})
            if self.status_category == const.PAYMENT_CLEARED and not self.check_image_id:
                image = client.get_cleared_check_image(self.payment_ref)
                if image:
                    self._attach_check_image(*image)
        self.proof_wanted = False

    def _attach_check_image(self, name, mimetype, content):
        odoo_payment = self._live_payments()[:1]
        if not odoo_payment:
            return
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "raw": content,
                "mimetype": mimetype,
                "res_model": "account.payment",
                "res_id": odoo_payment.id,
            }
        )
        self.check_image_id = attachment
        odoo_payment.message_post(
            body=self.env._("The cleared check of AvidXchange payment %s.", self.payment_ref),
            attachment_ids=attachment.ids,
        )


def _event_values(item):
    """One history item as an event, or None when it is no such thing."""
    if not isinstance(item, dict):
        return None
    status = item.get("Status")
    if not isinstance(status, str) or not status.strip():
        return None
    note = item.get("Note")
    return {
        "status": status.strip()[: const.PAYMENT_HISTORY_MAX_CHARS],
        "date": parse_stamp(item.get("Date")),
        "note": note.strip()[: const.PAYMENT_HISTORY_MAX_CHARS] if isinstance(note, str) else False,
    }


class AvidxchangePaymentEvent(models.Model):
    """One step of an AvidXchange payment's life, as AvidXchange tells it."""

    _name = "avidxchange.payment.event"
    _description = "AvidXchange Payment Status Change"
    _order = "date, id"

    payment_id = fields.Many2one(
        "avidxchange.payment", required=True, ondelete="cascade", index=True
    )
    date = fields.Datetime(readonly=True)
    status = fields.Char(readonly=True, required=True)
    note = fields.Char(readonly=True)
