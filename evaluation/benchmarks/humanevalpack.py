"""HumanEvalPack (Muennighoff et al. 2023, OctoPack): HumanEval's 164 problems written in six
languages (Python, JavaScript, Java, Go, C++, Rust), each with a hand-inserted bug.

Source: ``bigcode/humanevalpack`` on the Hub, one JSONL per language at
``data/<language>/data/humanevalpack.jsonl`` (164 rows each), loaded at run time;
``--dataset DIR`` reads a local folder with the same layout. Columns used: ``task_id``
(``Python/0``, ``JavaScript/0``, ``Java/0``, ``Go/0``, ``CPP/0``, ``Rust/0``), ``prompt``,
``declaration``, ``canonical_solution``, ``buggy_solution``, ``entry_point``, ``test``,
``test_setup``, ``docstring``.

This module holds what Fix and Explain share: loading, the code the answer is primed with, and
the checked program per language, which follows bigcode-evaluation-harness: Python gets its
import block, C++ its headers, Go its package clause and the imports the code uses, Rust an empty
``main`` and the declaration's ``use`` lines; the benchmark's test code follows the solution.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.benchmarks.base import Benchmark, Problem, load_hub_file, read_jsonl
from evaluation.languages import LANGUAGES, Program
from evaluation.postprocess import LANGUAGE_STOPS, end_of_block, truncate_at_stops

LANGUAGE_FILE = "data/{language}/data/humanevalpack.jsonl"
PACK_LANGUAGES = ("python", "js", "java", "go", "cpp", "rust")

PYTHON_IMPORTS = """import math
import re
import sys
import copy
import datetime
import itertools
import collections
import heapq
import statistics
import functools
import hashlib
import numpy
import numpy as np
import string
from typing import *
from collections import *
"""
# The harness's C++ headers, without boost (tasks that use boost::any include it themselves).
CPP_HEADERS = """using namespace std;
#include<stdlib.h>
#include<algorithm>
#include<cmath>
#include<math.h>
#include<numeric>
#include<stdio.h>
#include<vector>
#include<set>
#include<map>
#include<queue>
#include<stack>
#include<list>
#include<deque>
#include<string>
#include<climits>
#include<cstring>
#include<iostream>
#include<sstream>
#include<fstream>
"""
GO_PACKAGES = (
    "math",
    "strings",
    "fmt",
    "strconv",
    "time",
    "bytes",
    "regexp",
    "sort",
    "math/rand",
    "crypto/md5",
)
RUST_MAIN = "fn main(){}\n"


class HumanEvalPack(Benchmark):
    """Shared by HumanEvalFix and HumanEvalExplain."""

    dataset_id = "bigcode/humanevalpack"
    languages = PACK_LANGUAGES
    default_timeout_s = 10.0
    example_task_id = "Python/0"

    def load(self, language: str = "python", source: str | None = None) -> dict[str, Problem]:
        relative = LANGUAGE_FILE.format(language=language)
        path = Path(source) / relative if source else load_hub_file(self.dataset_id, relative)
        problems = {}
        for row in read_jsonl(path):
            problems[row["task_id"]] = Problem(
                task_id=row["task_id"],
                language=language,
                prompt=row["prompt"],
                entry_point=row["entry_point"],
                test=row["test"],
                data=row,
            )
        return problems

    def prompt_base(self, problem: Problem) -> str:
        """The code an answer starts with: the declaration without docstring."""
        declaration = problem.data["declaration"]
        return RUST_MAIN + declaration if problem.language == "rust" else declaration

    def canonical_completion(self, problem: Problem) -> str | None:
        solution = problem.data.get("canonical_solution")
        return None if solution is None else self.prompt_base(problem) + solution

    def continuation(self, problem: Problem, raw: str) -> str:
        base = self.prompt_base(problem).rstrip()
        code = truncate_at_stops(raw, LANGUAGE_STOPS[problem.language])
        open_braces = base.count("{") - base.count("}")
        return base + end_of_block(code.rstrip(), problem.language, open_braces)

    def program(self, problem: Problem, completion: str) -> Program:
        language = problem.language
        test = "\n" + problem.test
        if language == "python":
            return Program(language, PYTHON_IMPORTS + "\n" + completion, test)
        if language == "cpp":
            return Program(language, CPP_HEADERS + "\n" + completion.split("int main")[0], test)
        if language == "java":
            return Program(language, completion.replace("public class Main {\n    }", ""), test)
        if language == "go":
            return Program(language, go_solution(problem, completion), test)
        if language == "rust":
            return Program(language, rust_solution(problem, completion), test)
        return Program(language, completion, test)

    def language_name(self, problem: Problem) -> str:
        return LANGUAGES[problem.language].display


def go_solution(problem: Problem, completion: str) -> str:
    """Package clause and imports (the test's, minus those the code has, plus the standard
    packages the code or the test uses outside comments), then the code."""
    setup_lines = [
        line
        for line in (problem.data.get("test_setup") or "").split("\n")
        if not (line.strip().startswith('"') and line.strip() in completion)
    ]
    setup = "\n".join(setup_lines) + "\n"
    checked = (completion + "\n" + problem.test).split("\n")
    code_lines = [line for line in checked if not line.strip().startswith("//")]
    used = []
    for package in GO_PACKAGES:
        short = package.split("/")[-1]
        if f'"{package}"' not in completion and any(f"{short}." in x for x in code_lines):
            used.append(f'"{package}"')
    imports = "import (\n" + "\n".join(f"    {p}" for p in used) + "\n)\n" if used else ""
    if "package main" in completion and "package main" in setup:
        completion = completion.replace("package main", "")
    return setup + imports + completion


def rust_solution(problem: Problem, completion: str) -> str:
    """An empty main and the declaration's lines the code lacks, then the code (cut before a
    second ``fn main()``)."""
    head = "" if "fn main()" in completion else RUST_MAIN
    for line in problem.data["declaration"].split("\n"):
        stripped = line.strip()
        if not stripped or stripped in completion:
            continue
        if stripped.startswith("fn") and stripped.split("(")[0] in completion:
            continue
        head += stripped + "\n"
    code = "fn main()".join(completion.split("fn main()")[:2])
    return head + code
