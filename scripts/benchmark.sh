#!/usr/bin/env bash
# Benchmark the AvidXchange sync against the bundled simulator over localhost HTTP:
# time, SQL queries, HTTP requests and peak Python memory of the vendor export,
# the bill export, the payment import and an idle cycle, for N vendors and N bills,
# and bills sent per second at 100 ms a request, one at a time and in parallel.
# It prints figures and asserts nothing: run it with two sizes and compare the
# per-record columns, which should not grow with N (see scripts/benchmark.py).
#
#   scripts/benchmark.sh           # N=200
#   scripts/benchmark.sh 50        # N=50
#   AVX_BENCH_TRACEMALLOC=0 scripts/benchmark.sh   # timings without tracemalloc's overhead
#
# Everything is thrown away afterwards: the database avx_bench_<pid> (a copy of the
# cached template, see scripts/lib.sh), its filestore, the simulator, the config
# file with its freshly generated encryption key.
source "$(dirname "$0")/lib.sh"

N=${1:-200}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, not '$N'"

provision
ensure_template

scratch_db bench

scratch_config
scratch_install
export AVX_BENCH_N=$N
# No --auto-advance: the benchmark approves and pays through the admin API itself.
scratch_simulator bench

say "running the benchmark (N=$N, simulator $AVX_SIM_URL)"
rc=0
"${ODOO_SHELL[@]}" --log-level=warn <"$REPO_DIR/scripts/benchmark.py" 2>"$WORK_DIR/shell.log" || rc=$?
# Odoo's warnings (a sync that stopped, a report skipped) matter to the figures;
# the unknown-option notice about the encryption key is expected.
grep -E ' (WARNING|ERROR|CRITICAL) |Traceback' "$WORK_DIR/shell.log" \
    | grep -v "unknown option 'avidxchange_fernet_key'" >&2 || true
if [ "$rc" != 0 ]; then
    tail -n 40 "$WORK_DIR/shell.log" >&2
    die "the benchmark failed (exit status $rc)"
fi
