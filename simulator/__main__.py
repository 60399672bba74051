"""Run the simulator in the foreground: ``python -m simulator --port 8079``.

Meant for demos and manual testing: point the Odoo backend's base URL at the printed
address and use the printed client id, company id and the secret you passed.
"""

import argparse
import logging
import signal
import sys
import threading

from .server import AvidSimulator


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m simulator", description="Local AvidXchange API simulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8079)
    parser.add_argument("--client-id", default="odoo-demo")
    parser.add_argument("--client-secret", default="odoo-demo-secret")
    parser.add_argument("--company-id", default="AVX-DEMO")
    parser.add_argument("--company-name", default="AvidXchange Demo Company")
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime (s)")
    parser.add_argument(
        "--auto-advance",
        type=float,
        default=None,
        metavar="SECONDS",
        help="approve Received invoices, then pay Approved ones, after SECONDS each",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="answer every request after this many ms"
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=0, help="plus up to this many ms, drawn per request"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv=None):
    options = vars(_parser().parse_args(argv))  # AvidSimulator's keyword arguments...
    verbose = options.pop("verbose")  # ...but this one
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    simulator = AvidSimulator(**options)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    simulator.start()
    _say(f"AvidXchange simulator on {simulator.base_url}")
    _say(f"  token URL  {simulator.token_url}")
    _say(f"  API URL    {simulator.api_url}")
    _say(f"  client id  {options['client_id']}   company id  {options['company_id']}")
    if options["latency_ms"] or options["jitter_ms"]:
        _say(f"  latency    {options['latency_ms']:g} ms + up to {options['jitter_ms']:g} ms")
    if options["auto_advance"]:
        _say(f"  auto-advance every {options['auto_advance']:g} s")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()
    _say("AvidXchange simulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
