#!/usr/bin/env bash
# Run the pre-commit hooks (ruff, ruff-format, pylint-odoo) on every file.
# The tools come from PyPI into a cached virtualenv of their own; the hooks are
# `repo: local`, so nothing is downloaded from a hook repository.
source "$(dirname "$0")/lib.sh"

hash=$( (cat "$REPO_DIR/requirements-lint.txt"; "$PYTHON" --version) | sha1sum | cut -c1-12)
LINT_VENV=$AVX_CACHE/venv-lint-$hash
if [ ! -f "$LINT_VENV/.complete" ]; then
    say "building lint virtualenv $LINT_VENV"
    rm -rf "$LINT_VENV"
    "$PYTHON" -m venv "$LINT_VENV"
    "$LINT_VENV/bin/pip" install --quiet --disable-pip-version-check \
        -r "$REPO_DIR/requirements-lint.txt" 2>&1 | grep -v 'is ignored: it is neither' >&2 || true
    "$LINT_VENV/bin/pre-commit" --version >/dev/null || die "lint virtualenv is incomplete"
    touch "$LINT_VENV/.complete"
fi
cd "$REPO_DIR"
PATH=$LINT_VENV/bin:$PATH PRE_COMMIT_HOME=$AVX_CACHE/pre-commit \
    pre-commit run --all-files --show-diff-on-failure "$@"
