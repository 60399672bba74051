import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools.exceptions import AvidXchangeError
from ..tools.notify import notification
from ..tools.payment_report import parse_stamp
from ..tools.redaction import storable

# Fetched per payment stream batch at most: each is a request.
PROOFS_PER_BATCH = 20
# Runs that try a proof before it is given up (Proof of Payment tries again).
PROOF_ATTEMPTS = 3

_logger = logging.getLogger(__name__)


class AvidxchangePayment(models.Model):
    """Proof of payment: the payment's status history as AvidXchange tells it
    (a timeline on the payment), and a cleared check's image, attached to the
    Odoo payment once the check clears."""

    _inherit = "avidxchange.payment"

    history_ids = fields.One2many(
        "avidxchange.payment.event", "payment_id", string="Status History", readonly=True
    )
    check_image_id = fields.Many2one("ir.attachment", string="Cleared Check", readonly=True)
    proof_error = fields.Char(
        string="Proof Not Fetched",
        readonly=True,
        help="Why AvidXchange's proof of payment could not be read the last time.",
    )
    proof_attempts = fields.Integer(readonly=True, copy=False)
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
        if not wanted:
            return
        try:
            with backend._get_client() as client:
                for payment in wanted:
                    payment._fetch_proof_safely(client)
        except (AvidXchangeError, UserError) as error:  # no client: the next run tries again
            _logger.info("AvidXchange proofs of payment not fetched: %s", error)

    def _fetch_proof_safely(self, client):
        """A proof is a courtesy: whatever goes wrong stays on this payment
        (said in ``proof_error``, given up after ``PROOF_ATTEMPTS``), never
        on the payment import that runs it."""
        try:
            with self.env.cr.savepoint():
                self._fetch_proof(client)
        except Exception as error:  # noqa: BLE001 - the import must go on
            _logger.info("AvidXchange proof of payment %s: %s", self.payment_ref, error)
            attempts = self.proof_attempts + 1
            self.write(
                {
                    "proof_attempts": attempts,
                    "proof_wanted": attempts < PROOF_ATTEMPTS,
                    "proof_error": str(error)[:500]
                    if isinstance(error, AvidXchangeError | UserError)
                    else self.env._("An unexpected error (%s).", type(error).__name__),
                }
            )

    def _fetch_proof(self, client):
        """Replace the status history with AvidXchange's, and attach the
        cleared check's image to the Odoo payment, once."""
        self.ensure_one()
        with client.recording("payment", self):
            items = client.get_payment_history(self.payment_ref)
            events = [event for event in map(_event_values, items) if event]
            self.history_ids.unlink()
            self.write({"history_ids": [fields.Command.create(event) for event in events]})
            if self.status_category == const.PAYMENT_CLEARED and not self.check_image_id:
                image = client.get_cleared_check_image(self.payment_ref)
                if image:
                    self._attach_check_image(*image)
        self.write({"proof_wanted": False, "proof_attempts": 0, "proof_error": False})

    def _attach_check_image(self, name, mimetype, content):
        odoo_payment = self._live_payments()[:1]
        if not odoo_payment:
            return
        attachment = self.env["ir.attachment"].create(
            {
                "name": storable(name, 200) or "check.pdf",
                "raw": content,
                "mimetype": storable(mimetype, 100) or "application/octet-stream",
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
    status = storable(item.get("Status"), const.PAYMENT_HISTORY_MAX_CHARS)
    if not status:
        return None
    return {
        "status": status,
        "date": parse_stamp(item.get("Date")),
        "note": storable(item.get("Note"), const.PAYMENT_HISTORY_MAX_CHARS) or False,
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
