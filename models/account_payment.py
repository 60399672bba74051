from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.exceptions import refuse

# What a registered payment says AvidXchange paid: whom, how much, in what
# currency, when, from which journal and method, through which accounts, in
# which entry. Changing any of them makes Odoo's ledger disagree with
# AvidXchange; the memo, say, does not.
PAID_FIELDS = (
    "amount",
    "currency_id",
    "date",
    "partner_id",
    "partner_type",
    "payment_type",
    "journal_id",
    "payment_method_line_id",
    "outstanding_account_id",
    "destination_account_id",
    "company_id",
    "move_id",
)
# The states of a payment that was made and counts: a guarded payment moves
# between them only (the bank statement line matched, or not); into any other
# (draft, cancelled, rejected) or out of it (a voided payment posted again), it
# would say something else than AvidXchange.
LIVE_STATES = ("in_process", "paid")
# Written by the connector alone: the import links a payment, the release releases it.
CONNECTOR_FIELDS = ("avidxchange_payment_id", "avidxchange_released", "avidxchange_release_reason")
# The context key of the payments the connector itself is changing (see _avidxchange_unguarded).
UNGUARDED = "avidxchange_unguarded"


class AccountPayment(models.Model):
    """The payments AvidXchange made, as Odoo payments: linked to the report
    that made them, and guarded, so that what Odoo says was paid stays what
    AvidXchange paid, until an AvidXchange administrator releases one."""

    _inherit = "account.payment"

    avidxchange_payment_id = fields.Many2one(
        "avidxchange.payment",
        string="AvidXchange Payment",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        copy=False,
    )
    avidxchange_exchange_count = fields.Integer(compute="_compute_avidxchange_exchange_count")
    # Stored, so that payments filter on it, and the reconciliation report
    # lists the released payments that no longer say what AvidXchange paid.
    avidxchange_released = fields.Boolean(
        string="Released from AvidXchange",
        readonly=True,
        copy=False,
        help="An AvidXchange administrator released this payment, with a reason logged on it "
        "and on its bills: Odoo may change or undo it, so it may no longer say what "
        "AvidXchange paid.",
    )
    avidxchange_release_reason = fields.Text(
        string="Why Released from AvidXchange", readonly=True, copy=False
    )

    @api.depends("payment_method_line_id")
    def _compute_outstanding_account_id(self):
        """An AvidXchange payment always goes through an outstanding account
        (hence a journal entry, in Community and Enterprise alike): the
        account its GL posting code maps to, the method's, or the company's
        outstanding payments account. The import names it in the context of
        the registration (the field is computed only)."""
        result = super()._compute_outstanding_account_id()
        account_id = self.env.context.get("avidxchange_outstanding_account_id")
        if account_id:
            self.outstanding_account_id = account_id
        return result

    def _compute_avidxchange_exchange_count(self):
        # The trail of an Odoo payment is the one of the AvidXchange payment that made it.
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self.avidxchange_payment_id)
        for payment in self:
            payment.avidxchange_exchange_count = counts.get(payment.avidxchange_payment_id.id, 0)

    # === CRUD METHODS === #

    def write(self, vals):
        self._avidxchange_check_write(vals)
        return super().write(vals)

    def unlink(self):
        return self._avidxchange_if_free(self.env._("Deleting it"), super().unlink)

    # === ACTION METHODS === #

    def action_draft(self):
        return self._avidxchange_if_free(self.env._("Resetting it to draft"), super().action_draft)

    def action_cancel(self):
        return self._avidxchange_if_free(self.env._("Cancelling it"), super().action_cancel)

    def action_reject(self):
        return self._avidxchange_if_free(self.env._("Rejecting it"), super().action_reject)

    def action_open_avidxchange_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self.avidxchange_payment_id)

    # === GUARDS === #

    def _avidxchange_unguarded(self):
        """These payments, for the connector itself to change: its payment
        import undoing what AvidXchange voided, and the release. The context
        holds a frozenset of their ids, which no RPC client can send (JSON and
        XML-RPC have no sets), so nobody switches the guard off from outside."""
        return self.with_context(
            **{UNGUARDED: self._avidxchange_unguarded_ids() | frozenset(self.ids)}
        )

    def _avidxchange_unguarded_ids(self):
        ids = self.env.context.get(UNGUARDED)
        return ids if isinstance(ids, frozenset) else frozenset()

    def _avidxchange_guarded(self):
        """The payments among these that must go on saying what AvidXchange
        paid: registered by the payment import, not released, and not draft
        (a payment is draft while the import creates it, or once released and
        reset), unless the connector itself is changing them."""
        unguarded = self._avidxchange_unguarded_ids()
        return self.filtered(
            lambda payment: (
                payment.avidxchange_payment_id
                and not payment.avidxchange_released
                and payment.state != "draft"
                and payment.id not in unguarded
            )
        )

    def _avidxchange_check_free(self, operation):
        """Refuse ``operation`` (in words) on payments the connector
        registered: AvidXchange paid them, and Odoo's ledger must say what it
        paid, as a held bill must say what AvidXchange was sent (see
        ``account.move._avidxchange_check_free``). Voided in AvidXchange, the
        next payment import undoes them here. An AvidXchange administrator is
        offered the release, with a reason."""
        guarded = self._avidxchange_guarded()
        if not guarded:
            return
        message = self.env._(
            "%(payments)s was made through AvidXchange: AvidXchange paid this, and Odoo must "
            "say what it paid. %(operation)s in Odoo alone would make the two disagree. To "
            "undo it, void it in AvidXchange: the next payment import undoes it here.",
            payments=", ".join(guarded.mapped("display_name")),
            operation=operation,
        )
        refuse(
            self.env,
            message,
            guarded._avidxchange_release_action(),
            self.env._("Or release it, with a reason, for Odoo to let you."),
        )

    def _avidxchange_if_free(self, operation, method):
        """``method()`` (Odoo's own ``operation``, in words), once the guard
        (``_avidxchange_check_free``) lets it."""
        self._avidxchange_check_free(operation)
        return method()

    def _avidxchange_check_write(self, vals):
        """``write`` changes neither what a guarded payment says AvidXchange
        paid nor its state beyond the live ones (``LIVE_STATES``); and only
        the connector links a payment to AvidXchange or releases it. A value
        sent unchanged changes nothing, and passes."""
        if not vals.keys() & {*PAID_FIELDS, *CONNECTOR_FIELDS, "state"}:
            return
        unguarded = self._avidxchange_unguarded_ids()
        outside = self.filtered(lambda payment: payment.id not in unguarded)
        if outside._avidxchange_changes(vals, CONNECTOR_FIELDS):
            raise UserError(
                self.env._(
                    "Only AvidXchange's payment import links a payment to AvidXchange, and only "
                    "an AvidXchange administrator releases one, with a reason (Release with a "
                    "reason)."
                )
            )
        guarded = self._avidxchange_guarded()
        if not guarded:
            return
        changed = guarded._avidxchange_changes(vals, PAID_FIELDS)
        if changed:
            guarded._avidxchange_check_free(
                self.env._(
                    "Changing its %s",
                    ", ".join(self._fields[name]._description_string(self.env) for name in changed),
                )
            )
        state = vals.get("state")
        if state:
            states = dict(self._fields["state"]._description_selection(self.env))
            guarded.filtered(
                lambda payment: (
                    payment.state != state and not {payment.state, state} <= set(LIVE_STATES)
                )
            )._avidxchange_check_free(self.env._("Setting it to %s", states.get(state, state)))

    def _avidxchange_changes(self, vals, names):
        """The fields of ``names`` whose value in ``vals`` differs from any of
        these payments' (a client may send a value unchanged)."""
        changed = []
        for name in names:
            if name not in vals:
                continue
            field = self._fields[name]
            if any(
                field.convert_to_cache(vals[name], payment)
                != field.convert_to_cache(payment[name], payment)
                for payment in self
            ):
                changed.append(name)
        return changed

    def _avidxchange_release_action(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Release from AvidXchange"),
            "res_model": "avidxchange.payment.release",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.payment", "active_ids": self.ids},
        }

    # === BUSINESS METHODS === #

    def _avidxchange_release(self, reason):
        """Release these payments from the guard (``_avidxchange_check_free``),
        with ``reason`` logged on each and on the bills it pays. Whoever calls
        it has checked that the user is an AvidXchange administrator."""
        to_release = self.filtered(
            lambda payment: payment.avidxchange_payment_id and not payment.avidxchange_released
        )
        to_release._avidxchange_unguarded().write(
            {"avidxchange_released": True, "avidxchange_release_reason": reason}
        )
        for payment in to_release:
            # who, why, and which AvidXchange payment: said on the payment and on its bills
            shown = {
                "user": self.env.user.name,
                "reason": reason,
                "ref": payment.avidxchange_payment_id.sudo().payment_ref,
            }
            payment.message_post(
                body=self.env._(
                    "Released from AvidXchange by %(user)s: %(reason)s. Odoo may now reset, "
                    "cancel, change or unreconcile this payment; AvidXchange is not told, so it "
                    "may no longer say what AvidXchange paid (AvidXchange payment %(ref)s).",
                    **shown,
                )
            )
            bills = (payment.reconciled_bill_ids | payment.invoice_ids).filtered(
                lambda move: move.is_purchase_document(include_receipts=True)
            )
            for bill in bills:
                bill.message_post(
                    body=self.env._(
                        "Its payment %(payment)s (AvidXchange payment %(ref)s) was released from "
                        "AvidXchange by %(user)s: %(reason)s. Odoo may now undo or change it.",
                        payment=payment.display_name,
                        **shown,
                    )
                )
        return to_release
