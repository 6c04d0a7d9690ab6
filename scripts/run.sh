#!/usr/bin/env bash
# Set up (idempotent) and start the assistant on the bundled default models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/assistant chat "$@"
