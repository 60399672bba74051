#!/usr/bin/env bash
# Run the demo: Odoo 19 with account_avidxchange on a fresh demo database,
# connected to the bundled AvidXchange simulator, with sample vendors and bills.
#
#   scripts/demo.sh                 # http://localhost:8069, login admin / admin
#   AVX_PORT=8070 scripts/demo.sh   # another Odoo port (the simulator: AVX_SIM_PORT, 8079)
#   DEMO_KEEP=1 scripts/demo.sh     # keep the database of the last run
#   DEMO_DB=... DEMO_DIR=...        # another database, and folder for the configuration and logs
#
# Ctrl+C or a TERM stops Odoo and the simulator, and removes the temporary
# addons folder; the database stays (see DEMO_KEEP).
#
# The simulator keeps its data in memory, so every run starts from a fresh
# database by default. It approves and pays what it receives after
# AVX_SIM_DELAY seconds (20), and the scheduled actions run every minute, so
# within a few minutes the bills show as paid, with their AvidXchange payments.
source "$(dirname "$0")/lib.sh"

DEMO_DB=${DEMO_DB:-avidxchange_demo}
PORT=${AVX_PORT:-8069}
export AVX_SIM_PORT=${AVX_SIM_PORT:-8079}
export AVX_SIM_URL=http://127.0.0.1:$AVX_SIM_PORT
export AVX_SIM_CLIENT_ID=odoo-demo AVX_SIM_COMPANY_ID=AVX-DEMO
DEMO_DIR=${DEMO_DIR:-$AVX_CACHE/demo}
mkdir -p "$DEMO_DIR"

# Every step that runs a while runs in the background and is waited for: a
# signal interrupts `wait` at once (a foreground command would have to end
# first), and the PID is the program's own, for the cleanup to stop.
SIM_PID='' STEP_PID=''
step() {
    "$@" <&0 &  # <&0: a background command would read /dev/null otherwise
    STEP_PID=$!
    local rc=0
    wait "$STEP_PID" || rc=$?
    STEP_PID=
    return "$rc"
}
cleanup() {
    set +e  # stop and remove everything, whatever fails on the way
    stop_processes "$STEP_PID" "$SIM_PID"
    STEP_PID='' SIM_PID=''
    rm -rf "${ADDONS_DIR:-}"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

provision
ensure_template

# The encryption key of the client secrets lives in the server configuration.
if [ ! -f "$DEMO_DIR/odoo.conf" ]; then
    key=$("$VENV/bin/python" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
    printf '[options]\navidxchange_fernet_key = %s\n' "$key" >"$DEMO_DIR/odoo.conf"
    chmod 600 "$DEMO_DIR/odoo.conf"
fi
AVX_SIM_CLIENT_SECRET=$("$VENV/bin/python" -c "import secrets; print(secrets.token_hex(24))")
export AVX_SIM_CLIENT_SECRET

start_simulator "$AVX_SIM_PORT" "$DEMO_DIR/simulator.log" --auto-advance="${AVX_SIM_DELAY:-20}"

if [ -z "${DEMO_KEEP:-}" ]; then
    drop_db "$DEMO_DB"
fi
if [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname = '$DEMO_DB'")" != 1 ]; then
    say "creating demo database $DEMO_DB"
    copy_template "$DEMO_DB"
fi
state=$(psql -d "$DEMO_DB" -Atqc "select state from ir_module_module where name = '$MODULE'")
if [ "$state" = installed ]; then mode=-u; else mode=-i; fi
say "installing $MODULE in $DEMO_DB"
step "${ODOO_BIN[@]}" -c "$DEMO_DIR/odoo.conf" -d "$DEMO_DB" "$mode" "$MODULE" --stop-after-init \
    --no-http --log-level=error
say "adding sample vendors and bills, connecting to the simulator"
# (odoo-bin takes no option but --addons-path before a command; demo_seed.py
# imports its helpers from scripts/)
step env PYTHONPATH="$REPO_DIR/scripts" "$VENV/bin/python" "$ODOO_SRC/odoo-bin" \
    --addons-path="$ADDONS_PATH" shell \
    -c "$DEMO_DIR/odoo.conf" --data-dir="$AVX_CACHE/data" -d "$DEMO_DB" --no-http \
    --log-level=error <"$REPO_DIR/scripts/demo_seed.py" >"$DEMO_DIR/seed.log" 2>&1
grep '^demo:' "$DEMO_DIR/seed.log" || die "seeding the demo failed: see $DEMO_DIR/seed.log"

cat <<MSG

  AvidXchange Connector demo
  Odoo:        http://localhost:$PORT/odoo   (database $DEMO_DB)
  Login:       admin / admin
  Simulator:   $AVX_SIM_URL   (log: $DEMO_DIR/simulator.log)
  Where:       Accounting > Configuration > AvidXchange, and the vendor bills
  Stop:        Ctrl+C

MSG
step "${ODOO_BIN[@]}" -c "$DEMO_DIR/odoo.conf" -d "$DEMO_DB" --db-filter="^$DEMO_DB\$" \
    --http-interface="${AVX_HTTP_INTERFACE:-127.0.0.1}" --http-port="$PORT" --log-level=warn
