#!/usr/bin/env bash
# Set up (idempotent) and start the assistant on the bundled default models: voice mode when a
# microphone and speaker are present, the text chat otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
.venv/bin/assistant voice "$@"
rc=$?
if [ $rc -eq 3 ]; then  # no usable audio device
    echo "Starting the text chat instead."
    exec .venv/bin/assistant chat
fi
exit $rc
