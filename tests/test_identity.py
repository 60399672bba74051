"""One AvidXchange company may hear from two databases (a staging copy wired to
production, a migration): their vendors and bills never meet, a 409 is
adopted only when it is our bill, and an answer lost or garbled on the way
back is confirmed on the next run."""

from odoo.tests import tagged

from .common import COMPANY_ID, AvidxchangeCase


@tagged("post_install", "-at_install")
class TestIdentity(AvidxchangeCase):
    def as_another_database(self):
        """What a second database shows: the same company and record ids,
        another ``database.uuid``, no links yet, a connection set up there."""
        self.env["avidxchange.invoice.link"].search([]).unlink()
        self.env["avidxchange.partner.link"].search([]).unlink()
        self.env["ir.config_parameter"].set_param(
            "database.uuid", "0f0f0f0f-1111-2222-3333-444444444444"
        )
        self.backend.sudo().write({"identity_database_uuid": False, "external_id_prefix": False})
        self.backend._note_database_identity()

    def sent_again_changed(self, bill, **changes):
        """Export ``bill``, change it, and send it again under the same
        external id, as two databases of one uuid (a restored dump) would;
        returns AvidXchange's id of the first invoice."""
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        external_id, theirs = link.external_invoice_id, link.avidxchange_id
        link.unlink()
        bill.button_draft()
        price_unit = changes.pop("price_unit", None)
        bill.write(changes)
        if price_unit is not None:
            bill.invoice_line_ids.price_unit = price_unit
        bill.action_post()
        self.env["avidxchange.invoice.link"].create(
            {"backend_id": self.backend.id, "move_id": bill.id, "external_invoice_id": external_id}
        )
        self.run_stream("bill")
        return theirs

    def test_external_ids_carry_the_database(self):
        bill = self.bill(self.vendor(), 10.0)
        self.run_stream("bill")
        database = self.env["ir.config_parameter"].get_param("database.uuid").replace("-", "")[:8]
        company, move = self.env.company.id, bill.id
        partner = bill.partner_id.id
        link = bill.avidxchange_link_ids
        self.assertEqual(link.external_invoice_id, f"ODOO-{database}-{company}-{move}")
        vendor_link = self.env["avidxchange.partner.link"].search([("partner_id", "=", partner)])
        self.assertEqual(vendor_link.external_code, f"ODOO-{database}-{company}-{partner}")

    def test_two_databases_on_one_company_stay_apart(self):
        vendor = self.vendor()
        bill = self.bill(vendor, 111.11)
        self.run_stream("bill")
        self.as_another_database()
        bill.button_draft()
        bill.invoice_line_ids.price_unit = 222.22
        bill.action_post()
        self.run_stream("bill")
        self.assertEqual(bill.avidxchange_state, "synced", bill.avidxchange_error)
        self.assertEqual(len(self.simulator.vendors(COMPANY_ID)), 2, "neither overwrote")
        invoices = self.simulator.invoices(COMPANY_ID)
        self.assertEqual(sorted(i["GrossAmount"] for i in invoices), [111.11, 222.22])
        remote = self.simulator.get_invoice(bill.avidxchange_invoice_id)
        self.assertEqual(remote["GrossAmount"], 222.22)

    def test_a_conflict_is_adopted_only_when_it_is_our_bill(self):
        """Same external id, another bill: AvidXchange has 111.11 under the
        id this bill of 222.22 goes by. Never adopt it."""
        bill = self.bill(self.vendor(), 111.11)
        theirs = self.sent_again_changed(bill, price_unit=222.22)
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "error")
        self.assertFalse(link.avidxchange_id)
        self.assertIn(theirs, link.error_message)
        self.assertIn("111.11", link.error_message)
        self.assertIn("222.22", link.error_message)
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)

    def test_a_conflict_that_is_our_bill_is_adopted(self):
        bill = self.bill(self.vendor(), 75.0)
        self.simulator.drop_next(1, path="/invoices", method="POST", processed=True)
        with self.assertLogs("urllib3.connectionpool", "WARNING"):  # sent again at once
            self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(self.simulator.count("POST", "/invoices"), 2)
        self.assertEqual(bill.avidxchange_state, "synced", bill.avidxchange_error)
        [remote] = self.simulator.invoices(COMPANY_ID)
        self.assertEqual(bill.avidxchange_invoice_id, remote["Id"])

    def test_a_garbled_answer_is_confirmed_on_the_next_run(self):
        """AvidXchange took the bill and answered 200 with nonsense: the bill
        is not left in error; the next run submits again and the 409 names it."""
        bill = self.bill(self.vendor(), 80.0)
        self.simulator.malformed_next(1, path="/invoices", method="POST", processed=True)
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "pending")
        self.assertTrue(link.error_message)
        self.assertEqual(self.run_stream("bill"), (1, 0))
        self.assertEqual(link.state, "synced")
        [remote] = self.simulator.invoices(COMPANY_ID)
        self.assertEqual(link.avidxchange_id, remote["Id"])
        self.assertIn("already had this bill", bill.message_ids[0].body)

    def test_a_conflict_in_another_currency_is_not_adopted(self):
        """Same id, same amount, same vendor, another currency: not this bill."""
        bill = self.bill(self.vendor(), 100.0)
        eur = self.env.ref("base.EUR")
        eur.active = True
        theirs = self.sent_again_changed(bill, currency_id=eur.id)
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "error")
        self.assertIn(theirs, link.error_message)
        self.assertIn("EUR", link.error_message)
