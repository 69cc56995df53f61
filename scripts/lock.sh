#!/usr/bin/env bash
# Re-resolve requirements.in (+ requirements-nodeps.in) into requirements.txt, the complete
# list of exact pins that scripts/setup.sh installs with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade pip==25.3
"$tmp/venv/bin/python" -m pip install -q -r requirements.in
"$tmp/venv/bin/python" -m pip install -q --no-deps -r requirements-nodeps.in
{ echo "# Exact pins of every Python package Sayso installs; made by scripts/lock.sh, installed with --no-deps."
  "$tmp/venv/bin/python" -m pip freeze --all | grep -v "^pip=="; } > requirements.txt
rm -rf "$tmp"
