#!/usr/bin/env bash
# Start Odoo 19 with account_avidxchange installed on a demo database.
#
#   scripts/demo.sh                 # http://localhost:8069, login admin / admin
#   AVX_PORT=8070 scripts/demo.sh   # another port
#   DEMO_RESET=1 scripts/demo.sh    # drop the demo database and start afresh
#
# Provisioning is shared with the tests (scripts/lib.sh). The demo database is
# kept between runs; the module is upgraded on every start so code changes show.
source "$(dirname "$0")/lib.sh"

DEMO_DB=${DEMO_DB:-avidxchange_demo}
PORT=${AVX_PORT:-8069}

provision
ensure_template
trap 'rm -rf "$ADDONS_DIR"' EXIT

[ -n "${DEMO_RESET:-}" ] && drop_db "$DEMO_DB"
if [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname = '$DEMO_DB'")" != 1 ]; then
    say "creating demo database $DEMO_DB"
    copy_template "$DEMO_DB"
fi
state=$(psql -d "$DEMO_DB" -Atqc "select state from ir_module_module where name = '$MODULE'")
if [ "$state" = installed ]; then mode=-u; else mode=-i; fi

say "installing/upgrading $MODULE in $DEMO_DB"
odoo_bin -d "$DEMO_DB" "$mode" "$MODULE" --stop-after-init --no-http --log-level=warn

cat <<MSG

  AvidXchange Connector demo
  Odoo:   http://localhost:$PORT/odoo   (database $DEMO_DB)
  Login:  admin / admin
  Stop:   Ctrl+C

MSG
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" \
    --data-dir="$AVX_CACHE/data" -d "$DEMO_DB" --db-filter="^$DEMO_DB\$" \
    --http-interface="${AVX_HTTP_INTERFACE:-127.0.0.1}" --http-port="$PORT" --log-level=warn
