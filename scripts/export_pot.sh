#!/usr/bin/env bash
# Regenerate the translation template i18n/account_avidxchange.pot from a
# database where the module is installed (the demo database, created if needed).
source "$(dirname "$0")/lib.sh"
DEMO_DB=${DEMO_DB:-avidxchange_demo}
provision
ensure_template
trap 'rm -rf "$ADDONS_DIR"' EXIT
if [ "$(psql -d postgres -Atqc "select 1 from pg_database where datname = '$DEMO_DB'")" != 1 ]; then
    copy_template "$DEMO_DB"
fi
state=$(psql -d "$DEMO_DB" -Atqc "select state from ir_module_module where name = '$MODULE'")
if [ "$state" = installed ]; then mode=-u; else mode=-i; fi
mkdir -p "$REPO_DIR/i18n"
odoo_bin -d "$DEMO_DB" "$mode" "$MODULE" --stop-after-init --no-http --log-level=warn
"$VENV/bin/python" "$ODOO_SRC/odoo-bin" --addons-path="$ADDONS_PATH" i18n export \
    -d "$DEMO_DB" -o "$REPO_DIR/i18n/$MODULE.pot" "$MODULE"
say "wrote i18n/$MODULE.pot"
