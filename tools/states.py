"""Selections that several models share, kept out of the models so that any
model can use them without importing a sibling model."""

from .. import const

# AvidXchange's environments (tools/hosts.py has their URLs).
ENVIRONMENTS = [("sandbox", "Sandbox"), ("production", "Production")]

# The send state of a record that goes to AvidXchange (vendors, GL codes,
# purchase orders, bills).
LINK_STATES = [
    ("pending", "Waiting"),
    ("synced", "Sent"),
    ("error", "Error"),
]

# A sent bill's status in AvidXchange's approval workflow.
# Stored in the contract's words, shown in an AP clerk's.
INVOICE_STATUS_LABELS = {"PendingApproval": "Pending approval"}
INVOICE_STATUSES = [
    (status, INVOICE_STATUS_LABELS.get(status, status)) for status in const.INVOICE_STATUSES
]

# A vendor bill's one AvidXchange status, sending and approval merged: what AP
# filters and groups bills by.
BILL_SYNC_STATUSES = [
    ("not_in_scope", "Not in scope"),
    ("waiting", "Waiting"),
    ("sent", "Sent"),
    ("pending_approval", "Pending approval"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("scheduled", "Scheduled"),
    ("paid", "Paid"),
    ("void", "Void"),
    ("error", "Error"),
    ("changed", "Changed after sending"),
]
# The bill statuses of a bill AvidXchange has and has yet to pay.
BILL_STATUSES_IN_AVIDXCHANGE = ("sent", "pending_approval", "approved", "scheduled")
# AvidXchange's invoice status (the contract's words) as the bill's status.
BILL_STATUS_OF_INVOICE = {
    "Received": "sent",
    "PendingApproval": "pending_approval",
    "Approved": "approved",
    "Rejected": "rejected",
    "Scheduled": "scheduled",
    "Paid": "paid",
    "Void": "void",
}
