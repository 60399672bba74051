"""19.0.1.0.0 → 19.0.1.1.0, before the models load.

- A bill's AvidXchange state becomes a stored field. Filling its columns here,
  from the links, spares Odoo computing them for every journal entry.
- A payment's status becomes the text AvidXchange sends (it has more values
  than the old selection knew): the old selection's values go, or Odoo, which
  cleans the values of a selection when it changes, trips on a field that is
  no selection any more."""

from odoo.tools.sql import column_exists, create_column


def migrate(cr, version):
    if not version:
        return
    for column in ("avidxchange_state", "avidxchange_status"):
        if not column_exists(cr, "account_move", column):
            create_column(cr, "account_move", column, "varchar")
    cr.execute(
        """
        DELETE FROM ir_model_fields_selection
         WHERE field_id IN (SELECT id FROM ir_model_fields
                             WHERE model = 'avidxchange.payment' AND name = 'status')
        """
    )
    cr.execute(
        """
        UPDATE account_move move
           SET avidxchange_state = link.state,
               avidxchange_status = link.avidxchange_status
          FROM avidxchange_invoice_link link
         WHERE link.move_id = move.id
        """
    )
