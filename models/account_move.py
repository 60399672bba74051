from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, mute_logger

from .. import const
from ..tools.exceptions import refuse
from ..tools.groups import USER_GROUP
from ..tools.states import (
    BILL_STATUS_OF_INVOICE,
    BILL_SYNC_STATUSES,
    INVOICE_STATUSES,
    LINK_STATES,
)
from .avidxchange_captured_invoice import UPDATING_CAPTURED_BILL


def _link_value(field_class, name, string):
    """The bill's link's ``name``, read as the user (who may not see links)."""
    return field_class(string, related=f"avidxchange_link_ids.{name}", compute_sudo=False)


class AccountMove(models.Model):
    _inherit = "account.move"

    avidxchange_link_ids = fields.One2many(
        "avidxchange.invoice.link", "move_id", string="AvidXchange Links"
    )
    avidxchange_exchange_count = fields.Integer(compute="_compute_avidxchange_exchange_count")
    avidxchange_captured_id = fields.Many2one(
        "avidxchange.captured.invoice",
        string="Captured in AvidXchange",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The invoice AvidXchange captured that this bill came from: it is never sent back.",
    )
    # Stored, so bill lists filter and group on them natively. A company has
    # one connection, so a bill has one link at most.
    avidxchange_state = fields.Selection(
        LINK_STATES,
        string="Sent to AvidXchange",
        compute="_compute_avidxchange_state",
        store=True,
        index="btree_not_null",
    )
    avidxchange_status = fields.Selection(
        INVOICE_STATUSES,
        string="AvidXchange Approval Status",
        compute="_compute_avidxchange_state",
        store=True,
    )
    avidxchange_sync_status = fields.Selection(
        BILL_SYNC_STATUSES,
        string="AvidXchange",
        help="Where the bill is with AvidXchange, sending and approval together. Changed "
        "after sending: released from AvidXchange's hold and changed since (the AvidXchange "
        "tab says what). Not in scope: the tab says why.",
        compute="_compute_avidxchange_state",
        store=True,
        index="btree_not_null",
    )
    avidxchange_changes = _link_value(fields.Char, "changes", "Changed After Sending")
    avidxchange_invoice_id = _link_value(fields.Char, "avidxchange_id", "AvidXchange Invoice ID")
    avidxchange_error = _link_value(fields.Text, "error_message", "AvidXchange Error")
    avidxchange_rejection_reason = _link_value(fields.Text, "rejection_reason", "Rejection Reason")
    avidxchange_reason = fields.Char(
        string="AvidXchange Scope",
        compute="_compute_avidxchange_reason",
        help="Whether this vendor bill goes to AvidXchange, and if not, why and what would "
        "send it.",
    )
    avidxchange_vendor_unmarked = fields.Boolean(compute="_compute_avidxchange_reason")

    # === COMPUTE METHODS === #

    @api.depends(
        "move_type",
        "state",
        "avidxchange_link_ids.state",
        "avidxchange_link_ids.avidxchange_status",
        "avidxchange_link_ids.changes",
    )
    def _compute_avidxchange_state(self):
        for move in self:
            link = move.avidxchange_link_ids[:1]
            move.avidxchange_state = link.state
            move.avidxchange_status = link.avidxchange_status
            move.avidxchange_sync_status = move._avidxchange_sync_status(link)

    def _avidxchange_sync_status(self, link):
        """One word for where the bill is (see ``BILL_SYNC_STATUSES``). A
        posted bill in scope is linked when posted, so no link means not in
        scope; a change since export or an error outranks the rest."""
        if self.move_type not in ("in_invoice", "in_refund"):
            return False
        if not link:
            return "not_in_scope" if self.state == "posted" else False
        if link.changes:
            return "changed"
        if link.state == "error":
            return "error"
        if link.state == "pending":
            return "waiting"
        return BILL_STATUS_OF_INVOICE.get(link.avidxchange_status, "sent")

    @api.depends("state", "payment_state", "invoice_date", "partner_id", "avidxchange_link_ids")
    @api.depends_context("company")
    def _compute_avidxchange_reason(self):
        InvoiceLink = self.env["avidxchange.invoice.link"]
        for move in self:
            code = reason = False
            link = move.avidxchange_link_ids[:1]
            # not sent yet: whether it still goes (paid since posting, say)
            if move.move_type in ("in_invoice", "in_refund") and link.state in (False, "pending"):
                code, reason = InvoiceLink._scope_refusal(move)
            move.avidxchange_reason = reason
            move.avidxchange_vendor_unmarked = code == "vendor_unmarked"

    def _compute_avidxchange_exchange_count(self):
        counts = self.env["avidxchange.exchange.log"]._count_by_record(self)
        for move in self:
            move.avidxchange_exchange_count = counts.get(move.id, 0)

    # === POSTING === #

    def _post(self, soft=True):
        """A vendor bill or credit note posted in a connection's scope is
        linked at once: it shows as waiting, and goes with the next run."""
        posted = super()._post(soft=soft)
        bills = posted.filtered(lambda move: move.move_type in ("in_invoice", "in_refund"))
        if bills:
            self.env["avidxchange.invoice.link"]._link_in_scope(bills)
        return posted

    # === GUARDS === #

    def button_draft(self):
        self._avidxchange_check_free(self.env._("Resetting it to draft"))
        self.origin_payment_id._avidxchange_check_free(
            self.env._("Resetting its journal entry to draft")
        )
        return super().button_draft()

    def button_cancel(self):
        self._avidxchange_check_free(self.env._("Cancelling it"))
        self.origin_payment_id._avidxchange_check_free(self.env._("Cancelling its journal entry"))
        result = super().button_cancel()
        # A rejected bill cancelled in Odoo: what the rejection asked is done.
        rejected = self.filtered(
            lambda move: (
                move.state == "cancel" and move.avidxchange_status == const.INVOICE_STATUS_REJECTED
            )
        )
        self.env["avidxchange.attention"]._resolve(rejected, self.env._("The bill is cancelled."))
        return result

    def write(self, vals):
        """A state written straight (over RPC, say) meets the guards that
        Reset to Draft and Cancel meet: the entry of a payment AvidXchange
        made, and a bill AvidXchange holds, stay posted."""
        if vals.get("state") not in (None, "posted"):
            leaving = self.filtered(lambda move: move.state == "posted")
            leaving.origin_payment_id._avidxchange_check_free(
                self.env._("Changing the state of its journal entry")
            )
            leaving._avidxchange_check_free(self.env._("Changing its state"))
        return super().write(vals)

    def unlink(self):
        """The entry of a payment AvidXchange made goes only with the payment
        (see ``account.payment._avidxchange_check_free``)."""
        self.origin_payment_id._avidxchange_check_free(self.env._("Deleting its journal entry"))
        return super().unlink()

    def js_assign_outstanding_line(self, line_id):
        """The bill form's "Add" of a credit note or an outstanding payment."""
        line = self.env["account.move.line"].browse(line_id)
        (self | line.move_id)._avidxchange_check_free(
            self.env._("Setting a credit note or a payment against it")
        )
        return super().js_assign_outstanding_line(line_id)

    def _reverse_moves(self, default_values_list=None, cancel=False):
        """A full reversal (the credit note that cancels the bill, Reverse
        and Create Invoice) settles the bill behind AvidXchange's back."""
        if cancel:
            self._avidxchange_check_free(self.env._("Reversing it"))
        # a payment's entry reversed, settling or not, no longer says what AvidXchange paid
        self.origin_payment_id._avidxchange_check_free(self.env._("Reversing its journal entry"))
        return super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)

    def js_remove_outstanding_partial(self, partial_id):
        """The bill form's removal of a payment or credit note set against it."""
        partial = self.env["account.partial.reconcile"].browse(partial_id)
        moves = self | partial.debit_move_id.move_id | partial.credit_move_id.move_id
        moves._avidxchange_check_free(self.env._("Removing a payment or credit note from it"))
        # a payment AvidXchange made stays on it (account.partial.reconcile's unlink says why)
        return super().js_remove_outstanding_partial(partial_id)

    def _avidxchange_held(self):
        """The bills among these that AvidXchange holds (see ``_holds``);
        none while an administrator brings a captured bill in line with
        AvidXchange (``avidxchange.captured.invoice.action_update_bill``)."""
        if self.env.context.get(UPDATING_CAPTURED_BILL):
            return self.browse()
        return self.filtered(lambda move: move.sudo().avidxchange_link_ids._holds())

    def _avidxchange_check_free(self, operation):
        """Refuse ``operation`` (in words) on bills AvidXchange holds: it pays
        them, so changing or paying them in Odoo alone would pay the vendor
        twice, or a wrong amount. Like ``account_edi`` with sent documents.
        An AvidXchange administrator is offered the release, with a reason."""
        self._avidxchange_check_sending(operation)
        held = self._avidxchange_held()
        if held:
            refuse(
                self.env,
                held._avidxchange_hold_message(operation),
                held._avidxchange_release_action(),
                self.env._("Or release it from the hold, with a reason."),
            )

    def _avidxchange_check_sending(self, operation):
        """Refuse ``operation`` at once, in words, on bills a scheduled run is
        sending to AvidXchange right now (reserved: see
        ``avidxchange.link.mixin._avidxchange_send_waiting``): a person never
        waits for AvidXchange's answer.

        Their links are locked to share, without waiting: a run that holds
        one is recording its outcome (refused too), and no run reserves one
        while this transaction goes on. A reservation committed after this
        transaction began makes that lock fail to serialize, and Odoo runs
        the request again, which sees it. A reservation that timed out was
        left by a run that stopped: AvidXchange may have the bill until the
        next run asks it again."""
        links = self.sudo().avidxchange_link_ids
        if not links:
            return
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM %s WHERE id IN %s FOR SHARE NOWAIT",
                        SQL.identifier(links._table),
                        tuple(links.ids),
                    )
                )
            sending = links._avidxchange_being_sent()
        except LockNotAvailable:
            sending = links
        if sending:
            raise UserError(
                self.env._(
                    "%(bills)s: being sent to AvidXchange right now. %(operation)s is refused "
                    "until AvidXchange has answered: try again in a minute.",
                    bills=", ".join(sending.move_id.mapped("display_name")),
                    operation=operation,
                )
            )
        stopped = links.filtered(lambda link: link.sending_since and not link.released)
        if stopped:
            raise UserError(
                self.env._(
                    "%(bills)s: a send to AvidXchange stopped before its answer was recorded, "
                    "so AvidXchange may have it. %(operation)s is refused until the next bill "
                    "sync has asked AvidXchange again.",
                    bills=", ".join(stopped.move_id.mapped("display_name")),
                    operation=operation,
                )
            )

    def _avidxchange_hold_message(self, operation):
        """Why ``operation`` is refused on these bills, which AvidXchange holds."""
        return self.env._(
            "AvidXchange holds %(bills)s: AvidXchange has it and pays it. "
            "%(operation)s in Odoo alone would make the two disagree, and the vendor could be "
            "paid twice. Reject or void it in AvidXchange first (the next sync frees it here).",
            bills=", ".join(self.mapped("display_name")),
            operation=operation,
        )

    def _avidxchange_release_action(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Release from AvidXchange's hold"),
            "res_model": "avidxchange.bill.release",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": self.ids},
        }

    # === ACTION METHODS === #

    def action_avidxchange_send(self):
        """Send these bills to AvidXchange now (the bill's button and the
        list's action, for AvidXchange users), and say how it went."""
        if not self.env.user.has_group(USER_GROUP):
            raise AccessError(self.env._("Only AvidXchange users can send bills to AvidXchange."))
        self.check_access("read")
        bills = self.filtered(lambda move: move.move_type in ("in_invoice", "in_refund"))
        return self.env["avidxchange.invoice.link"]._send_bills(bills)

    def action_open_in_avidxchange(self):
        self.ensure_one()
        return self.avidxchange_link_ids[:1].action_open_in_avidxchange()

    def action_avidxchange_mark_vendor(self):
        """The fixing button of "vendor not marked": mark the bills' vendors
        for AvidXchange, in the company of the connection that sends them."""
        Backend = self.env["avidxchange.backend"]
        for move in self:
            company = Backend._covering(move.company_id).company_id or move.company_id
            vendor = move.partner_id.commercial_partner_id.with_company(company)
            vendor.avidxchange_enabled = True
        return True

    def action_open_avidxchange_exchanges(self):
        self.ensure_one()
        return self.env["avidxchange.exchange.log"]._action_for_record(self)
