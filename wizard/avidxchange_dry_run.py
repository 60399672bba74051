from odoo import api, fields, models

from ..models.avidxchange_backend import DRY_RUN_PLAN
from ..tools.actions import form_action


class _RollBack(Exception):
    """Raised to undo everything the planned cycle did in Odoo; carries what
    it would send and post, read before the rollback."""


class AvidxchangeDryRun(models.TransientModel):
    """What the next cycle of a connection would send and post, before a
    person switches production on.

    The plan is the real run, not a second implementation of it: every stream
    runs one batch as the cron would, with clients that keep their writes
    instead of sending them (reads go to AvidXchange as usual) and answer them
    as AvidXchange would take them; what the run did in Odoo (links marked
    sent, payments registered) is read, then rolled back. Nothing is sent to
    AvidXchange, nothing stays posted in Odoo."""

    _name = "avidxchange.dry.run"
    _description = "AvidXchange Dry Run"

    backend_id = fields.Many2one("avidxchange.backend", string="Connection", required=True)
    planned_at = fields.Datetime(readonly=True)
    send_ids = fields.One2many("avidxchange.dry.run.send", "wizard_id", readonly=True)
    post_ids = fields.One2many("avidxchange.dry.run.post", "wizard_id", readonly=True)
    failures = fields.Text(readonly=True, help="Streams that would stop, and why.")

    @api.depends("backend_id")
    def _compute_display_name(self):
        for wizard in self:
            wizard.display_name = self.env._(
                "%(connection)s: dry run", connection=wizard.backend_id.name or ""
            )

    def action_plan(self):
        self.ensure_one()
        backend = self.backend_id
        backend._check_admin_access()
        sends, posts, failures = self._plan(backend.with_company(backend.company_id))
        self.write(
            {
                "planned_at": fields.Datetime.now(),
                "send_ids": [fields.Command.clear()] + [fields.Command.create(v) for v in sends],
                "post_ids": [fields.Command.clear()] + [fields.Command.create(v) for v in posts],
                "failures": "\n".join(failures) or False,
            }
        )
        return form_action(self)

    def _plan(self, backend):
        """Run one batch of every stream in a savepoint that is rolled back;
        returns what it would send, what it would post, and what would fail,
        as plain values (the records themselves are gone with the rollback)."""
        planned, posts, failures = [], [], []
        Payment = self.env["account.payment"].sudo()
        last_payment = Payment.search([], order="id desc", limit=1).id or 0
        cache = self.env.cr.cache
        cache[DRY_RUN_PLAN] = planned
        try:
            with self.env.cr.savepoint():
                user = backend._sync_user()
                kinds = dict(backend.stream_ids._fields["kind"]._description_selection(self.env))
                for stream in backend.stream_ids.with_user(user):
                    label = kinds[stream.kind]
                    try:
                        with self.env.cr.savepoint():
                            stream._run_batch()
                    except Exception as error:  # noqa: BLE001 - said as the plan's outcome
                        failures.append(f"{label}: {error}")
                        continue
                    if stream.sudo().failure_count:
                        failures.append(f"{label}: {stream.sudo().last_error}")
                self.env.flush_all()
                made = Payment.search([("id", ">", last_payment)])
                posts = [self._post_values(payment) for payment in made]
                raise _RollBack([self._send_values(request) for request in planned], posts)
        except _RollBack as plan:
            sends, posts = plan.args
        finally:
            cache.pop(DRY_RUN_PLAN, None)
        self.env.invalidate_all()
        return sends, posts, failures

    def _send_values(self, request):
        record = request.record
        return {
            "operation": request.operation,
            "method": request.method,
            "path": request.path,
            "record_name": record.display_name if isinstance(record, models.BaseModel) else False,
            "body": request.body,
        }

    def _post_values(self, payment):
        report = payment.avidxchange_payment_id
        bills = report.bill_ids
        write_off = sum(
            abs(line.balance)
            for line in payment.move_id.line_ids
            if line.account_id
            not in (payment.destination_account_id, payment.outstanding_account_id)
        )
        return {
            "payment_ref": report.payment_ref,
            "partner_name": payment.partner_id.display_name,
            "amount": payment.amount,
            "currency_code": payment.currency_id.name,
            "bill_names": ", ".join(bills.mapped("display_name")),
            "write_off": write_off,
            "journal_name": payment.journal_id.display_name,
        }


class AvidxchangeDryRunSend(models.TransientModel):
    _name = "avidxchange.dry.run.send"
    _description = "AvidXchange Dry Run: a request it would send"
    _order = "id"

    wizard_id = fields.Many2one("avidxchange.dry.run", required=True, ondelete="cascade")
    operation = fields.Char()
    method = fields.Char()
    path = fields.Char(string="Request")
    record_name = fields.Char(string="Record")
    body = fields.Text(help="The body it would send: secrets masked, files by their size.")


class AvidxchangeDryRunPost(models.TransientModel):
    _name = "avidxchange.dry.run.post"
    _description = "AvidXchange Dry Run: a payment it would register"
    _order = "id"

    wizard_id = fields.Many2one("avidxchange.dry.run", required=True, ondelete="cascade")
    payment_ref = fields.Char(string="AvidXchange Payment")
    partner_name = fields.Char(string="Vendor")
    amount = fields.Float(digits=(16, 2))
    currency_code = fields.Char(string="Currency")
    bill_names = fields.Char(string="Bills")
    write_off = fields.Float(string="Discounts and Write-offs", digits=(16, 2))
    journal_name = fields.Char(string="Journal")
