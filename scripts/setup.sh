#!/usr/bin/env bash
# Installs everything wavecoder and its tests need into the active Python environment.
#
# - Debian packages: bubblewrap (the evaluation sandbox) and the HumanEvalPack toolchains (Node.js,
#   a JDK, g++ with libssl, Go with testify, Rust with the rand/regex/md5 crates), PHP and Ruby (the
#   two CodeSearchNet languages HumanEvalPack lacks, for checking generated tests), and Chromium for
#   the Space's browser tests (Playwright drives /usr/bin/chromium headless; fonts-dejavu-core so
#   that it renders text), one group at a time. Without apt-get or root it prints the apt-get
#   command instead.
# - The offline Go/Rust test dependencies (`wavecoder evaluate --prepare-toolchains go rust`),
#   each language on its own.
# - PyTorch: the CPU build 2.13.0 first, unless a torch is already installed (a GPU build stays),
#   so that the package's own `torch>=...` range installs nothing more.
# - wavecoder itself, editable, with the dev extra (tests, ruff, offline embedding model).
#
# It ends by saying which languages evaluation will score and which it will skip,
# and why (`python -m evaluation.toolchains`). A language that could not be set up is not an
# error (evaluation and the tests skip it, with the reason), except where every toolchain is
# required: WAVECODER_REQUIRE_TOOLCHAINS=1, or CI=true unless WAVECODER_REQUIRE_TOOLCHAINS=0.
# There setup fails, so that CI proves the set-up from scratch instead of skipping languages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# One apt-get install per group: a package this distribution lacks skips only its own language.
# Recommends are never installed: php-cli and ruby run scripts without them (ruby3.1 recommends
# only fonts-lato and libjs-jquery, for its HTML documentation).
# Rust: Debian splits a crate's optional dependencies into feature packages, which
# --no-install-recommends leaves out; `cargo build --offline` needs those of the default
# features (librust-regex+default-dev: aho-corasick, memchr). rustup's toolchain stays first.
APT_GROUPS=(
  "bubblewrap"                                                              # the evaluation sandbox
  "nodejs"                                                                  # JavaScript
  "default-jdk-headless"                                                    # Java
  "g++ libssl-dev"                                                          # C++ (libssl: the md5 task)
  "golang-go golang-github-stretchr-testify-dev"                            # Go, testify
  "rustc cargo librust-rand-dev librust-regex+default-dev librust-md5-dev"  # Rust, its crates
  "php-cli"                                                                 # PHP (CodeSearchNet)
  "ruby"                                                                    # Ruby (CodeSearchNet)
  "chromium fonts-dejavu-core"                                              # the Space's browser tests
)
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq || echo "setup: apt-get update failed; installing from the current lists" >&2
  for group in "${APT_GROUPS[@]}"; do
    # shellcheck disable=SC2086 # a group is several package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $group >/dev/null \
      || echo "setup: could not install $group; evaluation skips what needs it" >&2
  done
else
  echo "setup: not root or no apt-get; the sandbox (bubblewrap) and the evaluation toolchains" >&2
  echo "setup: are not installed. On Debian/Ubuntu, as root:" >&2
  echo "  apt-get install --no-install-recommends ${APT_GROUPS[*]}" >&2
fi

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  "$PYTHON" -m pip install "torch==2.13.0"
fi
"$PYTHON" -m pip install -e ".[dev]"

# AutoTrain Advanced, only to check training/autotrain/*.yaml with AutoTrain's own parser
# (tests/training/test_autotrain.py). autotrain-advanced 0.8.36 pins transformers 4.48, trl 0.13
# and peft 0.14, which clash with ours, so it gets its own venv (WAVECODER_AUTOTRAIN_VENV, default
# ~/.cache/wavecoder/autotrain-venv) holding only itself and loguru, installed without their
# dependencies; a .pth file there puts this environment's packages (torch, transformers,
# pydantic, ...) behind them, which is enough to parse configs, not to train
# (training/autotrain/README.md installs AutoTrain for that). About 10 s. A failure here (e.g. no
# PyPI) is printed and set-up goes on; the test then skips, or fails where every tool is required
# (see above).
AUTOTRAIN_VENV=${WAVECODER_AUTOTRAIN_VENV:-$HOME/.cache/wavecoder/autotrain-venv}
autotrain_venv() {
  "$PYTHON" -m venv "$AUTOTRAIN_VENV" || return 1
  local site
  site=$("$AUTOTRAIN_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
    || return 1
  # A .pth line starting with `import` runs at start-up; addsitedir also reads the .pth files of
  # this environment (editable installs), which a plain path line would not.
  "$PYTHON" -c 'import sysconfig; p = sysconfig.get_paths(); print("import site; " + "; ".join(
    f"site.addsitedir({d!r})" for d in dict.fromkeys([p["purelib"], p["platlib"]])))' \
    >"$site/wavecoder-env.pth" || return 1
  "$AUTOTRAIN_VENV/bin/python" -m pip install -q --no-deps "autotrain-advanced==0.8.36" "loguru>=0.7"
}
if "$AUTOTRAIN_VENV/bin/python" -c "from importlib.metadata import version as v; \
assert v('autotrain-advanced') == '0.8.36' and v('loguru')" 2>/dev/null; then
  echo "setup: AutoTrain environment (config checks only) already at $AUTOTRAIN_VENV"
elif autotrain_venv; then
  echo "setup: AutoTrain environment (config checks only) created at $AUTOTRAIN_VENV"
else
  echo "setup: could not create the AutoTrain environment at $AUTOTRAIN_VENV (see above);" \
    "tests/training/test_autotrain.py skips it (and fails in CI)" >&2
fi
# Prints each language's outcome ("go: prepared in ...", "rust: not prepared: <why>").
"$PYTHON" -m wavecoder evaluate --prepare-toolchains go rust || true
# Which languages evaluation scores and which it skips, with the reason; fails where every
# toolchain is required (see above).
if ! "$PYTHON" -m evaluation.toolchains; then
  echo "setup: FAILED (see above)" >&2
  exit 1
fi
echo "setup: done"
