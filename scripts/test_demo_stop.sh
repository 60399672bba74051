#!/usr/bin/env bash
# Check that scripts/demo.sh, stopped while it serves, leaves nothing behind:
# no process of its own (Odoo, the simulator, anything else it started), nobody
# listening on its two ports, no temporary folder. Once with SIGTERM to the
# script (as `kill` sends it), once with SIGINT to its whole process group (as
# Ctrl+C in a terminal sends it).
#
#   scripts/test_demo_stop.sh            # both, a demo start-up each (1-2 minutes)
#   scripts/test_demo_stop.sh TERM       # one of them
#
# The demo runs on free ports, in a scratch database, configuration folder and
# TMPDIR of its own, all removed afterwards: a demo of yours is not touched.
# Prints every check; exits 1 when one failed.
source "$(dirname "$0")/lib.sh"
set +e  # every check runs and says how it went; failures are counted

STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-600}  # seconds, provisioning included
STOP_TIMEOUT=${STOP_TIMEOUT:-60}
FAILED=0
check() {  # check DESCRIPTION COMMAND...: run COMMAND, report, count a failure
    local what=$1
    shift
    if "$@"; then
        say "ok:   $what"
    else
        say "FAIL: $what"
        FAILED=$((FAILED + 1))
    fi
}

free_port() {
    python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

listening() {  # listening PORT: does anything accept connections on it?
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$1")" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

alive() {  # alive PID...: is one of them still there?
    local pid
    for pid in "$@"; do
        kill -0 "$pid" 2>/dev/null && return 0
    done
    return 1
}

descendants() {  # descendants PID: its whole process tree, itself included
    local pid=$1 child
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        descendants "$child"
    done
}

# What a case made, removed after it whatever happened (and if this script is
# stopped itself: the demo runs in a process group of its own, which a Ctrl+C
# here does not reach). A demo process left behind is still in that group.
scratch='' db='' demo_pid=''
clean_case() {
    [ -n "$demo_pid" ] && pkill -KILL -g "$demo_pid" 2>/dev/null
    [ -n "$db" ] && drop_db "$db"
    [ -n "$scratch" ] && rm -rf "$scratch"
    scratch='' db='' demo_pid=''
}
trap clean_case EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_case SIGNAL: start the demo, stop it with SIGNAL once Odoo answers, check.
run_case() {
    local signal=$1 port sim_port pids rc i
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/avx-demo-stop.XXXXXX")
    mkdir -p "$scratch/tmp"
    port=$(free_port)
    sim_port=$(free_port)
    while [ "$sim_port" = "$port" ]; do sim_port=$(free_port); done
    db=avx_demostop_$$_$signal
    say "--- SIG$signal: demo on ports $port (Odoo) and $sim_port (simulator), database $db"

    # Job control gives the demo a process group of its own (to send Ctrl+C's
    # SIGINT to, and to find what it leaves behind by) and keeps SIGINT as it
    # is: a background job of a shell without job control ignores SIGINT, and
    # a script cannot trap a signal ignored on entry.
    set -m
    TMPDIR=$scratch/tmp DEMO_DIR=$scratch/demo DEMO_DB=$db AVX_PORT=$port AVX_SIM_PORT=$sim_port \
        bash "$REPO_DIR/scripts/demo.sh" >"$scratch/demo.log" 2>&1 &
    demo_pid=$!
    set +m

    for ((i = 0; i < STARTUP_TIMEOUT; i++)); do
        curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/web/health" 2>/dev/null && break
        alive "$demo_pid" || break
        sleep 1
    done
    check "Odoo answers on port $port (after about ${i}s)" \
        curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/web/health"

    # What the demo runs now, to look for each of them afterwards.
    pids=$( (descendants "$demo_pid"; pgrep -g "$demo_pid") | sort -un | xargs)
    say "the demo's processes:"
    ps -o pid=,ppid=,pgid=,args= -p "${pids// /,}" \
        | sed -E 's/(--client-secret=)[^ ]*/\1.../' | cut -c1-160 >&2
    check "the simulator answers on port $sim_port before the stop" listening "$sim_port"

    if [ "$signal" = INT ]; then
        kill -INT -- "-$demo_pid"  # the whole group, as a terminal's Ctrl+C
    else
        kill "-$signal" "$demo_pid"
    fi
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        alive "$demo_pid" || break
        sleep 0.1
    done
    say "demo.sh ended $((i / 10)).$((i % 10))s after the signal"
    wait "$demo_pid" 2>/dev/null
    rc=$?
    check "demo.sh is gone within ${STOP_TIMEOUT}s" eval "! alive $demo_pid"
    check "demo.sh says it was stopped by SIG$signal (exit $rc)" \
        test "$rc" = "$((128 + $(kill -l "$signal")))"
    # demo.sh waits for what it stops before it exits: what is here now stays
    check "none of the demo's processes is left ($pids)" eval "! alive $pids"
    check "no process is left in the demo's process group" eval "! pgrep -g $demo_pid >/dev/null"
    check "nothing listens on Odoo's port $port" eval "! listening $port"
    check "nothing listens on the simulator's port $sim_port" eval "! listening $sim_port"
    check "no temporary folder is left ($(find "$scratch/tmp" -mindepth 1 -maxdepth 1 | tr '\n' ' '))" \
        test -z "$(find "$scratch/tmp" -mindepth 1 -maxdepth 1)"

    [ "$FAILED" = 0 ] || { say "the demo's output:"; cat "$scratch/demo.log" >&2; }
    clean_case
}

signals=("$@")
[ ${#signals[@]} -gt 0 ] || signals=(TERM INT)
for signal in "${signals[@]}"; do
    signal=${signal#SIG}
    case $signal in
        TERM | INT) run_case "$signal" ;;
        *) die "unknown signal $signal: TERM or INT" ;;
    esac
done
if [ "$FAILED" = 0 ]; then
    say "passed: demo.sh leaves nothing behind when stopped (signals: ${signals[*]})"
else
    say "FAILED: $FAILED check(s)"
    exit 1
fi
