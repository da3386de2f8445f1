#!/usr/bin/env bash
# Installs everything wavecoder and its tests need into the active Python environment.
#
# - Debian packages: bubblewrap (the evaluation sandbox) and the HumanEvalPack toolchains (Node.js,
#   a JDK, g++ with libssl, Go with testify, Rust with the rand/regex/md5 crates). Skipped with a
#   note when apt-get is unavailable or not root; the sandbox then refuses to run until bwrap is
#   installed, and languages without a toolchain are counted as skipped.
# - The offline Go/Rust test dependencies (`wavecoder evaluate --prepare-toolchains go rust`).
# - PyTorch: the CPU build 2.13.0 first, unless a torch is already installed (a GPU build stays),
#   so that the package's own `torch>=...` range installs nothing more.
# - wavecoder itself, editable, with the dev extra (tests, ruff, offline embedding model).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  # HumanEvalPack languages (evaluation/languages.py); rustup's rustc, where present, stays first.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    nodejs default-jdk-headless g++ libssl-dev golang-go golang-github-stretchr-testify-dev \
    rustc cargo librust-rand-dev librust-regex-dev librust-md5-dev >/dev/null \
    || echo "setup: some HumanEvalPack toolchains did not install; their languages are skipped" >&2
else
  echo "setup: not root or no apt-get; install bubblewrap yourself for sandboxed evaluation" >&2
fi

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  "$PYTHON" -m pip install "torch==2.13.0"
fi
"$PYTHON" -m pip install -e ".[dev]"
"$PYTHON" -m pipeline.cli evaluate --prepare-toolchains go rust \
  || echo "setup: Go/Rust HumanEvalPack dependencies not prepared; those languages will be skipped" >&2
echo "setup: done"
