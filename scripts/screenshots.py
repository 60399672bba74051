"""Screenshots of the running demo, as a person sees it, for the Apps page and
for a look before a change lands: run it with the virtualenv's Python against
a running demo (scripts/demo.sh).

Logs in as ``admin`` over JSON-RPC, hands the session cookie to a headless
Chromium through the DevTools protocol, opens each page and saves a PNG.

    python scripts/screenshots.py http://localhost:8069 avidxchange_demo out/ \\
        overview=/odoo/action-account_avidxchange.avidxchange_overview_action ...
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import requests
import websocket


def login(base, db):
    session = requests.Session()
    answer = session.post(
        f"{base}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}},
        timeout=30,
    )
    answer.raise_for_status()
    return session.cookies["session_id"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("no Chromium in PATH")


class Page:
    def __init__(self, port):
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = 0

    def call(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.ids:
                return message.get("result", {})


def main(base, db, out, pages):
    cookie = login(base, db)
    profile = tempfile.mkdtemp()
    port = 9229
    browser = subprocess.Popen(
        [
            chromium(),
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-allow-origins=*",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1440,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                page = Page(port)
                break
            except OSError:
                time.sleep(0.2)
        page.call("Network.enable")
        host = base.split("//", 1)[1].split(":")[0]
        page.call("Network.setCookie", name="session_id", value=cookie, domain=host, path="/")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        for spec in pages:
            name, path = spec.split("=", 1)
            page.call("Page.navigate", url=base + path)
            time.sleep(12)  # the web client loads, then the action renders
            shot = page.call("Page.captureScreenshot", format="png")
            with open(f"{out}/{name}.png", "wb") as file:
                file.write(base64.b64decode(shot["data"]))
            print(f"screenshot: {out}/{name}.png")
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
