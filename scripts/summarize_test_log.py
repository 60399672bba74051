"""Turn an Odoo test-run log into one verdict line: ``N passed, N failed``.

Odoo reports ``X failed, Y error(s) of Z tests when loading database``; we
count errors as failures. Any WARNING, ERROR or CRITICAL record in the log
(module install included) is shown and, when no test failed, counted as one
more failure: a clean install log is part of the contract.

Usage: python summarize_test_log.py LOGFILE ODOO_EXIT_CODE
"""

import re
import sys

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
RECORD_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (\w+) ")
BAD_LEVELS = {"WARNING", "ERROR", "CRITICAL"}


def main(log_path, exit_code):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        lines = log.read().splitlines()

    result = None
    problems = []
    current = None
    for line in lines:
        match = RECORD_RE.match(line)
        if match:
            current = [line] if match.group(1) in BAD_LEVELS else None
            if current:
                problems.append(current)
            found = RESULT_RE.search(line)
            if found:
                result = tuple(int(n) for n in found.groups())
        elif current is not None:
            current.append(line)  # traceback of the record above

    for record in problems:
        print("\n".join(record))

    if result is None:
        print("\n".join(lines[-40:]))
        print(f"Odoo ended (exit code {exit_code}) without a test report: see {log_path}")
        print("0 passed, 1 failed")
        return 1

    failures, errors, total = result
    failed = failures + errors
    passed = total - failed
    if not failed and problems:
        print(f"log check: {len(problems)} warning/error record(s) above")
        failed = 1
    if not failed and exit_code:
        print(f"log check: Odoo exited with code {exit_code}")
        failed = 1
    if not total:
        print("no test ran")
        failed = max(failed, 1)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
