"""What a language finds installed on this host: its `Toolchain`, or `ToolchainMissing`.

Probes run once per process (cached): a compiler's ``--version`` or ``env`` output, the manifest
that ``wavecoder evaluate --prepare-toolchains`` wrote for Go and Rust (see
`evaluation.toolchains`), and the folders outside ``/usr`` that a JDK links into. A probe that
fails raises ToolchainMissing with its error, so the language is a counted skip with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Where `wavecoder evaluate --prepare-toolchains` keeps Go modules and Rust crates for offline use.
TOOLCHAIN_CACHE = Path(
    os.environ.get("WAVECODER_TOOLCHAIN_CACHE", Path.home() / ".cache" / "wavecoder" / "toolchains")
)


class ToolchainMissing(Exception):
    """The language's compiler or runtime is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Toolchain:
    """What a language needs from the host: folders to bind read-only, PATH entries, environment,
    files to add to every program's folder, extra compiler flags, a build cache to copy in, and
    the version probed (e.g. "PHP 8.2.36"; empty where the language does not report one)."""

    ro_binds: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    flags: tuple[str, ...] = ()
    warm_cache: str | None = None
    version: str = ""


def read_manifest(language: str) -> dict:
    path = TOOLCHAIN_CACHE / language / "manifest.json"
    if not path.exists():
        raise ToolchainMissing(
            f"the offline dependencies of {language.capitalize()}'s HumanEvalPack tests are not "
            f"prepared ({path} missing); run `wavecoder evaluate --prepare-toolchains "
            f"{language}` once with access to the package registry"
        )
    return json.loads(path.read_text())


def outside_usr(*paths: str) -> tuple[str, ...]:
    return tuple(p for p in paths if p != "/usr" and not p.startswith("/usr/"))


@cache
def jdk_links_outside_usr(java: str | None) -> tuple[str, ...]:
    """Folders outside /usr that the JDK of `java` links into (Debian keeps its conf/ in
    /etc/java-N-openjdk and its cacerts in /etc/ssl/certs/java), outermost only."""
    if not java:
        return ()
    home = Path(os.path.realpath(java)).parent.parent
    targets = set()
    for folder, dirs, files in os.walk(home):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                target = os.path.realpath(path)
                if os.path.exists(target) and outside_usr(target):
                    targets.add(os.path.dirname(target))
    return tuple(sorted(t for t in targets if not any(str(p) in targets for p in Path(t).parents)))


@cache
def command_output(argv: tuple[str, ...]) -> str:
    """A toolchain probe's stdout; ToolchainMissing, with its error, when it fails."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolchainMissing(f"`{' '.join(argv)}` could not run: {exc}") from exc
    if done.returncode != 0:
        raise ToolchainMissing(
            f"`{' '.join(argv)}` failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
        )
    return done.stdout.strip()
