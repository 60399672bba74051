"""Latency: every request answered after a fixed delay plus a jitter drawn per request,
as AvidXchange's gateway answers in 100-500 ms (Python API, ``/_sim`` and command line)."""

import time

import requests

from ..__main__ import _parser
from .common import ApiCase, get_token


class TestSimulatorLatency(ApiCase):
    def timed(self, call):
        started = time.monotonic()
        answer = call()
        return answer, time.monotonic() - started

    def test_none_by_default(self):
        _answer, elapsed = self.timed(lambda: self.api.get("/ping"))
        self.assertLess(elapsed, 0.08)

    def test_fixed_plus_jitter_per_request(self):
        self.simulator.set_latency(100, jitter_ms=50)
        durations = []
        for _ in range(4):
            answer, elapsed = self.timed(lambda: self.api.get("/ping"))
            self.assertEqual(answer.status_code, 200)
            durations.append(elapsed)
        self.assertGreaterEqual(min(durations), 0.1)
        self.assertLess(max(durations), 0.4)
        # the token endpoint is AvidXchange's too
        _answer, elapsed = self.timed(lambda: get_token(self.simulator.base_url))
        self.assertGreaterEqual(elapsed, 0.1)

    def test_admin_api_is_never_slowed_and_sets_it(self):
        url = f"{self.simulator.base_url}/_sim/set_latency"
        answer = requests.post(url, json={"latency_ms": 150, "jitter_ms": 0}, timeout=10)
        self.assertEqual(answer.status_code, 200, answer.text)
        _answer, elapsed = self.timed(
            lambda: requests.get(f"{self.simulator.base_url}/_sim/count", timeout=10)
        )
        self.assertLess(elapsed, 0.1)
        _answer, elapsed = self.timed(lambda: self.api.get("/ping"))
        self.assertGreaterEqual(elapsed, 0.15)
        refused = requests.post(url, json={"latency_ms": -1}, timeout=10)
        self.assertEqual(refused.status_code, 400)

    def test_reset_restores_the_latency_it_started_with(self):
        self.simulator.set_latency(200)
        self.simulator.reset()
        _answer, elapsed = self.timed(lambda: self.api.get("/ping"))
        self.assertLess(elapsed, 0.15)

    def test_command_line_options(self):
        options = vars(_parser().parse_args(["--latency-ms", "100", "--jitter-ms", "20"]))
        self.assertEqual((options["latency_ms"], options["jitter_ms"]), (100, 20))
