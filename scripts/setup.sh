#!/usr/bin/env bash
# Installs everything wavecoder and its tests need into the active Python environment.
#
# - Debian packages: bubblewrap (the evaluation sandbox). Skipped with a note when apt-get is
#   unavailable or not root; the sandbox then refuses to run until bwrap is installed.
# - PyTorch: the CPU build 2.13.0 first, unless a torch is already installed (a GPU build stays),
#   so that the package's own `torch>=...` range installs nothing more.
# - wavecoder itself, editable, with the dev extra (tests, ruff, offline embedding model).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
else
  echo "setup: not root or no apt-get; install bubblewrap yourself for sandboxed evaluation" >&2
fi

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  "$PYTHON" -m pip install "torch==2.13.0"
fi
"$PYTHON" -m pip install -e ".[dev]"
echo "setup: done"
