#!/usr/bin/env bash
# Run the whole test suite of account_avidxchange inside real Odoo 19.0 on a
# fresh PostgreSQL database, then print "N passed, N failed".
#
#   scripts/test.sh                       # everything
#   TEST_TAGS=/account_avidxchange:TestClientRetries scripts/test.sh
#   KEEP_DB=1 scripts/test.sh             # keep the database for a look afterwards
#
# Provisioning (Odoo source, virtualenv, PostgreSQL, template database) is done
# on the way and cached: see scripts/lib.sh. Besides the tests, the install of the
# module must log no warning and no error: such a line counts as a failure.
source "$(dirname "$0")/lib.sh"

provision
ensure_chromium
ensure_template

DB=avx_test_$(date +%Y%m%d%H%M%S)_$$
LOG=$AVX_CACHE/logs/$DB.log
mkdir -p "$AVX_CACHE/logs"
# keep the 20 newest logs
find "$AVX_CACHE/logs" -name "avx_test_*.log" -printf "%T@ %p\n" | sort -rn | tail -n +20 | cut -d" " -f2- | xargs -r rm -f
cleanup() {
    [ -n "${KEEP_DB:-}" ] && say "kept database $DB" || drop_db "$DB"
    rm -rf "$ADDONS_DIR"
}
trap cleanup EXIT

copy_template "$DB"
say "testing in database $DB (log: $LOG)"
set +e
# With tests enabled Odoo binds its HTTP port even with --no-http: take a free
# one, so that two runs (or a demo) on one machine do not collide.
port=$("$VENV/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
odoo_bin -d "$DB" -i "$MODULE" --test-tags "${TEST_TAGS:-/$MODULE}" \
    --stop-after-init --no-http --http-port="$port" --log-level=info >"$LOG" 2>&1
rc=$?
set -e

"$VENV/bin/python" "$REPO_DIR/scripts/summarize_test_log.py" "$LOG" "$rc"
