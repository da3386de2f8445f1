"""PHP and Ruby: the two CodeSearchNet languages HumanEvalPack lacks, for checking generated tests.

They are not benchmark languages (HumanEvalPack's are `PACK_LANGUAGES`); `evaluation.languages`
lists them so that `evaluation.execution.check_programs` can run their programs. A program is one
script, the solution followed by its tests, whose asserts end it with a non-zero status on
failure (an uncaught exception: PHP's ``AssertionError`` or ``throw``, Ruby's ``raise``). The same
verdict as the compiled languages: it passes only if the run exited 0 *and* printed the per-run
end marker, which the script prints after its last test statement, so an early ``exit(0)`` (or
``exit!``, ``__halt_compiler();``, ``__END__``) before the tests fails.

PHP runs with ``-d zend.assertions=1 -d assert.exception=1``: Debian's CLI php.ini sets
``zend.assertions = -1`` (production), which compiles every ``assert()`` away, so a failing
assert would pass. A leading ``<?php`` and a trailing ``?>`` of the solution and the tests are
dropped, and the file gets one opening tag. PHP reads its php.ini and extension list from
``/etc/php``, bound read-only (``/usr/bin/php`` is a Debian alternative: ``/etc/alternatives`` is
bound for every language).

Ruby's tests must run inline: a framework that runs them at exit (``minitest/autorun``,
``test/unit``) runs them after the end marker, so a failing test still fails (exit status 1) but an
``exit!(0)`` inside a test would pass. What remains forgeable, as in the other languages: the nonce
is in the script itself (``__FILE__``), and code that rewrites the test's checking
(``ini_set('zend.assertions', 0)``, redefining a helper) passes. The sandbox contains all of it.
"""

from __future__ import annotations

import json
import os
import re

from evaluation.language_base import Language, Program, run_step
from evaluation.toolchain_probe import Toolchain, command_output

# Errors go to stderr once (logged, not also displayed on stdout).
PHP_FLAGS = ("-d", "zend.assertions=1", "-d", "assert.exception=1")
PHP_FLAGS += ("-d", "display_errors=0", "-d", "log_errors=1")
_PHP_OPEN = re.compile(r"\A\s*<\?php\b", re.I)
_PHP_CLOSE = re.compile(r"\?>\s*\Z")


class Php(Language):
    name, display, file_name = "php", "PHP", "main.php"
    binaries = ("php",)
    install_hint = "`apt-get install --no-install-recommends php-cli`"

    def toolchain(self) -> Toolchain:
        super().toolchain()
        # e.g. "8.2.36"; ToolchainMissing when php cannot run.
        version = command_output(("php", "-n", "-r", "echo PHP_VERSION;"))
        binds = ("/etc/php",) if os.path.isdir("/etc/php") else ()
        return Toolchain(ro_binds=binds, version=f"PHP {version}")

    def source(self, program: Program, marker: str) -> str:
        parts = [_php_body(program.solution), _php_body(program.test)]
        return "<?php\n" + "\n".join(parts) + self.end_marker(marker)

    def end_marker(self, marker: str) -> str:
        # Fully qualified: a namespaced solution cannot shadow fwrite or STDOUT.
        return f"\n;\\fwrite(\\STDOUT, {json.dumps(marker + chr(10))});\n"

    def steps(self, program, toolchain, timeout_s):
        return (run_step(("php", *PHP_FLAGS, "main.php"), timeout_s),)


class Ruby(Language):
    name, display, file_name = "ruby", "Ruby", "main.rb"
    binaries = ("ruby",)
    install_hint = "`apt-get install --no-install-recommends ruby`"

    def toolchain(self) -> Toolchain:
        super().toolchain()
        # e.g. "ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) [x86_64-linux-gnu]"
        version = command_output(("ruby", "--version")).split(" (")[0]
        return Toolchain(version=version.replace("ruby", "Ruby", 1))

    def end_marker(self, marker: str) -> str:
        return f"\n$stdout.write({json.dumps(marker + chr(10))}); $stdout.flush\n"

    def steps(self, program, toolchain, timeout_s):
        return (run_step(("ruby", "main.rb"), timeout_s),)


def _php_body(code: str) -> str:
    """`code` without its leading ``<?php`` and trailing ``?>`` (the file gets one opening tag)."""
    return _PHP_CLOSE.sub("", _PHP_OPEN.sub("", code, count=1), count=1)
