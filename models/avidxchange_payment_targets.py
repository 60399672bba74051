from odoo import models
from odoo.exceptions import UserError

from .. import const


class AvidxchangePayment(models.Model):
    """Where in Odoo an AvidXchange payment lands: the bills it pays, its
    currency, the journal, outstanding account and payment method it is
    registered with, and its memo. Lookups only: what is posted, and when,
    is decided in ``avidxchange_payment.py``."""

    _inherit = "avidxchange.payment"

    def _match_bills(self, allocations):
        """``({allocation: bill}, [labels of allocations whose two ids name two
        different bills])``."""
        Link = self.env["avidxchange.invoice.link"].sudo()
        links = Link.search(
            [
                ("backend_id", "=", self.backend_id.id),
                "|",
                ("avidxchange_id", "in", [a.invoice_id for a in allocations if a.invoice_id]),
                (
                    "external_invoice_id",
                    "in",
                    [a.external_id for a in allocations if a.external_id],
                ),
            ]
        )
        by_id = {link.avidxchange_id: link.move_id for link in links}
        by_external_id = {link.external_invoice_id: link.move_id for link in links}
        found, conflicts = {}, []
        for allocation in allocations:
            by_theirs = by_id.get(allocation.invoice_id)
            by_ours = by_external_id.get(allocation.external_id)
            if by_theirs and by_ours and by_theirs != by_ours:
                conflicts.append(allocation.label)
            elif by_theirs or by_ours:
                found[allocation] = (by_theirs or by_ours).sudo(False)
        return found, conflicts

    def _find_currency(self, code):
        """Odoo's currency of ISO ``code``, active or not (empty when unknown)."""
        return (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )

    def _check_currency(self, currency, code, bills):
        """The payment's ``currency`` (found for ``code``) must be known,
        active, and the bills' own: nothing is converted, AvidXchange pays a
        bill in its currency."""
        if not currency:
            raise UserError(
                self.env._("AvidXchange paid in %s, a currency Odoo does not know.", code)
            )
        if not currency.active:
            raise UserError(
                self.env._(
                    "AvidXchange paid in %(code)s, but %(code)s is not active in Odoo: activate "
                    "it (Accounting > Configuration > Currencies), then Retry.",
                    code=code,
                )
            )
        for bill in bills.filtered(lambda bill: bill.currency_id != currency):
            raise UserError(
                self.env._(
                    "AvidXchange paid in %(paid)s, but bill %(bill)s is in %(bill_currency)s: "
                    "nothing registered. Check the payment in AvidXchange.",
                    paid=code,
                    bill=bill.name,
                    bill_currency=bill.currency_id.name,
                )
            )

    def _get_journal(self, report):
        """The journal and outstanding account of the first GL posting code
        mapped; else the connection's journal and clearing account (none: the
        payment method's, else the company's outstanding payments account),
        unless the connection requires the codes to be mapped."""
        backend = self.backend_id
        for group, code in report.gl_codes:
            mapping = backend.gl_mapping_ids.filtered(
                lambda m, group=group, code=code: m.code == code and m.group_name == group
            )[:1]
            if mapping:
                return mapping.journal_id or backend.journal_id, mapping.account_id
        if backend.require_gl_mapping:
            codes = ", ".join(f"{group} / {code}" for group, code in report.gl_codes)
            raise UserError(
                self.env._(
                    "AvidXchange posted this payment to GL posting code %s, which no mapping "
                    "of the connection names, and the connection requires one: map it "
                    "(connection, Accounting tab), then Retry.",
                    codes or self.env._("(none)"),
                )
            )
        if not backend.journal_id:
            raise UserError(self.env._("Set the payment journal of the AvidXchange connection."))
        return backend.journal_id, backend.clearing_account_id

    def _discount_account(self):
        """Where discounts AvidXchange takes are written off."""
        return self.company_id.account_journal_early_pay_discount_gain_account_id

    def _get_method_line(self, journal):
        mapping = self.backend_id.payment_method_mapping_ids.filtered(
            lambda m: (
                m.avidxchange_method == self.method
                and m.payment_method_line_id.journal_id == journal
            )
        )[:1]
        if mapping:
            return mapping.payment_method_line_id
        if self.backend_id.require_method_mapping:
            raise UserError(
                self.env._(
                    "AvidXchange paid by %(method)s, a method no mapping names for journal "
                    "%(journal)s, and the connection requires one: map it (connection, "
                    "Accounting tab), then Retry.",
                    method=const.PAYMENT_METHODS.get(self.method, self.method or "?"),
                    journal=journal.display_name,
                )
            )
        lines = journal.outbound_payment_method_line_ids
        line = lines.filtered(lambda line: line.code == "manual")[:1] or lines[:1]
        if not line:
            raise UserError(
                self.env._("Journal %s has no outgoing payment method.", journal.display_name)
            )
        return line

    def _memo(self):
        """E.g. "AvidXchange PAY-88 Check 100001" or "AvidXchange PAY-89 ACH trace 0910…"."""
        label = const.PAYMENT_METHODS.get(self.method, self.method or "")
        if self.check_number:
            number = self.check_number
        elif self.trace_number:
            number = self.env._("trace %s", self.trace_number)
        else:
            number = ""
        return " ".join(w for w in ("AvidXchange", self.payment_ref, label, number) if w)
