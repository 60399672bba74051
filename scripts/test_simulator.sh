#!/usr/bin/env bash
# The simulator's own tests (admin API, faults, auto-advance, the command line),
# without Odoo or a database: any Python with requests runs them from the module root,
#
#   python3 -m unittest discover -s simulator/tests -t .
#
# here with the module's virtualenv (see scripts/lib.sh), which has requests.
source "$(dirname "$0")/lib.sh"

ensure_odoo_src
ensure_venv
cd "$REPO_DIR"
"$VENV/bin/python" -m unittest discover -s simulator/tests -t . "$@"
