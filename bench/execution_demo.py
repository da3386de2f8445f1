"""The demo recipe with `--execution filter`, end to end, against the scripted endpoint (issue 13).

`wavecoder generate --recipe demo --execution filter` runs as a user would run it (a subprocess,
the real OpenAI client over HTTP, the real sandbox), with the scripted server of the tests
(tests/scripted_server.py) playing all three LLMs: the generator writes each snippet back as a
generation case, a repair whose faulty code raises `ValueError("bug")`, a summary, or a
translation into Go that is really Python (so every translation must fail); the judge says yes
to every rule; the tester writes tests that call the function with None for each required
argument and fail only when it raises that bug. It prints the run's summary (statuses and pass
rates per task) and what `load_dataset(OUT, "verified")` holds.

    python bench/execution_demo.py                 # into a temporary folder
    python bench/execution_demo.py --output out/codeocean-verified
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "pipeline")]

from generation_fixtures import as_reply_text, good_case, snippet_of, task_of, teacher  # noqa: E402
from scripted_server import Reply, ScriptedServer  # noqa: E402

# Calls the function under test with None for each required positional argument: a pass means
# it was defined and did not raise the planted bug (any other exception is the None's fault).
CALL = """import inspect
try:
    _n = len([p for p in inspect.signature({f}).parameters.values()
              if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
except (TypeError, ValueError):
    _n = 0
try:
    {f}(*[None] * _n)
except ValueError as exc:
    assert str(exc) != "bug", "the function raised its bug"
except Exception:
    pass
"""


def faulty(code: str) -> str:
    """The function with its body replaced by the planted bug."""
    head, _, _ = code.partition(":\n")
    return head + ':\n    raise ValueError("bug")\n'


def script(request) -> Reply:
    prompt = request.prompt
    if prompt.startswith(("Write tests for this", "This Python code has a bug")):
        name = re.search(r"checks of `([^`]+)`", prompt).group(1)
        return Reply("```python\n" + CALL.format(f=name) + "```")
    if prompt.startswith("This Python code was translated to"):
        name = re.search(r"tests of `([^`]+)`", prompt).group(1)
        go = "func TestTranslated(t *testing.T) {}\n"
        return Reply(f"```python\n{CALL.format(f=name)}```\n```go\n{go}```")
    if prompt.startswith("You check"):
        return JUDGE(request)
    snippet, task = snippet_of(request), task_of(request)
    case = good_case(snippet, task)
    if task == "repair":
        case["information"] = faulty(snippet["code"])
    return Reply(as_reply_text(case, request))


JUDGE = teacher()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", help="dataset folder (default: a temporary folder)")
    args = parser.parse_args()
    out = Path(args.output or tempfile.mkdtemp(prefix="execution-demo-")) / "codeocean-demo"
    with ScriptedServer(script) as server:
        done = subprocess.run(
            [sys.executable, "-m", "wavecoder", "generate", "--recipe", "demo", "--output",
             str(out), "--base-url", server.base_url, "--concurrency", "8", "--execution",
             "filter"],
            cwd=ROOT, env={**os.environ, "OPENAI_API_KEY": "scripted"}, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        return done.returncode
    import datasets

    datasets.disable_progress_bars()
    verified = datasets.load_dataset(str(out), "verified", split="train")
    tasks = {task: verified["task"].count(task) for task in sorted(set(verified["task"]))}
    print(f"load_dataset({str(out)!r}, 'verified'): {len(verified)} rows {tasks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
