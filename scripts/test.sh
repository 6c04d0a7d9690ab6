#!/usr/bin/env bash
# Set up (idempotent), lint, and run the whole test suite, real-model tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check assistant skills tests scripts
exec .venv/bin/python -m pytest "$@"
