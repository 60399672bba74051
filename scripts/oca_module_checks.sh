#!/usr/bin/env bash
# OCA's module checks (manifest, XML, CSV) for a module that is a repository root.
#
# oca-checks-odoo-module finds a module by walking up from a file to its
# __manifest__.py and stops at the git root, so a repository that IS the module
# is never checked. Check a copy of the tracked files (as they are in the work
# tree) under the module's name instead, and report paths relative to the repo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/account_avidxchange"
(cd "$repo" && git ls-files -z | xargs -0 -r cp --parents -t "$tmp/account_avidxchange")
cd "$tmp"
set +e
oca-checks-odoo-module "$tmp/account_avidxchange/__manifest__.py" "$@" >"$tmp/out" 2>&1
status=$?
set -e
sed "s#$tmp/account_avidxchange/##; s#tmp/[^ ]*/account_avidxchange/##" "$tmp/out"
exit "$status"
