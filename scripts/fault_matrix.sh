#!/usr/bin/env bash
# Every simulator fault during a full cycle, then a kill -9 of Odoo in the middle
# of a payment import and a restart: after each, nothing lost, nothing doubled,
# every failure visible with a reason, and the reconciliation report says 0
# differences (see scripts/fault_matrix.py). Prints a line per check and timings;
# exits non-zero on a defect.
#
#   scripts/fault_matrix.sh
#
# Everything is thrown away afterwards (database, filestore, simulator, config).
source "$(dirname "$0")/lib.sh"

provision
ensure_template
scratch_db faults
scratch_config
scratch_install
scratch_simulator faults

shell() {  # shell PHASE: fault_matrix.py in odoo-bin shell, in the background; sets SHELL_PID
    AVX_FAULT_PHASE=$1 "${ODOO_SHELL[@]}" --log-level=critical \
        <"$REPO_DIR/scripts/fault_matrix.py" >"$WORK_DIR/$1.out" 2>"$WORK_DIR/$1.log" &
    SHELL_PID=$!
}

rc=0
started=$(date +%s)
say "phase 1: every fault during a full cycle"
shell faults
wait "$SHELL_PID" || rc=1
cat "$WORK_DIR/faults.out"

say "phase 2: kill -9 in the middle of a payment import"
shell backlog
for _ in $(seq 1 600); do
    [ "$(grep -c 'import slice' "$WORK_DIR/backlog.out" 2>/dev/null)" -ge 3 ] && break
    kill -0 "$SHELL_PID" 2>/dev/null || break
    sleep 0.2
done
grep -m1 'backlog of payments ready' "$WORK_DIR/backlog.out" || { cat "$WORK_DIR/backlog.log" >&2; rc=1; }
kill -9 "$SHELL_PID" 2>/dev/null && say "killed Odoo (kill -9) after $(grep -c 'import slice' "$WORK_DIR/backlog.out") slices"
wait "$SHELL_PID" 2>/dev/null || true

say "phase 3: restart, the import to its end"
shell check
wait "$SHELL_PID" || rc=1
cat "$WORK_DIR/check.out"
for phase in faults check; do
    if grep -q Traceback "$WORK_DIR/$phase.log"; then tail -n 30 "$WORK_DIR/$phase.log" >&2; rc=1; fi
done
say "done in $(( $(date +%s) - started )) s: $([ "$rc" = 0 ] && echo 'no defect' || echo 'DEFECTS, see above')"
exit "$rc"
