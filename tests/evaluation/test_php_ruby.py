"""PHP and Ruby programs in the real sandbox, through `check_programs` as generated tests will be:
a correct program passes, a wrong one, a syntax error and each hostile program fail, every hostile
effect stays inside the sandbox, and a missing toolchain is a counted skip with the reason.

One batch per language (with its canary and a correct control after each hostile case), so the
whole file takes a few seconds. Without php or ruby the tests skip with the reason, or fail where
every toolchain is required (`require_toolchain`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from listening import listening_socket

from evaluation.benchmarks.humanevalpack import PACK_LANGUAGES
from evaluation.execution import check_programs
from evaluation.languages import LANGUAGES, SCRIPTING_LANGUAGES, Program
from evaluation.languages_scripting import Php

TIMEOUT_S = 3.0
NO_MARKER = "failed: exited with status 0 before all tests ran (no end marker)"
KILLED = "failed: the run did not complete (killed by SIGKILL)"
# Per language: the solution and its test; the hostile cases replace the solution.
CORRECT = {
    "php": "<?php\nfunction add($a, $b) {\n    return $a + $b;\n}\n",
    "ruby": "def add(a, b)\n  a + b\nend\n",
}
TESTS = {
    "php": "<?php\nassert(add(1, 2) === 3);\nassert(add(-1, 1) === 0);\n?>\n",
    "ruby": "raise 'add(1, 2)' unless add(1, 2) == 3\nraise 'add(-1, 1)' unless add(-1, 1) == 0\n",
}


def _cases(language: str, victim: Path, port: int) -> dict[str, tuple[str, str]]:
    """name -> (solution, the start of the expected result)."""
    evaluator = os.getpid()
    if language == "php":
        return {
            "wrong": ("function add($a, $b) { return $a - $b; }", "failed: exit status 255: "),
            "syntax error": ("function add($a, $b) { return $a +; }", "failed: exit status 255"),
            "early exit": ("function add($a, $b) { exit(0); }", NO_MARKER),
            "exit at load": ("exit(0);\nfunction add($a, $b) { return $a + $b; }", NO_MARKER),
            "halt compiler": ("function add($a, $b) { return 0; }\n__halt_compiler();", NO_MARKER),
            "guessed marker": (
                'function add($a, $b) { echo "wavecoder: all tests ran 0\\n"; exit(0); }',
                NO_MARKER,
            ),
            "kill the launcher": (
                "function add($a, $b) {\n"
                f"    foreach ([posix_getppid(), 1, {evaluator}] as $pid) {{ posix_kill($pid, 9); }}\n"
                "    posix_kill(-1, 9);\n    return $a + $b;\n}",
                KILLED,
            ),
            "fork bomb": (
                "function add($a, $b) { while (true) { @pcntl_fork(); } }",
                "timed out",
            ),
            "write outside the tmpfs": (
                "function add($a, $b) {\n"
                f"    if (file_put_contents({str(victim)!r}, 'owned') === false\n"
                "        || file_put_contents('/usr/owned', 'x') === false) {\n"
                "        throw new Exception('not written');\n    }\n    return $a + $b;\n}",
                "failed: exit status 255: ",
            ),
            "network": (
                "function add($a, $b) {\n"
                f"    $s = fsockopen('127.0.0.1', {port}, $errno, $error, 2);\n"
                '    if ($s === false) { throw new Exception("network: $error"); }\n'
                "    return $a + $b;\n}",
                "failed: exit status 255: ",
            ),
        }
    return {
        "wrong": ("def add(a, b) = a - b\n", "failed: exit status 1: "),
        "syntax error": ("def add(a, b) = a +\nend end\n", "failed: exit status 1: "),
        "early exit": ("def add(a, b)\n  exit(0)\nend\n", NO_MARKER),
        "hard exit": ("def add(a, b)\n  exit!(0)\nend\n", NO_MARKER),
        "end of script": ("def add(a, b) = 0\n__END__\n", NO_MARKER),
        "guessed marker": (
            "def add(a, b)\n  puts 'wavecoder: all tests ran 0'\n  exit!(0)\nend\n",
            NO_MARKER,
        ),
        "kill the launcher": (
            "def add(a, b)\n"
            f"  [Process.ppid, 1, {evaluator}].each {{ |pid| Process.kill(:KILL, pid) rescue nil }}\n"
            "  Process.kill(:KILL, -1)\n  a + b\nend\n",
            KILLED,
        ),
        "fork bomb": ("def add(a, b)\n  loop { fork rescue nil }\nend\n", "timed out"),
        "write outside the tmpfs": (
            f"def add(a, b)\n  File.write({str(victim)!r}, 'owned')\n"
            "  File.write('/usr/owned', 'x')\n  a + b\nend\n",
            "failed: exit status 1: ",
        ),
        "network": (
            "require 'socket'\n"
            f"def add(a, b)\n  TCPSocket.new('127.0.0.1', {port}).write('hi')\n  a + b\nend\n",
            "failed: exit status 1: ",
        ),
    }


def test_php_and_ruby_are_checkable_but_not_benchmark_languages():
    assert SCRIPTING_LANGUAGES == ("php", "ruby")
    assert set(SCRIPTING_LANGUAGES) <= set(LANGUAGES)
    assert not set(SCRIPTING_LANGUAGES) & set(PACK_LANGUAGES)
    assert (LANGUAGES["php"].display, LANGUAGES["ruby"].display) == ("PHP", "Ruby")


def test_php_source_has_one_opening_tag_and_the_marker_last():
    source = Php().source(Program("php", CORRECT["php"], TESTS["php"]), "MARK")
    assert source.startswith("<?php\n") and source.count("<?php") == 1 and "?>" not in source
    assert source.rstrip().endswith('\\fwrite(\\STDOUT, "MARK\\n");')


@pytest.mark.parametrize("language", SCRIPTING_LANGUAGES)
def test_programs_pass_fail_and_hostile_ones_are_contained(
    sandbox, require_toolchain, monkeypatch, language
):
    toolchain = require_toolchain(language)
    assert toolchain.version.startswith(LANGUAGES[language].display + " ")
    # World-writable on the host and bound read-only: only the mount protects it.
    victim_dir = Path(tempfile.mkdtemp(dir="/var/tmp"))
    victim_dir.chmod(0o777)
    victim = victim_dir / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o666)
    server, accepted = listening_socket()
    cases = _cases(language, victim, server.getsockname()[1])
    correct = Program(language, CORRECT[language], TESTS[language])
    programs, names = [correct], ["correct"]
    for name, (solution, _) in cases.items():
        programs += [Program(language, solution, TESTS[language]), correct]
        names += [name, "control"]
    original_run = sandbox.run

    def run(job):
        return original_run(replace(job, ro_binds=(*job.ro_binds, str(victim_dir))))

    monkeypatch.setattr(sandbox, "run", run)

    results = check_programs(
        programs, sandbox, timeout_s=TIMEOUT_S, workers=2, canaries={language: correct}
    )

    by_name = dict(zip(names, results, strict=True))
    controls = [r for n, r in zip(names, results, strict=True) if n in ("correct", "control")]
    assert all(r.passed and r.result == "passed" for r in controls), controls
    for name, (_, expected) in cases.items():
        result = by_name[name]
        assert not result.passed and not result.skipped, (name, result)
        assert result.result.startswith(expected), (name, result.result)
    assert "Read-only file system" in by_name["write outside the tmpfs"].result
    assert "refused" in by_name["network"].result.lower()
    if language == "php":
        assert "AssertionError" in by_name["wrong"].result  # zend.assertions is on
    # Host side: nothing written, no connection; the evaluator (this process) is alive.
    assert victim.read_text() == "precious"
    assert not Path("/usr/owned").exists()
    assert accepted == []
    server.close()


@pytest.mark.parametrize("language", SCRIPTING_LANGUAGES)
def test_a_missing_toolchain_is_a_counted_skip_with_the_reason(sandbox, monkeypatch, language):
    monkeypatch.setattr(LANGUAGES[language], "binaries", (f"{language}-that-is-not-installed",))
    program = Program(language, CORRECT[language], TESTS[language])
    results = check_programs([program, program], sandbox, timeout_s=TIMEOUT_S, workers=1)
    assert [r.skipped for r in results] == [True, True]
    assert all(not r.passed for r in results)
    display = LANGUAGES[language].display
    assert results[0].result.startswith(f"skipped: {display} toolchain not installed")
    assert "apt-get install --no-install-recommends" in results[0].result
