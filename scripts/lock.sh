#!/usr/bin/env bash
# Re-resolve requirements.in into requirements.txt (exact pins) in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade pip==25.3
"$tmp/venv/bin/python" -m pip install -q -r requirements.in
{ echo "# Exact pins of every Python package Sayso installs (from requirements.in; refresh with scripts/lock.sh)."
  "$tmp/venv/bin/python" -m pip freeze --all | grep -v "^pip=="; } > requirements.txt
rm -rf "$tmp"
