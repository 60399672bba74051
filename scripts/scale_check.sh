#!/usr/bin/env bash
# The connector on several Odoo servers at once, one database: two servers in
# prefork mode (--workers=2 --max-cron-threads=2 each, their own ports), every
# stream due each minute, against the bundled simulator (50-100 ms a request;
# it approves and pays what it receives after a few seconds). For
# AVX_SCALE_SECONDS (180) a clerk keys, edits, posts and pays bills through
# both servers' web API while AvidXchange captures invoices, closes batches and
# throws faults (429, 503, dropped answers); then the backlog must drain
# (AVX_SCALE_DRAIN, 360 s at most) and:
#   no AvidXchange payment registered twice, no bill sent twice, each captured
#   invoice exactly one bill, no serialization failure, deadlock or traceback
#   in either server's log, no clerk request slower than 2 s, the backlog
#   drained, the reconciliation report at 0 differences.
# Prints the figures; exits non-zero on a defect.
#
#   scripts/scale_check.sh
#   AVX_SCALE_SECONDS=60 scripts/scale_check.sh   # a shorter run
#   AVX_KEEP=1 scripts/scale_check.sh             # keep the database and the logs
#
# Everything else is thrown away afterwards (database, filestore, servers,
# simulator, configuration); the logs of a run with a defect are kept.
source "$(dirname "$0")/lib.sh"

RUN_SECONDS=${AVX_SCALE_SECONDS:-180}
DRAIN_SECONDS=${AVX_SCALE_DRAIN:-360}
[[ "$RUN_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "AVX_SCALE_SECONDS must be a positive whole number"
[[ "$DRAIN_SECONDS" =~ ^[1-9][0-9]*$ ]] || die "AVX_SCALE_DRAIN must be a positive whole number"
STARTED=$(date +%s)

# Whatever runs a while runs in the background and is waited for: a signal
# interrupts `wait` at once, and the cleanup stops these PIDs.
SERVER_PIDS=() HELPER_PIDS=()
cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    stop_processes "${HELPER_PIDS[@]}" "${SERVER_PIDS[@]}"
    if [ -n "${WORK_DIR:-}" ] && { [ "$rc" != 0 ] || [ -n "${AVX_KEEP:-}" ]; } && [ -d "$WORK_DIR" ]; then
        local kept=$AVX_CACHE/scale-logs/${DB:-scale}
        mkdir -p "$kept" && cp -a "$WORK_DIR"/*.log "$WORK_DIR"/*.json "$kept"/ 2>/dev/null
        say "logs kept in $kept"
    fi
    if [ -n "${AVX_KEEP:-}" ] && [ -n "${DB:-}" ]; then
        say "database $DB kept (AVX_KEEP)"
        DB=_kept_  # scratch_cleanup drops no such database
    fi
    [ -n "${DB:-}" ] && scratch_cleanup
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_step CMD...: CMD in the background, waited for; its status.
run_step() {
    "$@" <&0 &  # <&0: a background command would read /dev/null otherwise
    HELPER_PIDS+=($!)
    local rc=0
    wait "$!" || rc=$?
    return "$rc"
}

provision
ensure_prefork_path
ensure_template
scratch_db scale
trap cleanup EXIT  # (scratch_db set its own)
scratch_config
scratch_install
scratch_simulator scale --auto-advance=3 --latency-ms=50 --jitter-ms=50
export AVX_SCALE_DB=$DB AVX_SCALE_SETUP=$WORK_DIR/setup.json AVX_SCALE_CAPTURED=$WORK_DIR/captured.json
echo '[]' >"$AVX_SCALE_CAPTURED"

say "database $DB: a connection to the simulator ($AVX_SIM_URL), vendors, streams every minute"
run_step env AVX_SCALE_STEP=setup "${ODOO_SHELL[@]}" --log-level=error \
    <"$REPO_DIR/scripts/scale_check.py" >"$WORK_DIR/setup.log" 2>&1 \
    || { tail -n 30 "$WORK_DIR/setup.log" >&2; die "the setup failed"; }
grep '^scale_check:' "$WORK_DIR/setup.log" || true

# Two servers on the one database, each its own HTTP and gevent ports, web
# workers and cron workers, as two hosts would run them.
URLS=()
for name in a b; do
    port=$(free_port)
    gevent_port=$(free_port)
    env PYTHONPATH="$PREFORK_PATH" "${ODOO_BIN[@]}" -c "$WORK_DIR/odoo.conf" -d "$DB" \
        --db-filter="^$DB\$" --workers=2 --max-cron-threads=2 --http-interface=127.0.0.1 \
        --http-port="$port" --gevent-port="$gevent_port" --logfile="$WORK_DIR/server-$name.log" \
        >"$WORK_DIR/server-$name.out.log" 2>&1 &
    SERVER_PIDS+=($!)
    URLS+=("http://127.0.0.1:$port")
    say "server $name: ${URLS[-1]} (log $WORK_DIR/server-$name.log)"
done
for i in 0 1; do
    wait_for_http "${URLS[$i]}/web/login" "${SERVER_PIDS[$i]}" 120
done
AVX_SCALE_URLS=$(IFS=,; echo "${URLS[*]}")
export AVX_SCALE_URLS
PY=("$VENV/bin/python" "$REPO_DIR/scripts/scale_clerk.py")
run_step "${PY[@]}" warm 0 || die "the servers did not answer the clerk"

say "for $RUN_SECONDS s: a clerk on both servers, AvidXchange capturing, paying and failing now and then"
"${PY[@]}" clerk "$RUN_SECONDS" >"$WORK_DIR/clerk.out" 2>&1 &
CLERK_PID=$!
"${PY[@]}" world "$RUN_SECONDS" >"$WORK_DIR/world.out" 2>&1 &
WORLD_PID=$!
HELPER_PIDS+=("$CLERK_PID" "$WORLD_PID")
defects=0
wait "$CLERK_PID" || defects=$((defects + 1))
wait "$WORLD_PID" || defects=$((defects + 1))
cat "$WORK_DIR/world.out" "$WORK_DIR/clerk.out"

say "faults cleared; waiting for the crons to drain the backlog (at most $DRAIN_SECONDS s)"
run_step "${PY[@]}" drain "$DRAIN_SECONDS" || defects=$((defects + 1))
stop_processes "${SERVER_PIDS[@]}"
SERVER_PIDS=()

# (server-X.out.log: what a server wrote outside its log file, e.g. its gevent
# process; a worker "timeout after": killed by its server for running too long)
BAD_LOG_LINES='could not serialize|deadlock detected|Traceback|timeout after [0-9]+s'
for name in a b; do
    logs=("$WORK_DIR/server-$name.log" "$WORK_DIR/server-$name.out.log")
    found=$(cat "${logs[@]}" | grep -cE "$BAD_LOG_LINES" || true)
    echo "scale_check: server $name: $found serialization failures, deadlocks, tracebacks or workers killed in its log"
    if [ "$found" != 0 ]; then
        defects=$((defects + 1))
        grep -hE -B2 -A12 "$BAD_LOG_LINES" "${logs[@]}" | head -n 60
    fi
done

run_step env AVX_SCALE_STEP=check "${ODOO_SHELL[@]}" --log-level=error \
    <"$REPO_DIR/scripts/scale_check.py" >"$WORK_DIR/check.log" 2>&1 || defects=$((defects + 1))
grep '^scale_check:' "$WORK_DIR/check.log" || true
if grep -q Traceback "$WORK_DIR/check.log"; then
    tail -n 30 "$WORK_DIR/check.log"
    defects=$((defects + 1))
fi

say "$((  $(date +%s) - STARTED )) s in all"
if [ "$defects" != 0 ]; then
    say "DEFECT: see the lines above"
    exit 1
fi
say "clean: two servers, one database, nothing doubled, nothing lost, nobody waited"
