#!/usr/bin/env bash
# Re-pin every dependency of pyproject.toml (with the dev extra) into scripts/requirements.lock,
# with hashes, for every platform and Python >= 3.11. Run it after changing a dependency in
# pyproject.toml and commit both; tests/unit/test_lock.py fails while they disagree.
#
#   scripts/lock.sh             pin what pyproject.toml allows, keeping current pins
#   scripts/lock.sh --upgrade   move every pin to the newest release allowed
#
# llama-cpp-python is left out: scripts/setup.sh builds it from source (LLAMA_VERSION there).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION="0.13.9"
UV=".venv/bin/uv"
if ! "$UV" --version 2>/dev/null | grep -q "$UV_VERSION"; then
    .venv/bin/python -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
"$UV" pip compile pyproject.toml --extra dev --generate-hashes --universal \
    --python-version 3.11 --no-emit-package llama-cpp-python --no-header \
    ${1:+"$1"} -o scripts/requirements.lock
echo "scripts/requirements.lock: $(grep -c '==' scripts/requirements.lock) pinned packages"
