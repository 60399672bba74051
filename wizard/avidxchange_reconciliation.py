import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools.actions import form_action
from ..tools.exceptions import AvidXchangeError
from ..tools.reconciliation import (
    BILL_CHANGED,
    BILL_UNKNOWN,
    CATEGORIES,
    PAYMENT_EDITED,
    PAYMENT_MISSED,
    PAYMENT_NOT_LIVE,
    REPORT_ATTENTION,
    RESIDUAL_DIFFERS,
    STATUS_DIFFERS,
    Bill,
    Payment,
    compare,
)


class AvidxchangeReconciliation(models.TransientModel):
    """Odoo against AvidXchange, for a connection and a period: every
    difference between the two ledgers, each with what to do, and the open
    amounts per currency on both sides. It changes nothing: AvidXchange is
    only read (its invoices and payments, window by window), Odoo is only
    read; the fixing actions on the lines are a person's choice.

    "0 differences" with the totals is the connector's own proof that the
    ledgers agree; the printed report is what a controller files."""

    _name = "avidxchange.reconciliation"
    _description = "AvidXchange Reconciliation"

    backend_id = fields.Many2one(
        "avidxchange.backend",
        string="Connection",
        required=True,
        default=lambda self: self.env["avidxchange.backend"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        ),
    )
    company_id = fields.Many2one(related="backend_id.company_id")
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=90),
        help="Bills dated and payments made from this day on are compared.",
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    compared_at = fields.Datetime(readonly=True)
    line_ids = fields.One2many("avidxchange.reconciliation.line", "wizard_id", readonly=True)
    total_ids = fields.One2many("avidxchange.reconciliation.total", "wizard_id", readonly=True)
    difference_count = fields.Integer(compute="_compute_difference_count")
    bill_count = fields.Integer(string="Bills Compared", readonly=True)
    payment_count = fields.Integer(string="Payments Compared", readonly=True)

    @api.depends("backend_id", "date_from", "date_to")
    def _compute_display_name(self):
        for wizard in self:
            wizard.display_name = self.env._(
                "%(connection)s: Odoo against AvidXchange", connection=wizard.backend_id.name or ""
            )

    @api.depends("line_ids")
    def _compute_difference_count(self):
        for wizard in self:
            wizard.difference_count = len(wizard.line_ids)

    # === ACTION METHODS === #

    def action_compare(self):
        """Read AvidXchange, compare, and show the differences here."""
        self.ensure_one()
        backend = self.backend_id
        backend.check_access("read")  # it only reads: for every AvidXchange user
        if self.date_from > self.date_to:
            raise UserError(self.env._("The period ends before it starts."))
        backend = backend.with_company(backend.company_id)
        bills, payments, ours = self._odoo_side(backend)
        try:
            invoices, avx_payments = self._avidxchange_side(backend)
        except AvidXchangeError as error:
            raise UserError(backend._explain(error)) from None
        period = (self.date_from.isoformat(), self.date_to.isoformat())
        result = compare(bills, payments, invoices, avx_payments, ours, period)
        self.line_ids = [fields.Command.clear()] + [
            fields.Command.create(self._line_values(difference))
            for difference in result.differences
        ]
        currencies = sorted(set(result.open_odoo) | set(result.open_avidxchange))
        self.total_ids = [fields.Command.clear()] + [
            fields.Command.create(
                {
                    "currency_code": code,
                    "open_odoo": result.open_odoo.get(code, 0.0),
                    "open_avidxchange": result.open_avidxchange.get(code, 0.0),
                }
            )
            for code in currencies
        ]
        self.write(
            {
                "compared_at": fields.Datetime.now(),
                "bill_count": len(bills),
                "payment_count": len(payments),
            }
        )
        return form_action(self)

    def action_print(self):
        self.ensure_one()
        if not self.compared_at:
            self.action_compare()
        return self.env.ref(
            "account_avidxchange.action_report_avidxchange_reconciliation"
        ).report_action(self)

    # === BUSINESS METHODS === #

    def _odoo_side(self, backend):
        """What Odoo holds: the bills sent in the period, the AvidXchange
        payments made in it, and AvidXchange's ids of every bill sent."""
        Link = self.env["avidxchange.invoice.link"].sudo()
        sent = [("backend_id", "=", backend.id), ("avidxchange_id", "!=", False)]
        ours = set(Link.search(sent).mapped("avidxchange_id"))
        links = Link.search(
            sent
            + [
                ("move_id.invoice_date", ">=", self.date_from),
                ("move_id.invoice_date", "<=", self.date_to),
            ]
        )
        bills = [
            Bill(
                key=link.move_id.id,
                avidxchange_id=link.avidxchange_id,
                status=link.avidxchange_status,
                currency=link.move_id.currency_id.name,
                residual=link.move_id.amount_residual if link.move_id.state == "posted" else 0.0,
                changed=bool(link.changes),
            )
            for link in links
        ]
        records = (
            self.env["avidxchange.payment"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    "|",
                    ("payment_date", "=", False),
                    "&",
                    ("payment_date", ">=", self.date_from),
                    ("payment_date", "<=", self.date_to),
                ]
            )
        )
        payments = []
        for record in records:
            # live: neither draft (reset) nor cancelled nor reversed
            posted = record._live_payments().filtered(lambda p: p.state != "draft")
            payments.append(
                Payment(
                    key=record.id,
                    ref=record.payment_ref,
                    registered=record.state == "posted",
                    needs_attention=record.state == "error" and _pays_ours(record, ours),
                    odoo_amount=sum(posted.mapped("amount")) if posted else None,
                )
            )
        return bills, payments, ours

    def _avidxchange_side(self, backend):
        """AvidXchange's invoices (by ``Id``) and payments, read window by
        window since the connection was made: read only."""
        skew = timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
        since = backend.create_date - skew
        now = fields.Datetime.now() + skew
        invoices, payments = {}, {}
        with backend._get_client() as client, client.recording("reconciliation", backend):
            while since < now:
                until = min(since + timedelta(days=const.MAX_WINDOW_DAYS), now)
                for item in client.iter_invoices(since, until):
                    if isinstance(item, dict) and isinstance(item.get(const.ANSWER_ID_KEY), str):
                        invoices[item[const.ANSWER_ID_KEY]] = item  # the latest read wins
                for item in client.iter_payments(since, until):
                    if isinstance(item, dict) and isinstance(item.get("PaymentId"), str):
                        payments[item["PaymentId"]] = item
                since = until
        return invoices, list(payments.values())

    def _line_values(self, difference):
        category = difference.category
        values = {"category": category}
        if category in (BILL_UNKNOWN, STATUS_DIFFERS, RESIDUAL_DIFFERS, BILL_CHANGED):
            values["move_id"] = difference.key
        elif isinstance(difference.key, int):
            values["payment_id"] = difference.key
        else:
            values["reference"] = difference.key  # AvidXchange's id: Odoo has nothing
        values.update(self._words(difference))
        return values

    def _words(self, difference):
        """What differs, and what to do about it, for a person."""
        category, odoo, avx = difference.category, difference.odoo, difference.avidxchange
        if category == RESIDUAL_DIFFERS:
            odoo, avx = (
                self.env._("%s left to pay", f"{odoo:.2f}"),
                self.env._("%s left to pay", f"{avx:.2f}"),
            )
        elif category == PAYMENT_EDITED:
            odoo = (
                self.env._("%s", f"{odoo:.2f}")
                if odoo is not None
                else self.env._("Reset or cancelled")
            )
            avx = f"{avx:.2f}" if avx is not None else ""
        elif category == STATUS_DIFFERS:
            odoo = odoo or self.env._("None read yet")
        fixed = {
            BILL_UNKNOWN: (self.env._("Sent as %s", odoo), self.env._("Unknown")),
            PAYMENT_NOT_LIVE: (self.env._("Registered"), self.env._("Void or unknown")),
            PAYMENT_MISSED: (self.env._("Not registered"), self.env._("Paid")),
            BILL_CHANGED: (self.env._("Changed after sending"), self.env._("As sent")),
            REPORT_ATTENTION: (self.env._("Needs attention"), ""),
        }
        what_to_do = {
            BILL_UNKNOWN: self.env._("Send it again (AvidXchange takes it under the same id)."),
            STATUS_DIFFERS: self.env._("Run the payment import: it reads the statuses."),
            RESIDUAL_DIFFERS: self.env._(
                "Compare the bill's payments with AvidXchange's: a payment registered by "
                "hand, or one AvidXchange made and Odoo missed."
            ),
            PAYMENT_NOT_LIVE: self.env._(
                "Run the payment import: it undoes what AvidXchange voided."
            ),
            PAYMENT_MISSED: self.env._("Read it again: the payment import registers it."),
            PAYMENT_EDITED: self.env._(
                "The Odoo payment no longer says what AvidXchange paid: set it back, or void "
                "the payment in AvidXchange (the next import undoes it here)."
            ),
            BILL_CHANGED: self.env._("Change or void the invoice in AvidXchange to match."),
            REPORT_ATTENTION: self.env._("Read why on the payment, fix it, then Retry."),
        }
        if category not in what_to_do:
            return {}
        odoo, avx = fixed.get(category, (odoo, avx))
        return {"odoo_value": odoo, "avidxchange_value": avx, "what_to_do": what_to_do[category]}


class AvidxchangeReconciliationLine(models.TransientModel):
    """One difference between Odoo and AvidXchange."""

    _name = "avidxchange.reconciliation.line"
    _description = "AvidXchange Reconciliation Difference"
    _order = "id"

    wizard_id = fields.Many2one("avidxchange.reconciliation", required=True, ondelete="cascade")
    category = fields.Selection(CATEGORIES, required=True)
    move_id = fields.Many2one("account.move", string="Bill")
    payment_id = fields.Many2one("avidxchange.payment")
    reference = fields.Char(string="AvidXchange ID")
    odoo_value = fields.Char(string="In Odoo")
    avidxchange_value = fields.Char(string="In AvidXchange")
    what_to_do = fields.Char(string="What to Do")
    can_fix = fields.Boolean(compute="_compute_can_fix")

    def _compute_can_fix(self):
        for line in self:
            line.can_fix = line.category in (
                BILL_UNKNOWN,
                PAYMENT_MISSED,
                REPORT_ATTENTION,
                STATUS_DIFFERS,
                PAYMENT_NOT_LIVE,
            )

    def action_open(self):
        self.ensure_one()
        record = self.move_id or self.payment_id
        if not record:
            raise UserError(self.env._("Odoo has no record of %s.", self.reference))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }

    def action_fix(self):
        """The line's fixing action: a person's choice, never the report's."""
        self.ensure_one()
        backend = self.wizard_id.backend_id
        if self.category == BILL_UNKNOWN:
            return self.move_id.avidxchange_link_ids.action_send_now()
        if self.category == REPORT_ATTENTION:
            return self.payment_id.action_retry()
        # The statuses and payments come with the payment import: read again
        # from the first read's start (a clock's skew before the connection
        # was made); what was read before is recognised, not applied twice.
        stream = backend._stream("payment")
        backend._check_admin_access()
        stream.sudo().mark = False
        return stream.action_run_now()


class AvidxchangeReconciliationTotal(models.TransientModel):
    """Open AP of the bills sent, per currency, on each side."""

    _name = "avidxchange.reconciliation.total"
    _description = "AvidXchange Reconciliation Total"
    _order = "currency_code"

    wizard_id = fields.Many2one("avidxchange.reconciliation", required=True, ondelete="cascade")
    currency_code = fields.Char(string="Currency", required=True)
    open_odoo = fields.Float(string="Open in Odoo", digits=(16, 2))
    open_avidxchange = fields.Float(string="Open in AvidXchange", digits=(16, 2))
    difference = fields.Float(digits=(16, 2), compute="_compute_difference")

    @api.depends("open_odoo", "open_avidxchange")
    def _compute_difference(self):
        for total in self:
            total.difference = round(total.open_odoo - total.open_avidxchange, 2)


def _pays_ours(record, ours):
    """Whether a payment report names an invoice this connection sent: the
    import keeps every report, a payment of another system's invoices too,
    and that one is another system's business, not a difference."""
    if record.bill_ids:
        return True
    try:
        report = json.loads(record.last_report or "{}")
    except ValueError:
        return True  # unreadable: a person looks
    lines = report.get("Invoices") if isinstance(report, dict) else None
    if not isinstance(lines, list):
        return True
    return any(isinstance(line, dict) and line.get(const.ANSWER_ID_KEY) in ours for line in lines)
