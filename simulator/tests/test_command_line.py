"""``python -m simulator``: serves in the foreground, stops cleanly on SIGTERM."""

import pathlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import unittest

from .common import get_token

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class TestSimulatorCommandLine(unittest.TestCase):
    """``python -m simulator`` serves in the foreground and stops cleanly on SIGTERM."""

    def start(self, *args):
        process = subprocess.Popen(
            [sys.executable, "-m", "simulator", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = queue.Queue()

        def pump():
            for line in process.stdout:
                lines.put(line)
            lines.put(None)  # end of output

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()

        def reap():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            reader.join(timeout=10)
            process.stdout.close()

        self.addCleanup(reap)
        return process, lines

    @staticmethod
    def next_line(lines, timeout=10):
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def test_serves_until_sigterm(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        process, lines = self.start("--port", str(port), "--client-secret", "cli-secret")
        self.assertEqual(self.next_line(lines), f"AvidXchange simulator on {base_url}\n")
        answer = get_token(base_url, client_id="odoo-demo", secret="cli-secret")
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.json()["token_type"], "Bearer")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=10), 0)
        rest = list(iter(lambda: self.next_line(lines), None))
        expected = [
            f"  token URL  {base_url}/token\n",
            f"  API URL    {base_url}/avidconnect/v1\n",
            "  client id  odoo-demo   company id  AVX-DEMO\n",
            "AvidXchange simulator stopped\n",
        ]
        self.assertEqual(rest, expected)
