"""How generated code and its tests become one `evaluation.languages.Program` per language.

The layouts follow HumanEvalPack's (`evaluation.benchmarks.humanevalpack`), whose helpers they
reuse: C++ gets the harness's headers and loses any ``main`` of its own, Go its package clause and
imports (`go_solution`, with every import of the code and the tests hoisted above the code), Rust
an empty ``main`` (`rust_solution`). Java code without a class of its own goes into ``class
Solution``, and the imports of both parts move to the top of ``Main.java``. JavaScript loses
``export`` keywords (the file is a CommonJS script). PHP and Ruby are one script each.

`parse_program` is the summarization check: the code must parse (Python, JavaScript, Go, Ruby:
the language's own parser, nothing runs; Java: javac's parser; PHP: ``eval`` of the code behind a
``return``) or compile (C++, Rust: type-checked, so code that uses names defined elsewhere fails).
"""

from __future__ import annotations

import base64
import json
import re
import textwrap

from evaluation.benchmarks.base import Problem
from evaluation.benchmarks.humanevalpack import CPP_HEADERS, go_solution, rust_solution
from evaluation.languages import Program

_GO_PACKAGE = re.compile(r"^[ \t]*package[ \t]+\w+[ \t]*;?[ \t]*$", re.M)
_GO_IMPORT_BLOCK = re.compile(r"^[ \t]*import[ \t]*\((.*?)\)[ \t]*$", re.M | re.S)
_GO_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+((?:[\w.]+[ \t]+)?\"[^\"\n]+\")[ \t]*$", re.M)
_JAVA_IMPORT = re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?[\w.*]+[ \t]*;[ \t]*$", re.M)
_JAVA_PACKAGE = re.compile(r"^[ \t]*package[ \t]+[\w.]+[ \t]*;[ \t]*$", re.M)
_JAVA_TYPE = re.compile(
    r"^((?:(?:public|final|abstract|sealed|strictfp)\s+)*)(class|interface|enum|record)\s+\w+",
    re.M,
)
_JS_EXPORT = re.compile(r"^([ \t]*)export[ \t]+(?:default[ \t]+)?", re.M)
_PHP_TAGS = re.compile(r"\A\s*<\?php\b|\?>\s*\Z", re.I)
_PHP_MEMBER = re.compile(r"\A\s*(?:public|private|protected|static|abstract|final)\b")
# JavaScript passes only when nothing is printed (HumanEvalPack's rule, for `console.assert`);
# a solution's example `console.log` calls must not fail it, so logging is a no-op.
JS_QUIET = "console.log = console.info = console.debug = () => {};\n"
CPP_PREAMBLE = CPP_HEADERS + "#include<cassert>\n"
CPP_EMPTY_MAIN = "int main() { return 0; }\n"


def checked_program(language: str, code: str, tests: str) -> Program:
    """`code` (a solution in sandbox language `language`) followed by `tests`."""
    if language == "go":
        return _go(code, tests)
    if language == "java":
        return _java(code, tests)
    if language == "cpp":
        return Program("cpp", CPP_PREAMBLE + "\n" + code.split("int main")[0], "\n" + tests)
    if language == "rust":
        return Program("rust", rust_solution(_problem("rust"), code), "\n" + tests)
    if language == "js":
        return Program("js", JS_QUIET + _JS_EXPORT.sub(r"\1", code), "\n" + tests)
    if language == "php":
        return Program("php", _php(code), "\n" + tests)
    return Program(language, code, "\n" + tests)


def parse_program(language: str, code: str) -> Program:
    """A program that passes when `code` parses (or compiles; see the module docstring)."""
    if language == "python":
        check = f"import ast\nast.parse({textwrap.dedent(code)!r})\n"
        return Program("python", "", check)
    if language == "js":
        return Program("js", "", _JS_PARSE.replace("@@SOURCE@@", json.dumps(code)))
    if language == "go":
        source = code if _GO_PACKAGE.search(code) else "package source\n" + code
        literal = json.dumps(source, ensure_ascii=False)
        return Program("go", _GO_PARSE_HEAD, _GO_PARSE_TEST.replace("@@SOURCE@@", literal))
    if language == "ruby":
        # Raw characters, not \u escapes: Ruby refuses the surrogate pairs of an emoji.
        literal = json.dumps(code, ensure_ascii=False).replace("#", "\\#")
        return Program("ruby", "", f"RubyVM::InstructionSequence.compile({literal})\n")
    if language == "java":
        source = code if _JAVA_TYPE.search(code) else "class Wrapped {\n" + code + "\n}\n"
        literal = json.dumps(source, ensure_ascii=False)
        return Program("java", _JAVA_PARSE_HEAD, _JAVA_PARSE_TEST.replace("@@SOURCE@@", literal))
    if language == "php":
        encoded = base64.b64encode(_php(_PHP_TAGS.sub("", code)).encode()).decode()
        # eval parses the whole string before running it; the leading return runs nothing.
        return Program("php", "", f"eval(\"return true;\\n\" . base64_decode('{encoded}'));\n")
    if language == "cpp":
        return checked_program("cpp", code, CPP_EMPTY_MAIN)
    return checked_program(language, code, "")


def _problem(language: str, test: str = "", test_setup: str = "") -> Problem:
    data = {"declaration": "", "test_setup": test_setup}
    return Problem("generated", language, "", "", test, data)


def _go(code: str, tests: str) -> Program:
    imports: list[str] = []
    bodies = []
    for part in (code, tests):
        for block in _GO_IMPORT_BLOCK.findall(part):
            imports += [line.strip() for line in block.split("\n")]
        imports += _GO_IMPORT_LINE.findall(part)
        part = _GO_IMPORT_LINE.sub("", _GO_IMPORT_BLOCK.sub("", _GO_PACKAGE.sub("", part)))
        bodies.append(part.strip("\n"))
    specs = [s for s in dict.fromkeys(imports) if s and not s.startswith("//")]
    # Go rejects an unused import; generated code and tests often carry one.
    used = "\n".join(
        line for line in "\n".join(bodies).split("\n") if not line.strip().startswith("//")
    )
    specs = ['"testing"', *(s for s in specs if s != '"testing"' and _go_import_used(s, used))]
    body = "import (\n" + "".join(f"\t{spec}\n" for spec in specs) + ")\n\n" + bodies[0]
    problem = _problem("go", test=bodies[1], test_setup="package main\n")
    return Program("go", go_solution(problem, body), "\n" + bodies[1] + "\n")


def _go_import_used(spec: str, code: str) -> bool:
    """Whether `code` uses the import `spec` (`"path"` or `alias "path"`); blank and dot
    imports count as used."""
    alias, _, path = spec.rpartition(" ")
    name = alias.strip() or path.strip('"').split("/")[-1]
    return name in ("_", ".") or re.search(rf"\b{re.escape(name)}\.", code) is not None


def _java(code: str, tests: str) -> Program:
    imports = dict.fromkeys(line.strip() for line in _JAVA_IMPORT.findall(code + "\n" + tests))
    code, tests = (_JAVA_PACKAGE.sub("", _JAVA_IMPORT.sub("", part)) for part in (code, tests))
    if _JAVA_TYPE.search(code):
        # Main.java may hold one public type only: the tests' Main.
        code = _JAVA_TYPE.sub(lambda m: m.group(0).replace("public ", "", 1), code)
    else:
        code = "class Solution {\n" + code.strip("\n") + "\n}\n"
    head = "".join(f"{line}\n" for line in imports)
    return Program("java", head + code, "\n" + tests.strip("\n") + "\n")


def _php(code: str) -> str:
    # A method copied out of its class (CodeSearchNet's usual PHP function) needs a class again.
    if _PHP_MEMBER.match(code):
        return "class Wrapped {\n" + code + "\n}\n"
    return code


_JS_PARSE = """const vm = require("vm");
const source = @@SOURCE@@;
// A declaration, an anonymous function expression, a method copied out of its class.
const forms = [source, "(" + source + "\\n)", "class Wrapped {\\n" + source + "\\n}"];
let firstError = null;
let parsed = false;
for (const form of forms) {
  try {
    new vm.Script(form);
    parsed = true;
    break;
  } catch (error) {
    firstError = firstError || error;
  }
}
if (!parsed) {
  throw firstError;
}
"""
_JAVA_PARSE_HEAD = """import com.sun.source.util.JavacTask;
import java.net.URI;
import java.util.List;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
"""
# javac's parser only: no attribution, so names defined elsewhere are fine.
_JAVA_PARSE_TEST = """
public class Main {
    public static void main(String[] args) throws Exception {
        final String source = @@SOURCE@@;
        JavaFileObject file = new SimpleJavaFileObject(
                URI.create("string:///Source.java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        JavacTask task = (JavacTask) ToolProvider.getSystemJavaCompiler()
                .getTask(null, null, diagnostics, null, null, List.of(file));
        task.parse();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                throw new AssertionError(d.toString());
            }
        }
    }
}
"""
_GO_PARSE_HEAD = """package main

import (
\t"go/parser"
\t"go/token"
\t"testing"
)
"""
_GO_PARSE_TEST = """
func TestSourceParses(t *testing.T) {
\tif _, err := parser.ParseFile(token.NewFileSet(), "source.go", @@SOURCE@@, parser.AllErrors); err != nil {
\t\tt.Fatal(err)
\t}
}
"""

# Per sandbox language, a known-good (code, tests) pair: its program must pass before any case of
# that language is judged (`check_programs`' canary), so a broken toolchain is a counted skip.
CANARIES = {
    "python": ("def one():\n    return 1\n", "assert one() == 1\n"),
    "js": ("function one() { return 1; }\n", "if (one() !== 1) { throw new Error('one'); }\n"),
    "java": (
        "static int one() { return 1; }\n",
        "public class Main {\n    public static void main(String[] args) {\n"
        "        if (Solution.one() != 1) { throw new AssertionError(); }\n    }\n}\n",
    ),
    "go": (
        "func One() int { return 1 }\n",
        'func TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal("one")\n\t}\n}\n',
    ),
    "cpp": ("int one() { return 1; }\n", "int main() { assert(one() == 1); return 0; }\n"),
    "rust": (
        "fn one() -> i32 { 1 }\n",
        "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n"
        "    fn one_is_one() { assert_eq!(one(), 1); }\n}\n",
    ),
    "php": ("function one() { return 1; }\n", "if (one() !== 1) { throw new Exception('one'); }\n"),
    "ruby": ("def one\n  1\nend\n", "raise 'one' unless one == 1\n"),
}


def canary_program(language: str) -> Program | None:
    """The known-good program of sandbox language `language`, or None when there is none."""
    pair = CANARIES.get(language)
    return checked_program(language, *pair) if pair else None
