"""Sample data for the demo, run by scripts/demo.sh through ``odoo-bin shell``.

Idempotent: connects the demo company to the local simulator, marks a few
vendors for AvidXchange and posts a few vendor bills (one from a purchase
order, one split between two departments with its PDF) and a credit note,
once; and has the simulator capture an invoice with its PDF and close it in a
batch for Odoo (bills start in Odoo and in AvidXchange). ``env`` is given by
the Odoo shell; the simulator's address and credentials come from the
environment scripts/demo.sh sets.
"""

from avx_shell import allow_simulator, bank_journal, bill_values, connection_values, sim

from odoo import Command, fields

env = env  # noqa: F821, PLW0127 - provided by odoo-bin shell
company = env.ref("base.main_company")
Backend = env["avidxchange.backend"].with_company(company)

backend = Backend.search([("company_id", "=", company.id)], limit=1)
allow_simulator(env, "127.0.0.1,localhost")
# this run's simulator's secret (a changed URL forgets the stored one anyway); odoo-bin
# shell runs as OdooBot, whom nobody reads: alerts go to the admin
values = connection_values(
    "AvidXchange (local simulator)", responsible_user_id=env.ref("base.user_admin").id
)
if not backend:
    values["journal_id"] = bank_journal(env, company).id
    backend = Backend.create(values)
else:
    # An active connection's credentials change only after a test (Change
    # Credentials); this run's simulator is new: set up again, activated below.
    if backend.state == "active":
        backend.action_deactivate()
    backend.write(values)
backend.stream_ids.interval = 1  # every stream runs each minute in the demo

VENDORS = [
    ("Acme Steel", "ap@acme.example", "1 Main St", "Charlotte", "28202"),
    ("Blue Ridge Freight", "billing@blueridge.example", "20 Depot Rd", "Asheville", "28801"),
    ("Carolina Paper Supply", "invoices@carolinapaper.example", "7 Mill Ln", "Raleigh", "27601"),
]
us = env.ref("base.us")
Partner = env["res.partner"].with_company(company)
vendors = Partner
for name, email, street, city, zip_code in VENDORS:
    vendor = Partner.search([("name", "=", name)], limit=1) or Partner.create(
        {
            "name": name,
            "is_company": True,
            "email": email,
            "street": street,
            "city": city,
            "zip": zip_code,
            "country_id": us.id,
        }
    )
    vendor.avidxchange_enabled = True
    vendors |= vendor

# Departments, as AvidXchange's approvers will see them (enterprise codes).
Plan = env["account.analytic.plan"]
department = Plan.search([("name", "=", "Department")], limit=1) or Plan.create(
    {"name": "Department"}
)
Analytic = env["account.analytic.account"].with_company(company)
operations, sales = (
    Analytic.search([("code", "=", code)], limit=1)
    or Analytic.create({"name": name, "code": code, "plan_id": department.id})
    for name, code in (("Operations", "OPS"), ("Sales", "SAL"))
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

Move = env["account.move"].with_company(company)
if not Move.search_count([("partner_id", "in", vendors.ids), ("move_type", "=", "in_invoice")]):
    today = fields.Date.today()
    for number, (vendor, amount) in enumerate(
        zip(vendors, (1250.0, 380.0, 96.5), strict=True), start=1
    ):
        bill = Move.create(
            bill_values(
                vendor, f"DEMO-{number:04d}", ("Demo purchase", 1, amount), invoice_date=today
            )
        )
        if number == 1:  # split between departments, with the vendor's PDF
            bill.invoice_line_ids.analytic_distribution = {
                str(operations.id): 60.0,
                str(sales.id): 40.0,
            }
            bill.message_main_attachment_id = env["ir.attachment"].create(
                {
                    "name": "DEMO-0001.pdf",
                    "raw": PDF,
                    "res_model": "account.move",
                    "res_id": bill.id,
                }
            )
        bill.action_post()
    # A credit from Acme Steel: AvidXchange takes it off Acme's next payment.
    credit = Move.create(
        {
            "move_type": "in_refund",
            "partner_id": vendors[0].id,
            "ref": "DEMO-CREDIT-0001",
            "invoice_date": today,
            "invoice_line_ids": [
                Command.create(
                    {"name": "Damaged plates returned", "price_unit": 50.0, "tax_ids": []}
                )
            ],
        }
    )
    credit.action_post()
    product = env["product.product"].search([("default_code", "=", "DEMO-STEEL")], limit=1)
    product = product or env["product.product"].create(
        {"name": "Steel plate", "default_code": "DEMO-STEEL", "purchase_method": "purchase"}
    )
    if product:
        order = (
            env["purchase.order"]
            .with_company(company)
            .create(
                {
                    "partner_id": vendors[0].id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "product_qty": 10,
                                "price_unit": 42.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        order.button_confirm()
        order.action_create_invoice()
        order.invoice_ids.write({"invoice_date": today, "ref": "DEMO-PO-0001"})
        order.invoice_ids.action_post()

if backend.state != "active":
    backend.action_activate()

# Bills start in Odoo and in AvidXchange: an invoice Blue Ridge Freight sent to
# AvidXchange, captured there with its PDF, coded and approved, is closed in a
# batch for Odoo; the next run makes it a posted bill with its image (the
# vendor found by its tax id), and the simulator then pays it.
freight = vendors[1]
freight.vat = freight.vat or "56-1234567"
backend.write(
    {"bills_origin": "both", "accounting_system_name": "Odoo", "captured_bill_state": "posted"}
)
expense = env["account.account"].search(
    [("company_ids", "in", company.id), ("account_type", "=", "expense")], limit=1
)
if not sim("batches"):
    captured = sim(
        "capture_invoice",
        {
            "number": "BRF-2026-118",
            "vendor": {"VendorName": freight.name, "FedTaxId": "561234567"},
            "amount": 640.0,
            "image": True,
            "memo": "Freight, November",
            "distributions": [
                {
                    "Amount": 640.0,
                    "Description": "Freight, Charlotte to Asheville",
                    "Quantity": 4,
                    "EnterpriseCodes": [
                        {"GroupName": "Accounting Codes", "EnterpriseCodeValue": expense.code},
                        {"GroupName": "Department", "EnterpriseCodeValue": "OPS"},
                    ],
                }
            ],
        },
    )
    sim("close_batch", {"invoice_ids": [captured]})
env.cr.commit()
print(f"demo: {backend.name} is {backend.state}; {len(vendors)} vendors marked")
