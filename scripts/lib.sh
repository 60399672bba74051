# shellcheck shell=bash
# Provisioning shared by scripts/test.sh, scripts/demo.sh and scripts/lint.sh.
#
# Everything here is idempotent and cached outside the repository, so a fresh
# machine needs no hand steps and a second run starts in seconds:
#   AVX_CACHE   ${AVX_CACHE:-$HOME/.cache/account_avidxchange}
#   ODOO_SRC    an Odoo 19.0 source tree; default $AVX_CACHE/odoo-19.0, else a
#               shallow clone of the official 19.0 branch is made there
#   venv        $AVX_CACHE/venv-<hash of the requirements>, rebuilt only when
#               Odoo's or our requirements change
#   PostgreSQL  whatever PG*/defaults reach; otherwise the local cluster is
#               started and a superuser role for the current user created
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODULE=account_avidxchange
AVX_CACHE=${AVX_CACHE:-$HOME/.cache/account_avidxchange}
ODOO_DEFAULT_SRC=$AVX_CACHE/odoo-19.0
ODOO_GIT_URL=${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}
PYTHON=${PYTHON:-python3}

say() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

# --- Odoo source --------------------------------------------------------------
ensure_odoo_src() {
    if [ -n "${ODOO_SRC:-}" ]; then
        [ -f "$ODOO_SRC/odoo-bin" ] || die "ODOO_SRC=$ODOO_SRC holds no odoo-bin: point ODOO_SRC at an Odoo 19.0 source tree."
    elif [ -f "$ODOO_DEFAULT_SRC/odoo-bin" ]; then
        ODOO_SRC=$ODOO_DEFAULT_SRC
    else
        say "no Odoo source at \$ODOO_SRC or $ODOO_DEFAULT_SRC: cloning Odoo 19.0 (shallow)"
        mkdir -p "$AVX_CACHE"
        if ! git clone --quiet --depth 1 --branch 19.0 "$ODOO_GIT_URL" "$ODOO_DEFAULT_SRC.part"; then
            rm -rf "$ODOO_DEFAULT_SRC.part"
            die "could not clone Odoo 19.0. Set ODOO_SRC to an Odoo 19.0 source tree (or place one at $ODOO_DEFAULT_SRC)."
        fi
        mv "$ODOO_DEFAULT_SRC.part" "$ODOO_DEFAULT_SRC"
        ODOO_SRC=$ODOO_DEFAULT_SRC
    fi
    grep -q "version_info = (19, 0" "$ODOO_SRC/odoo/release.py" \
        || die "ODOO_SRC=$ODOO_SRC is not Odoo 19.0."
    export ODOO_SRC
}

# --- virtualenv -------------------------------------------------------------------
# python-ldap is left out: only auth_ldap needs it, and it wants OpenLDAP headers.
ensure_venv() {
    local req hash
    req=$(mktemp)
    grep -v -i '^python-ldap' "$ODOO_SRC/requirements.txt" >"$req"
    cat "$REPO_DIR/requirements.txt" "$REPO_DIR/requirements-test.txt" >>"$req"
    hash=$( (cat "$req"; "$PYTHON" --version) | sha1sum | cut -c1-12)
    VENV=$AVX_CACHE/venv-$hash
    if [ ! -f "$VENV/.complete" ]; then
        say "building virtualenv $VENV (Odoo's requirements + ours)"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
        # Odoo's pinned sdists (e.g. for Python 3.11) still build with setuptools<81.
        local constraint
        constraint=$(mktemp)
        echo 'setuptools<81' >"$constraint"
        PIP_CONSTRAINT=$constraint "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            -r "$req" 2>&1 | grep -v 'is ignored: it is neither a file nor a directory' >&2 || true
        rm -f "$constraint"
        "$VENV/bin/python" -c "import psycopg2, lxml, requests, cryptography, werkzeug" \
            || die "virtualenv $VENV is incomplete: see pip's output above."
        touch "$VENV/.complete"
    fi
    rm -f "$req"
    export VENV
}

# --- Chromium, for the browser tour of the test suite ------------------------------
# Odoo's HttpCase.start_tour drives headless Chrome or Chromium; without one it
# would skip the tour, so the suite installs Debian's package when it can and
# stops otherwise.
ensure_chromium() {
    local bin
    for bin in chromium google-chrome chromium-browser google-chrome-stable; do
        command -v "$bin" >/dev/null 2>&1 && return 0
    done
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Chromium (Debian's package) for the browser tour"
        { apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }; } \
            || die "could not install Chromium: install chromium (or Google Chrome) and run again."
    else
        die "the browser tour needs Chromium or Google Chrome in PATH: install one and run again."
    fi
}

# --- PostgreSQL -------------------------------------------------------------------
pg_answers() { psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
    pg_answers && return 0
    say "PostgreSQL does not answer with the PG*/default settings: starting the local cluster (and creating the role if needed)"
    if command -v pg_lsclusters >/dev/null 2>&1; then
        local version cluster
        read -r version cluster _ < <(pg_lsclusters --no-header | head -n 1) \
            || die "PostgreSQL is installed but has no cluster: create one (pg_createcluster) or set PGHOST/PGPORT/PGUSER."
        as_postgres pg_ctlcluster "$version" "$cluster" start || true
    else
        die "no PostgreSQL server answers and none is installed here: install PostgreSQL or set PGHOST/PGPORT/PGUSER/PGPASSWORD."
    fi
    local i
    for i in $(seq 1 30); do
        as_postgres psql -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
        sleep 0.5
    done
    local role=${PGUSER:-$(id -un)}
    if ! pg_answers; then
        as_postgres psql -d postgres -qc "CREATE ROLE \"$role\" SUPERUSER LOGIN" >/dev/null 2>&1 || true
    fi
    pg_answers || die "PostgreSQL started, but role '$role' cannot connect: create it, or set PGUSER/PGPASSWORD."
}

# Run a command as the postgres system user, connecting as the postgres role
# (the caller's PG* settings name the role to create, not the one to use).
as_postgres() {
    local clean=(env -u PGUSER -u PGPASSWORD -u PGDATABASE -u PGHOST)
    if [ "$(id -u)" = 0 ]; then
        su postgres -c "$(printf '%q ' "${clean[@]}" "$@")"
    elif [ "$(id -un)" = postgres ]; then
        "${clean[@]}" "$@"
    else
        sudo -n -u postgres "${clean[@]}" "$@"
    fi
}

# --- addons path ------------------------------------------------------------------
# The repository root is the module: link it under its technical name.
ensure_addons_dir() {
    ADDONS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/avx-addons.XXXXXX")
    ln -s "$REPO_DIR" "$ADDONS_DIR/$MODULE"
    ADDONS_PATH=$ODOO_SRC/addons,$ADDONS_DIR
    export ADDONS_DIR ADDONS_PATH
}

# ODOO_BIN: Odoo's command line with our addons path and data directory, set by
# provision. An array, not only a function: `"${ODOO_BIN[@]}" ... &` puts Odoo's
# own PID in $!, where a function would put the subshell that runs it.
odoo_bin() {
    "${ODOO_BIN[@]}" "$@"
}

provision() {
    ensure_odoo_src
    ensure_venv
    ensure_postgres
    ensure_addons_dir
    ODOO_BIN=("$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH"
        --data-dir="$AVX_CACHE/data")
}

# --- processes --------------------------------------------------------------------
# stop_processes PID...: stop these children of this shell (TERM, then KILL
# after 10 s) and reap them; empty arguments are skipped. Made for traps, so
# nothing in it may abort the cleanup under `set -e`: kill fails on a process
# already gone, and wait returns the status of a killed one (143).
stop_processes() {
    local pids=() pid _
    for pid in "$@"; do
        [ -n "$pid" ] && pids+=("$pid")
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "${pids[@]}" 2>/dev/null || break  # succeeds while one is left
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}

# --- databases --------------------------------------------------------------------
# A template with account + purchase installed, cached per Odoo tree and venv:
# installing them takes about a minute, copying the template a second.
ensure_template() {
    local key
    key=$( (echo "$ODOO_SRC"; cat "$ODOO_SRC/odoo/release.py"; echo "$VENV") | sha1sum | cut -c1-10)
    TEMPLATE_DB=avx_tmpl_$key
    if [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname = '$TEMPLATE_DB'")" != 1 ]; then
        local part=${TEMPLATE_DB}_part
        say "building template database $TEMPLATE_DB (account + purchase, about a minute)"
        dropdb --if-exists "$part" >/dev/null 2>&1
        rm -rf "$AVX_CACHE/data/filestore/$part"
        odoo_bin -d "$part" -i account,purchase --stop-after-init --no-http \
            --log-level=warn >"$AVX_CACHE/template.log" 2>&1 \
            || { tail -n 40 "$AVX_CACHE/template.log" >&2; die "building $TEMPLATE_DB failed (log: $AVX_CACHE/template.log)"; }
        psql -d postgres -qc "ALTER DATABASE \"$part\" RENAME TO \"$TEMPLATE_DB\""
        if [ -d "$AVX_CACHE/data/filestore/$part" ]; then
            mv "$AVX_CACHE/data/filestore/$part" "$AVX_CACHE/data/filestore/$TEMPLATE_DB"
        fi
    fi
    export TEMPLATE_DB
}

# copy_template DB: a new database (and filestore) from the template.
copy_template() {
    createdb -T "$TEMPLATE_DB" "$1"
    mkdir -p "$AVX_CACHE/data/filestore"
    if [ -d "$AVX_CACHE/data/filestore/$TEMPLATE_DB" ]; then
        cp -a "$AVX_CACHE/data/filestore/$TEMPLATE_DB" "$AVX_CACHE/data/filestore/$1"
    fi
}

# scratch_db NAME: sets DB and WORK_DIR for a throwaway database and work
# directory; both, and the simulator started into SIM_PID, go when the script exits.
scratch_db() {
    DB=avx_$1_$$
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/avx-$1.XXXXXX")
    SIM_PID=
    trap scratch_cleanup EXIT
}

scratch_cleanup() {
    if [ -n "${SIM_PID:-}" ]; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
    drop_db "$DB"
    rm -rf "$ADDONS_DIR" "$WORK_DIR"
}

drop_db() {
    dropdb --if-exists "$1" >/dev/null 2>&1 || true
    rm -rf "${AVX_CACHE:?}/data/filestore/$1"
}

# --- the simulator ----------------------------------------------------------------
# start_simulator PORT LOG [extra options]: the bundled AvidXchange simulator in
# the background, with the AVX_SIM_* credentials; sets SIM_PID once it answers.
# --option=value: a generated secret may start with "-", which argparse would
# otherwise take for an option.
start_simulator() {
    local port=$1 log=$2
    shift 2
    (cd "$REPO_DIR" && exec "$VENV/bin/python" -m simulator --port="$port" \
        --client-id="$AVX_SIM_CLIENT_ID" --client-secret="$AVX_SIM_CLIENT_SECRET" \
        --company-id="$AVX_SIM_COMPANY_ID" "$@") >"$log" 2>&1 &
    SIM_PID=$!
    local _
    for _ in $(seq 1 50); do
        grep -q "simulator on" "$log" 2>/dev/null && return 0
        kill -0 "$SIM_PID" 2>/dev/null || die "the simulator did not start: $(cat "$log")"
        sleep 0.1
    done
    die "the simulator did not start in 5 s: $(cat "$log")"
}

# --- a scratch database with the module, against the simulator ----------------------
# For the scripts that run a Python script through `odoo-bin shell` (benchmark,
# fault matrix, ledger check, upgrade check), after scratch_db.

# scratch_config: $WORK_DIR/odoo.conf with a fresh encryption key of the client
# secrets (it lives in the server configuration), and ODOO_SHELL: `odoo-bin shell`
# on $DB with that configuration; the script comes on stdin. An array, as ODOO_BIN:
# `"${ODOO_SHELL[@]}" ... &` puts Odoo's own PID in $!. The scripts import their
# shared helpers from scripts/ (avx_shell.py).
scratch_config() {
    local key
    key=$("$VENV/bin/python" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
    printf '[options]\navidxchange_fernet_key = %s\n' "$key" >"$WORK_DIR/odoo.conf"
    chmod 600 "$WORK_DIR/odoo.conf"
    # (odoo-bin takes no option but --addons-path before a command)
    ODOO_SHELL=(env "PYTHONPATH=$REPO_DIR/scripts" "$VENV/bin/python" "$ODOO_SRC/odoo-bin"
        --addons-path="$ADDONS_PATH" shell -c "$WORK_DIR/odoo.conf" --data-dir="$AVX_CACHE/data"
        -d "$DB" --no-http)
}

# scratch_install: $DB copied from the template, with $MODULE installed.
scratch_install() {
    say "database $DB: copying the template, installing $MODULE"
    copy_template "$DB"
    odoo_bin -c "$WORK_DIR/odoo.conf" -d "$DB" -i "$MODULE" --stop-after-init --no-http \
        --log-level=error >"$WORK_DIR/install.log" 2>&1 \
        || { tail -n 40 "$WORK_DIR/install.log" >&2; die "installing $MODULE in $DB failed"; }
}

# scratch_simulator NAME [simulator options]: the simulator on a free port, for
# client odoo-NAME of company AVX-NAME with a freshly generated secret; exports
# AVX_SIM_URL and the AVX_SIM_* credentials the Python scripts read.
scratch_simulator() {
    local port
    port=$(free_port)
    export AVX_SIM_URL=http://127.0.0.1:$port
    export AVX_SIM_CLIENT_ID=odoo-$1 AVX_SIM_COMPANY_ID=AVX-${1^^}
    AVX_SIM_CLIENT_SECRET=$("$VENV/bin/python" -c "import secrets; print(secrets.token_urlsafe(24))")
    export AVX_SIM_CLIENT_SECRET
    start_simulator "$port" "$WORK_DIR/simulator.log" "${@:2}"
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on right now.
free_port() {
    "$VENV/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# wait_for_http URL PID SECONDS: until URL answers 200 (an Odoo server's
# /web/login), or die when PID is gone or SECONDS have passed.
wait_for_http() {
    local url=$1 pid=$2 seconds=$3 _
    for _ in $(seq 1 "$((seconds * 2))"); do
        kill -0 "$pid" 2>/dev/null || die "the server of $url stopped"
        "$VENV/bin/python" - "$url" <<'PY' && return 0
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.exit(0 if opener.open(sys.argv[1], timeout=5).status == 200 else 1)
except Exception:
    sys.exit(1)
PY
        sleep 0.5
    done
    die "$url did not answer in $seconds s"
}

# --- prefork servers ----------------------------------------------------------------
# ensure_prefork_path: sets PREFORK_PATH, what to put on PYTHONPATH for an Odoo
# server with --workers. Such a server runs its gevent process (websockets), and
# gevent loads its plugins through pkg_resources, whose old copies (setuptools < 70)
# do not find distributions installed under the new normalized names (zope_interface):
# that process would die at start and be started again every second. A newer
# setuptools then goes to a folder of its own, the virtualenv stays as it is.
ensure_prefork_path() {
    local check="import pkg_resources; pkg_resources.require('gevent')"
    PREFORK_PATH=
    "$VENV/bin/python" -W ignore -c "$check" >/dev/null 2>&1 && return 0
    PREFORK_PATH=$VENV-prefork-site
    if [ ! -f "$PREFORK_PATH/.complete" ]; then
        say "installing a newer setuptools for the gevent process into $PREFORK_PATH"
        rm -rf "$PREFORK_PATH"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check --target "$PREFORK_PATH" \
            'setuptools>=70,<81' 2>&1 | grep -v 'is ignored: it is neither' >&2 || true
        PYTHONPATH=$PREFORK_PATH "$VENV/bin/python" -W ignore -c "$check" \
            || die "gevent's plugins still do not load with $PREFORK_PATH"
        touch "$PREFORK_PATH/.complete"
    fi
}
