"""Preparing and reporting the HumanEvalPack toolchains: each language on its own, the exact list of
languages evaluation will skip, and a loud failure where every toolchain is required (CI)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from evaluation import toolchains
from evaluation.languages import LANGUAGES
from evaluation.sandbox import find_bwrap
from evaluation.toolchains import (
    DEBIAN_RUST_PACKAGES,
    REQUIRE_ENV,
    main,
    prepare_toolchains,
    toolchain_report,
    toolchain_versions,
    toolchains_required,
)
from wavecoder.errors import UserError

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("require", "ci", "expected"),
    [
        (None, None, False),
        (None, "true", True),
        (None, "false", False),
        ("1", None, True),
        ("0", "true", False),
        ("1", "false", True),
    ],
)
def test_toolchains_are_required_in_ci_unless_told_otherwise(monkeypatch, require, ci, expected):
    for name, value in ((REQUIRE_ENV, require), ("CI", ci)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert toolchains_required() is expected


def test_one_language_failing_to_prepare_does_not_stop_the_other(tmp_path, monkeypatch, capsys):
    prepared = []

    def fail(root):
        raise UserError("`cargo build` failed: no matching package named `aho-corasick`")

    monkeypatch.setattr(toolchains, "prepare_rust", fail)
    monkeypatch.setattr(toolchains, "prepare_go", prepared.append)
    with pytest.raises(UserError) as raised:
        prepare_toolchains(["rust", "go"], cache=tmp_path)
    assert prepared == [tmp_path / "go"]
    message = str(raised.value)
    assert message.startswith("could not prepare rust (see above)"), message
    assert "go" not in message.replace("--prepare-toolchains", "")
    out, err = capsys.readouterr()
    assert f"go: prepared in {tmp_path / 'go'}" in out
    assert "rust: not prepared: `cargo build` failed: no matching package named" in err


def test_report_names_exactly_the_skipped_languages(monkeypatch, capsys):
    monkeypatch.setattr(LANGUAGES["js"], "binaries", ("node-that-is-not-installed",))
    monkeypatch.setattr(LANGUAGES["cpp"], "binaries", ("g++-that-is-not-installed",))
    report = toolchain_report()
    assert set(report) == set(LANGUAGES)
    assert report["python"] is None
    assert report["js"].startswith("JavaScript toolchain not installed")
    monkeypatch.setenv(REQUIRE_ENV, "0")
    assert main() == 0
    out = capsys.readouterr().out
    skipped = re.findall(r"^toolchains: evaluation will skip (\S+) \(", out, re.M)
    expected = [LANGUAGES[name].display for name, reason in toolchain_report().items() if reason]
    assert skipped == expected and {"JavaScript", "C++"} <= set(skipped)
    assert "apt-get install nodejs" in out
    ready = out.split("toolchains: evaluation runs ", 1)[1].splitlines()[0]
    assert "Python" in ready.split(", ") and "JavaScript" not in ready


def test_a_missing_toolchain_fails_where_every_one_is_required(monkeypatch, capsys):
    monkeypatch.setattr(LANGUAGES["js"], "binaries", ("node-that-is-not-installed",))
    monkeypatch.setenv(REQUIRE_ENV, "1")
    assert main() == 1
    err = capsys.readouterr().err
    assert re.search(r"toolchains: ERROR: (\S+, )*js(, \S+)* not ready", err), err


def test_every_toolchain_is_ready_where_required():
    """In CI (CI=true) or with WAVECODER_REQUIRE_TOOLCHAINS=1, `scripts/setup.sh` must have
    prepared the sandbox and all eight languages (HumanEvalPack's six, PHP and Ruby): a skip
    there would hide a broken set-up."""
    if not toolchains_required():
        pytest.skip(f"toolchains are not required here (set {REQUIRE_ENV}=1, or CI=true)")
    missing = {name: reason for name, reason in toolchain_report().items() if reason}
    assert missing == {}
    assert find_bwrap() is not None


def test_a_missing_php_or_ruby_is_reported_with_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(LANGUAGES["php"], "binaries", ("php-that-is-not-installed",))
    monkeypatch.setattr(LANGUAGES["ruby"], "binaries", ("ruby-that-is-not-installed",))
    report = toolchain_report()
    assert report["php"] == (
        "PHP toolchain not installed (php-that-is-not-installed not on PATH); install it with "
        "`apt-get install --no-install-recommends php-cli`"
    )
    assert report["ruby"].endswith("`apt-get install --no-install-recommends ruby`")
    assert set(toolchain_versions()).isdisjoint({"php", "ruby"})
    monkeypatch.setenv(REQUIRE_ENV, "1")
    assert main() == 1
    captured = capsys.readouterr()
    assert "toolchains: evaluation will skip PHP (" in captured.out
    assert "toolchains: evaluation will skip Ruby (" in captured.out
    assert re.search(r"toolchains: ERROR: (\S+, )*php, ruby(, \S+)* not ready", captured.err)


def test_php_and_ruby_versions_are_probed_and_printed(require_toolchain, monkeypatch, capsys):
    for language in ("php", "ruby"):
        require_toolchain(language)
    versions = toolchain_versions()
    assert re.fullmatch(r"PHP \d+\.\d+\.\d+\S*", versions["php"]), versions
    assert re.fullmatch(r"Ruby \d+\.\d+\.\d+\S*", versions["ruby"]), versions
    monkeypatch.setenv(REQUIRE_ENV, "0")
    main()
    line = next(x for x in capsys.readouterr().out.splitlines() if "versions:" in x)
    assert versions["php"] in line and versions["ruby"] in line


def test_setup_installs_php_and_ruby_each_in_its_own_group_without_recommends():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    groups = re.search(r"^APT_GROUPS=\((.*?)^\)", setup, re.M | re.S).group(1)
    names = [line.split('"')[1] for line in groups.splitlines() if '"' in line]
    assert "php-cli" in names and "ruby" in names
    install = next(line for line in setup.splitlines() if "apt-get install -y" in line)
    assert "--no-install-recommends $group" in install


def test_setup_installs_the_debian_crates_the_offline_rust_build_needs():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    rust_group = next(line for line in setup.splitlines() if line.strip().startswith('"rustc '))
    assert set(DEBIAN_RUST_PACKAGES.split()) <= set(rust_group.split('"')[1].split())
    assert "librust-regex+default-dev" in DEBIAN_RUST_PACKAGES


def test_an_incomplete_debian_crate_registry_names_the_packages(tmp_path, monkeypatch):
    """regex without its default features' dependencies (aho-corasick, memchr): the error says
    which Debian packages to install."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    registry = tmp_path / "registry"
    for crate in ("rand-0.8.5", "regex-1.7.1", "md5-0.7.0"):
        (registry / crate).mkdir(parents=True)
    monkeypatch.setattr(toolchains, "DEBIAN_CRATES", registry)
    with pytest.raises(UserError) as raised:
        toolchains.prepare_rust(tmp_path / "rust")
    assert f"apt-get install --no-install-recommends {DEBIAN_RUST_PACKAGES}" in str(raised.value)
