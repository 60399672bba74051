"""What a payment report means, without a database: the pure half of the
payment import (``tools/payment_report.py``, ``tools/payment_plan.py``)."""

import datetime
import json

from odoo.tests import BaseCase, tagged

from .. import const
from ..tools import payment_plan
from ..tools.payment_report import (
    Allocation,
    capped_text,
    parse_history_item,
    parse_report,
    report_text,
)

T0 = datetime.datetime(2026, 11, 24, 10)


def report(status="Issued", invoices=None, **extra):
    return parse_report(
        {
            "PaymentId": "PAY-1",
            "Status": {"Description": status},
            "PaymentMethod": {"Description": "Check"},
            "CheckNumber": "100001",
            "Amount": 90.0,
            "Currency": "USD",
            "LastModifiedDate": "2026-11-24T10:00:00Z",
            "PaymentDate": "2026-11-24",
            "Invoices": invoices
            or [{"Id": "INV-1", "Number": "BILL/1", "AmountPaid": 90.0, "Discount": 10.0}],
            **extra,
        }
    )


@tagged("post_install", "-at_install")
class TestPaymentPlan(BaseCase):
    # === DECIDE === #

    def test_what_a_report_calls_for(self):
        decide = payment_plan.decide
        self.assertEqual(decide(const.PAYMENT_PAID, False), payment_plan.REGISTER)
        self.assertEqual(decide(const.PAYMENT_CLEARED, False), payment_plan.REGISTER)
        self.assertEqual(decide(const.PAYMENT_PAID, True), payment_plan.CHECK)
        self.assertEqual(decide(const.PAYMENT_NOT_PAID_YET, True), payment_plan.CHECK)
        self.assertEqual(decide(const.PAYMENT_NOT_PAID_YET, False), payment_plan.WAIT)
        for live in (False, True):
            self.assertEqual(decide(const.PAYMENT_UNDONE, live), payment_plan.UNDO)

    def test_terms_changed(self):
        terms = report().terms()
        self.assertFalse(payment_plan.terms_changed(None, terms), "registered before terms")
        self.assertFalse(payment_plan.terms_changed(json.loads(json.dumps(terms)), terms))
        changed = {**terms, "amount": 80.0}
        self.assertTrue(payment_plan.terms_changed(changed, terms))

    def test_record_values(self):
        values = payment_plan.record_values(
            report(
                GLPostings=[{"GroupName": "GL", "EnterpriseCodeValue": "1000"}],
                Exceptions=[{"ReasonCode": {"Description": "Missing bank account"}}],
            )
        )
        self.assertEqual(values["status"], "Issued")
        self.assertEqual(values["status_category"], const.PAYMENT_PAID)
        self.assertEqual(values["amount"], 90.0)
        self.assertEqual(values["check_number"], "100001")
        self.assertEqual(values["payment_date"], datetime.date(2026, 11, 24))
        self.assertEqual(values["gl_posting_codes"], "1000")
        self.assertEqual(values["failure_reasons"], "Missing bank account")
        bare = payment_plan.record_values(report())
        self.assertEqual((bare["gl_posting_codes"], bare["failure_reasons"]), (False, False))

    def test_a_cleared_checks_image_is_wanted_once(self):
        cleared = report("Cleared", HasClearedCheckImages=True)
        self.assertTrue(payment_plan.wants_proof(cleared, False))
        self.assertFalse(payment_plan.wants_proof(cleared, True), "already attached")
        self.assertFalse(payment_plan.wants_proof(report("Cleared"), False), "no image")
        issued = report("Issued", HasClearedCheckImages=True)
        self.assertFalse(payment_plan.wants_proof(issued, False), "not cleared yet")

    # === PLAN === #

    def test_a_bill_comes_before_a_credit(self):
        credit = Allocation("C", None, None, -20.0, 0.0)
        bill = Allocation("B", None, None, 30.0, 5.0)
        self.assertEqual(payment_plan.bills_first([credit, bill]), [bill, credit])
        self.assertEqual(payment_plan.discount_of([credit, bill]), 5.0)

    def test_a_registration_on_a_bill_already_planned_waits(self):
        together, after = payment_plan.batch_order(
            [("a", [1, 2]), ("b", [3]), ("c", [2]), ("d", [4]), ("e", [3, 5])]
        )
        self.assertEqual(together, ["a", "b", "d"])
        self.assertEqual(after, ["c", "e"])

    # === WINDOW === #

    def test_where_the_read_starts(self):
        overlap = datetime.timedelta(minutes=const.PAYMENT_WINDOW_OVERLAP_MINUTES)
        skew = datetime.timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
        self.assertEqual(payment_plan.window_start(T0, None), T0 - overlap)
        self.assertEqual(payment_plan.window_start(False, T0), T0 - skew)
        self.assertEqual(
            payment_plan.window_end(T0), T0 + datetime.timedelta(days=const.MAX_WINDOW_DAYS)
        )

    def test_only_stamps_within_the_window_move_the_mark(self):
        def item(stamp):
            return {"PaymentId": "P", "LastModifiedDate": stamp}

        items = [
            item("2026-11-24T11:00:00Z"),
            item("2099-01-01T00:00:00Z"),  # a clock gone wrong
            item("not a stamp"),
            "not an object",
            item("2026-11-24T09:00:00Z"),  # before the window
        ]
        latest = T0 + datetime.timedelta(days=1)
        stamps = payment_plan.stamps_within(items, T0, latest)
        self.assertEqual(stamps, [T0 + datetime.timedelta(hours=1)])
        self.assertEqual(payment_plan.next_mark(False, stamps), stamps[0])
        self.assertEqual(payment_plan.next_mark(latest, stamps), latest, "never behind")
        self.assertFalse(payment_plan.next_mark(False, []))

    def test_a_window_is_past_once_past_on_any_clock(self):
        skew = datetime.timedelta(hours=const.MAX_CLOCK_SKEW_HOURS)
        self.assertTrue(payment_plan.is_past(T0, T0 + skew + datetime.timedelta(seconds=1)))
        self.assertFalse(payment_plan.is_past(T0, T0 + skew))

    # === STORE === #

    def test_a_report_is_kept_masked_and_capped(self):
        text = report_text({"PaymentId": "PAY-1", "BankAccountNumber": "123456789"})
        self.assertNotIn("123456789", text)
        self.assertEqual(json.loads(text)["PaymentId"], "PAY-1")
        long = "x" * (const.REPORT_MAX_CHARS + 10)
        self.assertEqual(capped_text(long), "x" * const.REPORT_MAX_CHARS + "\n…")

    def test_a_history_item(self):
        self.assertEqual(
            parse_history_item({"Status": " Cleared ", "Date": "2026-11-24T10:00:00Z"}),
            {"status": "Cleared", "date": T0, "note": False},
        )
        self.assertIsNone(parse_history_item({"Status": ""}))
        self.assertIsNone(parse_history_item(["Cleared"]))
        note = parse_history_item({"Status": "Void", "Note": "x" * 900, "Date": "yesterday"})
        self.assertEqual(len(note["note"]), const.PAYMENT_HISTORY_MAX_CHARS)
        self.assertIsNone(note["date"])
