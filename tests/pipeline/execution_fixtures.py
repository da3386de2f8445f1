"""Cases for tests/pipeline/test_execution.py: per task and language, what a generator and a
tester could return, right and wrong; and the hostile programs of the evaluation tests planted as
generated solutions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PY_ADD = "def add(a, b):\n    return a + b\n"
PY_SUB = "def add(a, b):\n    return a - b\n"
PY_MUL = "def add(a, b):\n    return a * b\n"
PY_TESTS = "assert add(1, 2) == 3\nassert add(-4, 4) == 0\n"
JS_ADD = "function add(a, b) {\n  return a + b;\n}\n"
JS_SUB = "function add(a, b) {\n  return a - b;\n}\n"
JS_TESTS = (
    "if (add(1, 2) !== 3) { throw new Error('add(1, 2) should be 3'); }\n"
    "if (add(-4, 4) !== 0) { throw new Error('add(-4, 4) should be 0'); }\n"
)
CPP_ADD = "int add(int a, int b) {\n    return a + b;\n}\n"
CPP_SUB = "int add(int a, int b) {\n    return a - b;\n}\n"
CPP_TESTS = "int main() {\n    assert(add(1, 2) == 3);\n    assert(add(-4, 4) == 0);\n}\n"
# A missing semicolon: g++ must reject the tests.
CPP_BROKEN_TESTS = "int main() {\n    assert(add(1, 2) == 3)\n}\n"
# The generator's habit of a package of its own and explicit imports, in both parts (the tests'
# "fmt" unused, which Go rejects unless the layout drops it).
GO_REVERSE = """package strutil

import "strings"

// Shout returns s upper-cased.
func Shout(s string) string {
\treturn strings.ToUpper(s) + "!"
}
"""
GO_TESTS = """package strutil

import (
\t"fmt"
\t"strings"
\t"testing"
)

func TestShout(t *testing.T) {
\tif got := Shout("hi"); got != "HI!" {
\t\tt.Fatalf("Shout(hi) = %q", got)
\t}
\tif !strings.HasSuffix(Shout(""), "!") {
\t\tt.Fatal("no exclamation mark")
\t}
}
"""


def case(task, language, output, *, source_code=None, input="", target_language=None):
    return {
        "task": task,
        "language": language,
        "target_language": target_language,
        "instruction": f"A {task} case.",
        "input": input,
        "output": output,
        "source_code": source_code if source_code is not None else output,
    }


# name -> (case, tests, expected status); run as one batch.
BATCH = {
    "python generation": (case("generation", "python", PY_ADD), {"python": PY_TESTS}, "passed"),
    "python wrong solution": (
        case("generation", "python", PY_SUB),
        {"python": PY_TESTS},
        "failed",
    ),
    "python repair": (
        case("repair", "python", PY_ADD, input=PY_SUB),
        {"python": PY_TESTS},
        "passed",
    ),
    "python repair that does not fix": (
        case("repair", "python", PY_MUL, input=PY_SUB),
        {"python": PY_TESTS},
        "failed",
    ),
    "python repair of passing code": (
        case("repair", "python", PY_ADD, input=PY_ADD),
        {"python": PY_TESTS},
        "failed",
    ),
    # Faulty code that does not parse "fails the tests" for the wrong reason: not fail-to-pass.
    "python repair whose faulty code does not parse": (
        case("repair", "python", PY_ADD, input="def add(a, b)\n    return a - b\n"),
        {"python": PY_TESTS},
        "failed",
    ),
    "python repair of another function": (
        case("repair", "python", PY_ADD, input="def plus(a, b):\n    return a - b\n"),
        {"python": PY_TESTS},
        "error",
    ),
    "javascript generation": (
        case("generation", "javascript", JS_ADD),
        {"js": JS_TESTS},
        "passed",
    ),
    "javascript solution that logs examples": (
        case("generation", "javascript", JS_ADD + "console.log(add(2, 2));\n"),
        {"js": JS_TESTS},
        "passed",
    ),
    "javascript wrong solution": (
        case("generation", "javascript", JS_SUB),
        {"js": JS_TESTS},
        "failed",
    ),
    "javascript repair": (
        case("repair", "javascript", JS_ADD, input=JS_SUB),
        {"js": JS_TESTS},
        "passed",
    ),
    "c++ generation": (case("generation", "c++", CPP_ADD), {"cpp": CPP_TESTS}, "passed"),
    "c++ wrong solution": (case("generation", "c++", CPP_SUB), {"cpp": CPP_TESTS}, "failed"),
    "c++ tests that do not compile": (
        case("generation", "c++", CPP_ADD),
        {"cpp": CPP_BROKEN_TESTS},
        "failed",
    ),
    "c++ repair of passing code": (
        case("repair", "c++", CPP_ADD, input=CPP_ADD),
        {"cpp": CPP_TESTS},
        "failed",
    ),
    "go generation": (case("generation", "go", GO_REVERSE), {"go": GO_TESTS}, "passed"),
    "python to c++ translation": (
        case("translation", "python", CPP_ADD, source_code=PY_ADD, target_language="c++"),
        {"python": PY_TESTS, "cpp": CPP_TESTS},
        "passed",
    ),
    "python to javascript translation that changes behaviour": (
        case("translation", "python", JS_SUB, source_code=PY_ADD, target_language="javascript"),
        {"python": PY_TESTS, "js": JS_TESTS},
        "failed",
    ),
    "python summarization": (
        case("summarization", "python", "Adds two numbers.", source_code=PY_ADD),
        None,
        "not_applicable",
    ),
    "python summarization of code that does not parse": (
        case("summarization", "python", "Adds.", source_code="def add(a, b)\n    return a +\n"),
        None,
        "failed",
    ),
    # CodeSearchNet's usual JavaScript function: anonymous, a statement only once wrapped.
    "javascript summarization": (
        case("summarization", "javascript", "Adds.", source_code="function (a, b) { return a; }"),
        None,
        "not_applicable",
    ),
    "javascript summarization of code that does not parse": (
        case("summarization", "javascript", "Adds.", source_code="function add(a, b) { return"),
        None,
        "failed",
    ),
    "c++ summarization": (
        case("summarization", "c++", "Adds.", source_code=CPP_ADD),
        None,
        "not_applicable",
    ),
    "go summarization of a method on an unseen type": (
        case(
            "summarization",
            "go",
            "Names it.",
            source_code='func (r *Repo) Name() string {\n\treturn r.owner + "/" + r.name\n}',
        ),
        None,
        "not_applicable",
    ),
    "a language with no sandbox": (
        case("generation", "kotlin", "fun add(a: Int, b: Int) = a + b"),
        {"kotlin": "check(add(1, 2) == 3)"},
        "skipped",
    ),
    "a case without tests": (case("generation", "python", PY_ADD), None, "error"),
}

# HumanEval/2's truncate_number, which the hostile bodies of the evaluation tests complete.
TRUNCATE_HEAD = "def truncate_number(number: float) -> float:\n"
TRUNCATE_TESTS = "assert truncate_number(3.5) == 0.5\nassert truncate_number(1.25) == 0.25\n"
TRUNCATE_OK = TRUNCATE_HEAD + "    return number % 1.0\n"
# Hostile case name in tests/evaluation/test_sandbox_hostile.py -> the status it must get.
HOSTILE = {
    "fork bomb": "failed",
    "infinite loop": "timeout",
    "write outside tmpfs": "failed",
    "kill the parent": "failed",
}


def hostile_bodies(victim: Path) -> dict[str, str]:
    """The bodies of `HOSTILE`, from the evaluation's hostile-program test (one source)."""
    folder = Path(__file__).parents[1] / "evaluation"
    if str(folder) not in sys.path:  # its own imports (listening.py) live beside it
        sys.path.insert(0, str(folder))
    path = folder / "test_sandbox_hostile.py"
    spec = importlib.util.spec_from_file_location("sandbox_hostile_programs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    every = module._hostile_cases(victim, victim, 9, "wavecoder-execution-test")
    return {name: every[name] for name in HOSTILE}


# Per sandbox language, CodeSearchNet-shaped code that parses (using names defined elsewhere)
# and code that does not.
PARSES = {
    "java": (
        'public String name() {\n    return owner.getName() + "/" + repo;\n}',
        "public String name() {\n    return owner.getName() +;\n}",
    ),
    "php": (
        "public function getName()\n{\n    return $this->owner->name . '/' . $this->repo;\n}",
        "<?php function name($a) { return $a +; }",
    ),
    "ruby": ('def full_name\n  "#{owner.name}/#{repo}"\nend', "def full_name\n  owner +\n"),
    "rust": (
        "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}",
        "fn add(a: i32) -> i32 {\n    a +\n}",
    ),
}
