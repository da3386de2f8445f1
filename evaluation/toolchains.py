"""Prepare, once and online, what Go and Rust HumanEvalPack tests need offline.

HumanEvalPack's Go tests import ``github.com/stretchr/testify/assert`` (v1.8.0 in the HumanEval-X
harness); its Rust declarations ``use`` the crates ``rand`` (0.4 there), ``regex`` 1 and ``md5``
0.7. `prepare_toolchains(["go", "rust"])` (``wavecoder evaluate --prepare-toolchains go rust``)
builds them and writes a ``manifest.json`` per language under `TOOLCHAIN_CACHE`;
`evaluation.languages` reads it and mounts the folder read-only into the sandbox. Nothing here runs
model code. Sources, first found wins:

- Go: Debian's ``golang-github-stretchr-testify-dev`` (testify 1.8.1 in ``/usr/share/gocode``,
  built in GOPATH mode), else testify v1.8.0 from the Go module proxy. Either way a build cache is
  warmed by compiling a test importing testify and the standard packages the harness adds, and
  copied into each sandbox's tmpfs;
- Rust: Debian's ``librust-{rand,regex,md5}-dev`` (``/usr/share/cargo/registry``: rand 0.8, whose
  ``Rng`` trait the declarations import, regex 1.7, md5 0.7), else crates.io with rand 0.4. A
  Cargo project's ``target/release/deps`` holds the rlibs passed to ``rustc --extern``; the
  manifest records the rustc version, which must not change afterwards.

Each language is prepared on its own: one failing does not stop the other. ``python -m
evaluation.toolchains`` prints `toolchain_report`: which languages evaluation will score, and each
one it will skip with the reason, then the versions probed (`toolchain_versions`: PHP, Ruby); it
exits 1 when something is missing and every toolchain is required (`toolchains_required`:
``CI=true``, or ``WAVECODER_REQUIRE_TOOLCHAINS=1``), which is how ``scripts/setup.sh`` fails in CI
and nowhere else.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from evaluation.benchmarks.humanevalpack import GO_PACKAGES
from evaluation.languages import LANGUAGES
from evaluation.sandbox import find_bwrap
from evaluation.toolchain_probe import TOOLCHAIN_CACHE, ToolchainMissing
from wavecoder.errors import UserError

log = logging.getLogger(__name__)

TESTIFY_VERSION = "v1.8.0"
DEBIAN_GOPATH = Path("/usr/share/gocode")
DEBIAN_CRATES = Path("/usr/share/cargo/registry")
RUST_CRATES = {"rand": "0.4", "regex": "1", "md5": "0.7"}
DEBIAN_RUST_CRATES = {"rand": "0.8", "regex": "1", "md5": "0.7"}
# The Debian packages whose crates an offline `cargo build` of RUST_CRATES needs: the `+default`
# feature package pulls the optional dependencies of default features (regex: aho-corasick, memchr).
DEBIAN_RUST_PACKAGES = "librust-rand-dev librust-regex+default-dev librust-md5-dev"
PREPARE_TIMEOUT_S = 1800
# Set to 1 (or 0) to require (or not) every toolchain (HumanEvalPack's, PHP, Ruby); unset, CI=true
# requires them.
REQUIRE_ENV = "WAVECODER_REQUIRE_TOOLCHAINS"


def prepare_toolchains(languages: list[str], cache: Path = TOOLCHAIN_CACHE) -> None:
    """Prepare each of `languages` ("go", "rust") under `cache`, each on its own; UserError naming
    those that could not be prepared (each one's error is printed as it fails)."""
    failed = {}
    for language in dict.fromkeys(languages):
        try:
            {"go": prepare_go, "rust": prepare_rust}[language](cache / language)
        except (UserError, OSError, subprocess.SubprocessError, ValueError) as exc:
            failed[language] = str(exc).strip()
            print(f"{language}: not prepared: {failed[language]}", file=sys.stderr)
        else:
            print(f"{language}: prepared in {cache / language}")
    if failed:
        names = ", ".join(failed)
        raise UserError(
            f"could not prepare {names} (see above); evaluation skips "
            f"{'it' if len(failed) == 1 else 'them'} until `wavecoder evaluate "
            f"--prepare-toolchains {' '.join(failed)}` succeeds"
        )


def toolchain_report() -> dict[str, str | None]:
    """Per language of `evaluation.languages.LANGUAGES`: None when its toolchain is ready, else
    why evaluation will skip it (the `ToolchainMissing` message, with how to install it)."""
    report = {}
    for name, language in LANGUAGES.items():
        try:
            language.toolchain()
            report[name] = None
        except ToolchainMissing as exc:
            report[name] = str(exc)
    return report


def toolchain_versions() -> dict[str, str]:
    """Per ready language that reports one, its probed version (e.g. "php": "PHP 8.2.36")."""
    versions = {}
    for name, language in LANGUAGES.items():
        try:
            version = language.toolchain().version
        except ToolchainMissing:
            continue
        if version:
            versions[name] = version
    return versions


def print_report(report: dict[str, str | None], file=None) -> None:
    """The languages evaluation scores, and each one it skips with the reason."""
    file = file or sys.stdout
    ready = [LANGUAGES[name].display for name, reason in report.items() if reason is None]
    print(f"toolchains: evaluation runs {', '.join(ready) or 'no language'}", file=file)
    skipped = {LANGUAGES[name].display: reason for name, reason in report.items() if reason}
    if not skipped:
        print("toolchains: evaluation skips no language", file=file)
    for display, reason in skipped.items():
        print(f"toolchains: evaluation will skip {display} ({reason})", file=file)


def toolchains_required() -> bool:
    """Whether a missing toolchain is an error rather than a skip: WAVECODER_REQUIRE_TOOLCHAINS
    when set (1 or 0), else whether CI=true (as CI services set it)."""
    value = os.environ.get(REQUIRE_ENV, "").strip().lower()
    if value:
        return value not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def main() -> int:
    """`python -m evaluation.toolchains`: the sandbox and toolchain report; 1 when something is
    missing and every toolchain is required (see `toolchains_required`), else 0."""
    report = toolchain_report()
    bwrap = find_bwrap()
    print(
        f"sandbox: bubblewrap at {bwrap}"
        if bwrap
        else "sandbox: bubblewrap is not installed (`apt-get install bubblewrap`): evaluation "
        "refuses to run model code"
    )
    print_report(report)
    versions = toolchain_versions()
    if versions:
        print(f"toolchains: versions: {', '.join(versions.values())}")
    missing = [name for name, reason in report.items() if reason] + ([] if bwrap else ["bwrap"])
    if missing and toolchains_required():
        print(
            f"toolchains: ERROR: {', '.join(missing)} not ready, and every toolchain is required "
            f"here ({REQUIRE_ENV}=1, or CI=true); set {REQUIRE_ENV}=0 to skip them instead",
            file=sys.stderr,
        )
        return 1
    return 0


def _run(argv: list[str], cwd: Path, env: dict | None = None) -> str:
    if shutil.which(argv[0]) is None:
        raise UserError(f"`{argv[0]}` is not installed; install the toolchain first")
    log.info("running %s", " ".join(argv))
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=PREPARE_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise UserError(f"`{' '.join(argv)}` failed:\n{done.stderr[-2000:]}")
    return done.stdout


def prepare_go(root: Path) -> Path:
    """testify (Debian's or the proxy's) and a warm build cache in `root`; returns the manifest."""
    module = root / "module"
    shutil.rmtree(root, ignore_errors=True)
    module.mkdir(parents=True)
    env = {"GOCACHE": str(root / "buildcache"), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    manifest = {"buildcache": env["GOCACHE"]}
    if (DEBIAN_GOPATH / "src/github.com/stretchr/testify/assert").is_dir():
        env.update(GO111MODULE="off", GOPATH=str(DEBIAN_GOPATH))
        manifest.update(mode="gopath", gopath=str(DEBIAN_GOPATH))
    else:
        env.update(GOMODCACHE=str(root / "modcache"), GOFLAGS="-mod=mod")
        (module / "go.mod").write_text("module humanEval\n\ngo 1.18\n")
        _run(["go", "get", f"github.com/stretchr/testify@{TESTIFY_VERSION}"], module, env)
        manifest.update(mode="module", modcache=env["GOMODCACHE"])
    imports = "\n".join(f'    "{p}"' for p in ("testing", *GO_PACKAGES))
    uses = "\n".join(f"var _ = {p.split('/')[-1]}.{_GO_SYMBOL[p]}" for p in GO_PACKAGES)
    (module / "main_test.go").write_text(
        "package main\n\nimport (\n"
        + imports
        + '\n    "github.com/stretchr/testify/assert"\n)\n\n'
        + uses
        + "\n\nfunc TestWarm(t *testing.T) {\n    assert.Equal(t, 1, 1)\n}\n"
    )
    _run(["go", "test", "-c", "-vet=off", "-o", os.devnull, "main_test.go"], module, env)
    manifest["go"] = _run(["go", "version"], module).strip()
    if manifest["mode"] == "module":
        manifest["go.mod"] = (module / "go.mod").read_text()
        manifest["go.sum"] = (module / "go.sum").read_text()
    _make_readable(root)
    path = root / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


# One exported name per package, so that the warm-up test compiles (Go rejects unused imports).
_GO_SYMBOL = {
    "math": "Pi",
    "strings": "ToUpper",
    "fmt": "Sprint",
    "strconv": "Itoa",
    "time": "Now",
    "bytes": "Equal",
    "regexp": "MustCompile",
    "sort": "Ints",
    "math/rand": "Intn",
    "crypto/md5": "Sum",
}


def prepare_rust(root: Path) -> Path:
    """A Cargo project with rand/regex/md5 built in release mode; returns the manifest path."""
    project = root / "deps"
    shutil.rmtree(root, ignore_errors=True)
    (project / "src").mkdir(parents=True)
    crates, offline = RUST_CRATES, []
    if all(any(DEBIAN_CRATES.glob(f"{name}-[0-9]*")) for name in DEBIAN_RUST_CRATES):
        crates, offline = DEBIAN_RUST_CRATES, ["--offline"]
        (project / ".cargo").mkdir()
        (project / ".cargo" / "config.toml").write_text(
            '[source.crates-io]\nreplace-with = "debian"\n\n'
            f'[source.debian]\ndirectory = "{DEBIAN_CRATES}"\n'
        )
    dependencies = "\n".join(f'{name} = "{version}"' for name, version in crates.items())
    (project / "Cargo.toml").write_text(
        '[package]\nname = "humanevalpack_deps"\nversion = "0.1.0"\nedition = "2021"\n\n'
        f"[dependencies]\n{dependencies}\n"
    )
    (project / "src" / "lib.rs").write_text("")
    try:
        output = _run(["cargo", "build", "--release", "--message-format=json", *offline], project)
    except UserError as exc:
        if not offline:
            raise
        raise UserError(
            f"{exc}\nThe crates come from Debian's registry ({DEBIAN_CRATES}), where a missing "
            "crate means a missing Debian package: "
            f"`apt-get install --no-install-recommends {DEBIAN_RUST_PACKAGES}`"
        ) from exc
    externs = {}
    for line in output.splitlines():
        message = json.loads(line)
        target = message.get("target", {})
        if message.get("reason") == "compiler-artifact" and target.get("name") in crates:
            rlibs = [f for f in message["filenames"] if f.endswith(".rlib")]
            if rlibs:
                externs[target["name"]] = rlibs[0]
    missing = set(crates) - set(externs)
    if missing:
        raise UserError(f"cargo built no rlib for {', '.join(sorted(missing))}")
    manifest = {
        "rustc": _run(["rustc", "--version"], project).strip(),
        "deps": str(project / "target" / "release" / "deps"),
        "externs": externs,
        "crates": crates,
    }
    _make_readable(root)
    path = root / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


def _make_readable(root: Path) -> None:
    """The sandbox runs as an unprivileged uid: let it read (not write) the caches."""
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            file = Path(folder) / name
            file.chmod(file.stat().st_mode | 0o444)


if __name__ == "__main__":
    sys.exit(main())
