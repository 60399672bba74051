"""AvidXchange's approvers see the bill's image; the bill opens in AvidXchange."""

import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import const
from .common import COMPANY_ID, AvidxchangeCase

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestBillImage(AvidxchangeCase):
    def bill_with_image(self, content=PDF, name="BILL-0042.pdf"):
        bill = self.bill(self.vendor(), 42.0, post=False)
        attachment = self.env["ir.attachment"].create(
            {"name": name, "raw": content, "res_model": "account.move", "res_id": bill.id}
        )
        bill.message_main_attachment_id = attachment
        bill.action_post()
        return bill

    def test_the_bills_pdf_goes_once(self):
        bill = self.bill_with_image()
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        [sent] = self.simulator.attachments(link.avidxchange_id)
        self.assertEqual(
            (sent["FileName"], sent["ContentType"]), ("BILL-0042.pdf", "application/pdf")
        )
        self.assertEqual(base64.b64decode(sent["Content"]), PDF)
        self.assertEqual(link.image_avidxchange_id, sent["Id"])
        # the trail keeps the file's size, not the file
        [logged] = self.exchanges(operation="bill", method="POST").filtered(
            lambda log: log.endpoint.endswith("/attachments")
        )
        self.assertIn("characters of base64", logged.request_body)
        self.assertNotIn(sent["Content"], logged.request_body)
        bill.narration = "touched"
        self.stream("bill").mark = False
        self.run_stream("bill")
        self.assertEqual(self.simulator.count("POST", "/invoices/*"), 1, "the image went once")

    def test_an_image_too_large_is_said_and_holds_nothing_back(self):
        bill = self.bill_with_image(b"0" * (const.MAX_ATTACHMENT_BYTES + 1), "scan.tiff")
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "synced")
        self.assertIn("AvidXchange takes files of 10 MB at most", link.image_error)
        self.assertIn("image was not sent", bill.message_ids[0].body)
        self.assertFalse(self.simulator.attachments(link.avidxchange_id))

    def test_an_image_refused_is_said_and_holds_nothing_back(self):
        bill = self.bill_with_image()
        # "/invoices/" is a prefix of the image's path, not of the bill's own POST
        self.simulator.fail_next(1, status=413, path="/invoices/", method="POST")
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.assertEqual(link.state, "synced")
        self.assertIn("413", link.image_error)
        self.assertFalse(link.image_avidxchange_id)
        self.assertIn("image was not sent", bill.message_ids[0].body)

    def test_open_in_avidxchange(self):
        bill = self.bill(self.vendor(), 10.0)
        self.run_stream("bill")
        action = bill.action_open_in_avidxchange()
        link = bill.avidxchange_link_ids
        self.assertEqual(action["url"], self.simulator.invoice_url(link.avidxchange_id))
        self.assertEqual(link.invoice_url, action["url"])
        bill.action_open_in_avidxchange()
        self.assertEqual(self.simulator.count("GET", f"/invoices/{link.avidxchange_id}"), 1, "kept")

    def test_a_script_for_an_address_is_refused(self):
        bill = self.bill(self.vendor(), 10.0)
        self.run_stream("bill")
        link = bill.avidxchange_link_ids
        self.simulator.answer_next(
            1,
            body={"Id": link.avidxchange_id, "InvoiceUrl": "javascript:alert(document.cookie)"},
            path=f"/invoices/{link.avidxchange_id}",
        )
        with self.assertRaisesRegex(UserError, "no usable address"):
            bill.action_open_in_avidxchange()
        self.assertFalse(link.invoice_url)
        self.assertEqual(len(self.simulator.invoices(COMPANY_ID)), 1)
