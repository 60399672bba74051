"""Files the simulated AvidXchange hands out, small but real enough to open.

A cleared check's image is a one-page PDF that names the check: a client that stores
or shows it gets a document a PDF reader accepts (a valid cross-reference table), not
a placeholder string.
"""

PDF_MEDIA_TYPE = "application/pdf"


def _pdf_text(value):
    """A PDF string literal's content: backslash and parentheses escaped."""
    text = str(value).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return text.encode("latin-1", "replace")


def _pdf(lines):
    """A one-page PDF (Helvetica, US Letter) showing ``lines`` top down."""
    shown = b" ".join(b"(" + _pdf_text(line) + b") Tj T*" for line in lines)
    stream = b"BT /F1 14 Tf 72 720 Td 20 TL " + shown + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    document = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    document += b"startxref\n%d\n%%%%EOF\n" % xref
    return document


def check_image_pdf(payment):
    """The image of the cleared check that paid ``payment`` (a stored payment)."""
    return _pdf(
        [
            "AvidXchange - cleared check image (simulated)",
            f"Check number: {payment['CheckNumber']}",
            f"Payment: {payment['PaymentId']}",
            f"Amount: {payment['Amount']:.2f} {payment['Currency']}",
            f"Payment date: {payment['PaymentDate']}",
            f"Cleared date: {payment['ClearedDate']}",
        ]
    )


def invoice_image_pdf(invoice):
    """The scanned image of an invoice captured in AvidXchange (a stored invoice)."""
    vendor = invoice["BuyerVendor"]
    return _pdf(
        [
            "AvidXchange - captured invoice image (simulated)",
            f"Vendor: {vendor['VendorName']}",
            f"{invoice['InvoiceType']} {invoice['Number']} of {invoice['InvoiceDate']}",
            f"Amount: {invoice['GrossAmount']:.2f} {invoice['Currency']}",
            f"PO number: {invoice.get('PONumber') or '-'}",
        ]
    )
