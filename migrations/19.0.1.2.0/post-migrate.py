"""19.0.1.1.0 → 19.0.1.2.0, after the models load: exported bills remember
what AvidXchange was sent, so that a change made later shows ("changed since
export").

Bills exported before this version are taken as unchanged since: their
amount, date and vendor are what AvidXchange was sent. Their external ids
(without the database's identity) are kept: AvidXchange knows them.
"""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            """
            UPDATE avidxchange_invoice_link link
               SET exported_amount = move.amount_total,
                   exported_date = move.invoice_date,
                   exported_partner_id = partner.commercial_partner_id
              FROM account_move move
              JOIN res_partner partner ON partner.id = move.partner_id
             WHERE link.move_id = move.id
               AND link.state = 'synced'
               AND link.exported_partner_id IS NULL
            """
        )
    )
