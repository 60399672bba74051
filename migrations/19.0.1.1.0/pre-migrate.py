"""19.0.1.0.0 → 19.0.1.1.0, before the models load: a bill's AvidXchange state
becomes a stored field. Filling its columns here, from the links, spares Odoo
computing them for every journal entry of the database."""

from odoo.tools.sql import column_exists, create_column


def migrate(cr, version):
    if not version:
        return
    for column in ("avidxchange_state", "avidxchange_status"):
        if not column_exists(cr, "account_move", column):
            create_column(cr, "account_move", column, "varchar")
    cr.execute(
        """
        UPDATE account_move move
           SET avidxchange_state = link.state,
               avidxchange_status = link.avidxchange_status
          FROM avidxchange_invoice_link link
         WHERE link.move_id = move.id
        """
    )
