#!/usr/bin/env bash
# The proof that the ledgers agree: a seeded random AP lifecycle over N bills
# (default 1,000) through the bundled simulator (approvals, rejections, partial and
# multi-bill payments, discounts, payment runs sharing one stamp, clears, voids and
# re-issues, throttling, outages and dropped answers), then the reconciliation
# report, which must say 0 differences. Prints timings; exits non-zero on a defect.
#
#   scripts/ledger_check.sh            # N=1000, seed 1
#   scripts/ledger_check.sh 200 7      # N=200, seed 7
#
# Everything is thrown away afterwards (database, filestore, simulator, config).
source "$(dirname "$0")/lib.sh"

N=${1:-1000}
SEED=${2:-1}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, not '$N'"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "the seed must be a whole number, not '$SEED'"

provision
ensure_template
scratch_db ledger
scratch_config
scratch_install
export AVX_LEDGER_N=$N AVX_LEDGER_SEED=$SEED
scratch_simulator ledger

say "running the lifecycle (N=$N, seed $SEED, simulator $AVX_SIM_URL)"
rc=0
"${ODOO_SHELL[@]}" --log-level=error <"$REPO_DIR/scripts/ledger_check.py" 2>"$WORK_DIR/shell.log" || rc=$?
if grep -qE 'Traceback' "$WORK_DIR/shell.log"; then
    tail -n 40 "$WORK_DIR/shell.log" >&2
    rc=${rc:-1}
    [ "$rc" != 0 ] || rc=1
fi
[ "$rc" = 0 ] && say "0 differences: the ledgers agree" || say "DEFECT: see the lines above (exit $rc)"
exit "$rc"
