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
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

from evaluation.benchmarks.humanevalpack import GO_PACKAGES
from evaluation.toolchain_probe import TOOLCHAIN_CACHE
from pipeline.errors import UserError

log = logging.getLogger(__name__)

TESTIFY_VERSION = "v1.8.0"
DEBIAN_GOPATH = Path("/usr/share/gocode")
DEBIAN_CRATES = Path("/usr/share/cargo/registry")
RUST_CRATES = {"rand": "0.4", "regex": "1", "md5": "0.7"}
DEBIAN_RUST_CRATES = {"rand": "0.8", "regex": "1", "md5": "0.7"}
PREPARE_TIMEOUT_S = 1800


def prepare_toolchains(languages: list[str], cache: Path = TOOLCHAIN_CACHE) -> None:
    """Prepare each of `languages` ("go", "rust") under `cache`."""
    for language in languages:
        {"go": prepare_go, "rust": prepare_rust}[language](cache / language)
        print(f"{language}: prepared in {cache / language}")


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
    output = _run(["cargo", "build", "--release", "--message-format=json", *offline], project)
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
