#!/usr/bin/env bash
# Check that a database installed from the previous release upgrades (-u) to this
# code without losing links, marks or payments, and syncs on without sending
# anything twice.
#
#   scripts/upgrade_check.sh            # from release 19.0.1.0.0 (commit 8b743c0)
#
# It installs the old release from git into a fresh copy of the template database,
# makes data with it against the simulator (scripts/upgrade_check/before_*.py), runs
# `-u` with this tree, then the checks of scripts/upgrade_check/after_*.py. The old
# release comes from this repository's history: in a clone without it the check says
# so and fails.
source "$(dirname "$0")/lib.sh"

OLD_REV=${OLD_REV:-8b743c0}
BEFORE=$REPO_DIR/scripts/upgrade_check/before_19_0_1_0_0.py
AFTER=$REPO_DIR/scripts/upgrade_check/after_19_0_1_2_0.py

git -C "$REPO_DIR" cat-file -e "$OLD_REV^{commit}" 2>/dev/null \
    || die "release $OLD_REV is not in this clone's history: fetch it (git fetch --unshallow)."

provision
ensure_template

scratch_db upgrade

mkdir -p "$WORK_DIR/old/$MODULE"
git -C "$REPO_DIR" archive "$OLD_REV" | tar -x -C "$WORK_DIR/old/$MODULE"
scratch_config
scratch_simulator upgrade

# odoo [SUBCOMMAND] ADDONS_DIR ARGS...: Odoo with the module taken from ADDONS_DIR
odoo() {
    local sub=()
    if [ "$1" = shell ]; then sub=(shell); shift; fi
    local addons=$1
    shift
    "$VENV/bin/python" "$ODOO_SRC/odoo-bin" "${sub[@]}" --addons-path="$ODOO_SRC/addons,$addons" \
        -c "$WORK_DIR/odoo.conf" --data-dir="$AVX_CACHE/data" -d "$DB" --no-http "$@"
}
# Fail on any warning or error in a log, the expected note on our config option aside.
clean_log() {
    if grep -E ' (WARNING|ERROR|CRITICAL) |Traceback' "$1" | grep -v "unknown option 'avidxchange_fernet_key'"; then
        die "$2 logged the warnings or errors above (log: $1)"
    fi
}

copy_template "$DB"
say "installing release $OLD_REV in $DB and making data with it"
odoo "$WORK_DIR/old" -i "$MODULE" --stop-after-init --log-level=warn >"$WORK_DIR/install.log" 2>&1 \
    || { tail -n 30 "$WORK_DIR/install.log" >&2; die "installing release $OLD_REV failed"; }
odoo shell "$WORK_DIR/old" --log-level=warn <"$BEFORE" >"$WORK_DIR/before.log" 2>&1 \
    || { tail -n 30 "$WORK_DIR/before.log" >&2; die "making data with release $OLD_REV failed"; }
grep '^before:' "$WORK_DIR/before.log"
clean_log "$WORK_DIR/before.log" "making data"

say "upgrading $DB to this tree (-u $MODULE)"
odoo "$ADDONS_DIR" -u "$MODULE" --stop-after-init --log-level=warn >"$WORK_DIR/upgrade.log" 2>&1 \
    || { tail -n 30 "$WORK_DIR/upgrade.log" >&2; die "the upgrade failed"; }
clean_log "$WORK_DIR/upgrade.log" "the upgrade"
version=$(psql -d "$DB" -Atqc "select latest_version from ir_module_module where name = '$MODULE'")
say "installed version is now $version"

rc=0
odoo shell "$ADDONS_DIR" --log-level=warn <"$AFTER" >"$WORK_DIR/after.log" 2>&1 || rc=$?
grep '^check:' "$WORK_DIR/after.log" || { tail -n 30 "$WORK_DIR/after.log" >&2; rc=1; }
clean_log "$WORK_DIR/after.log" "the checks"
[ "$rc" = 0 ] || die "the upgrade check failed"
say "upgrade from $OLD_REV: every check passed"
