"""Smoke test of the simulator over real HTTP: ``python -m simulator.selfcheck``.

Needs ``requests`` (the client library the module uses). Exits non-zero on the first
failed check, so it can gate a commit; it is not a substitute for the module's tests.
"""

import sys
import time

import requests

from .server import AvidSimulator

CLIENT, SECRET, COMPANY = "selfcheck", "s3cret", "AVX-1"


def check(label, condition):
    sys.stdout.write(f"{'ok  ' if condition else 'FAIL'} {label}\n")
    if not condition:
        raise SystemExit(1)


def token(session, sim, secret=SECRET, grant="client_credentials"):
    return session.post(sim.token_url, auth=(CLIENT, secret), data={"grant_type": grant})


def invoice(number, amount, vendor="V-1"):
    return {
        "ExternalInvoiceId": f"EXT-{number}",
        "Number": f"INV-{number}",
        "InvoiceDate": "2026-11-20",
        "GrossAmount": amount,
        "Currency": "USD",
        "BuyerVendor": {"VendorExternalSystemID": vendor},
        "Distributions": [{"Amount": amount, "Description": "Goods"}],
    }


def run(sim):
    http = requests.Session()
    check("bad secret -> 401", token(http, sim, secret="nope").status_code == 401)
    check("bad grant -> 400", token(http, sim, grant="password").status_code == 400)
    answer = token(http, sim)
    check("token 200", answer.status_code == 200 and answer.json()["token_type"] == "Bearer")
    auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    http.headers.update({**auth, "X-Avid-Company-Id": COMPANY, "Accept": "application/json"})
    api = sim.api_url

    check("ping", http.get(f"{api}/ping").json()["CompanyId"] == COMPANY)
    check("no token -> 401", requests.get(f"{api}/ping", timeout=10).status_code == 401)
    other = http.get(f"{api}/ping", headers={"X-Avid-Company-Id": "OTHER"})
    check("foreign company -> 403", other.status_code == 403)
    check("unknown param -> 400", http.get(f"{api}/payments?foo=1").status_code == 400)
    check("unknown path -> 404", http.get(f"{api}/nothing").status_code == 404)

    vendor = {"ExternalVendorCode": "V-1", "Name": "Acme", "Address": {"Line1": "1 Main"}}
    first = http.put(f"{api}/vendors/V-1", json=vendor)
    again = http.put(f"{api}/vendors/V-1", json=vendor)
    check("vendor 201 then 200", (first.status_code, again.status_code) == (201, 200))
    check(
        "vendor unchanged date",
        first.json()["LastModifiedDate"] == again.json()["LastModifiedDate"],
    )
    bad = http.put(f"{api}/vendors/V-1", json={**vendor, "Email": ""})
    check("vendor empty optional -> 422", bad.status_code == 422 and "Email" in bad.text)

    codes = [{"GroupName": "Accounting Codes", "CodeValue": "600000"}, {"GroupName": "Location"}]
    results = http.put(f"{api}/enterpriseCodes", json=codes).json()["Results"]
    check("codes: per-item result", [r["Successful"] for r in results] == [True, False])

    created = http.post(f"{api}/invoices", json=invoice(1, 100.0))
    check("invoice 201", created.status_code == 201 and created.json()["Status"] == "Received")
    duplicate = http.post(f"{api}/invoices", json=invoice(1, 100.0))
    check("invoice 409 with item", duplicate.status_code == 409 and duplicate.json()["Item"])
    check(
        "unknown vendor 422",
        http.post(f"{api}/invoices", json=invoice(2, 5, "X")).status_code == 422,
    )
    uneven = {**invoice(3, 10.0), "GrossAmount": 11.0}
    check("sum mismatch 422", http.post(f"{api}/invoices", json=uneven).status_code == 422)
    as_text = {**invoice(4, 10.0), "GrossAmount": "10.00"}
    check("string money 422", http.post(f"{api}/invoices", json=as_text).status_code == 422)

    invoice_id = created.json()["Id"]
    sim.approve_invoice(invoice_id)
    partial = sim.pay([{"invoice_id": invoice_id, "amount": 40.0}], method="ACH")
    check("partial keeps balance", sim.get_invoice(invoice_id)["Balance"] == 60.0)
    sim.pay([{"invoice_id": invoice_id, "amount": 58.0, "discount": 2.0}])
    check("paid in full", sim.get_invoice(invoice_id)["Status"] == "Paid")
    sim.void_payment(partial["PaymentId"])
    check("void restores balance", sim.get_invoice(invoice_id)["Balance"] == 40.0)

    for number in range(10, 17):
        inv_id = http.post(f"{api}/invoices", json=invoice(number, 10.0)).json()["Id"]
        sim.pay([{"invoice_id": inv_id, "amount": 10.0}])
    url, seen = f"{api}/payments?pageSize=3&lastModifiedFrom=2000-01-01T00:00:00Z", []
    while url:
        page = http.get(url).json()
        seen += [p["PaymentId"] for p in page["Items"]]
        url = next(
            (link["Href"] for link in page["Paging"]["Links"] if link["Rel"] == "next"), None
        )
    check("paging over 3 pages", len(seen) == 9 == len(set(seen)) and page["Paging"]["Pages"] == 3)

    sim.fail_next(status=429, retry_after=2, path="/payments")
    throttled = http.get(f"{api}/payments")
    check(
        "429 + Retry-After",
        throttled.status_code == 429 and throttled.headers["Retry-After"] == "2",
    )
    sim.fail_next(status=503)
    check("503", http.get(f"{api}/ping").status_code == 503)
    sim.slow_next(seconds=0.3)
    started = time.monotonic()
    check("slow", http.get(f"{api}/ping").ok and time.monotonic() - started >= 0.3)
    sim.drop_next()
    try:
        http.get(f"{api}/ping")
        check("drop", False)
    except requests.ConnectionError:
        check("drop", True)
    sim.malformed_next()
    try:
        http.get(f"{api}/payments").json()
        check("malformed", False)
    except ValueError:
        check("malformed", True)
    sim.expire_tokens()
    check("expired token -> 401", http.get(f"{api}/ping").status_code == 401)
    sim.reject_credentials(True)
    check("reject credentials", token(http, sim).status_code == 401)
    sim.clear_faults()
    sim.set_token_ttl(1)
    http.headers["Authorization"] = f"Bearer {token(http, sim).json()['access_token']}"
    time.sleep(1.1)
    check("short ttl -> 401", http.get(f"{api}/ping").status_code == 401)

    logged = sim.requests()
    check("log has no secrets", SECRET not in str(logged) and "Bearer" not in str(logged))
    check("count with prefix", sim.count("GET", "/payments*") >= 5)
    admin = requests.post(f"{sim.base_url}/_sim/reset", json={}, timeout=10)
    check("admin reset", admin.ok and sim.payments() == [])


def main():
    with AvidSimulator(client_id=CLIENT, client_secret=SECRET, company_id=COMPANY) as sim:
        run(sim)
    sys.stdout.write("selfcheck passed\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
