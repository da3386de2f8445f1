"""Selected-snippet rows and a scripted teacher for the generation tests.

`SNIPPETS` have the shape the selection stage emits (id, code, docstring, language, source,
selection_rank, coverage_radius). `teacher(...)` builds a `scripted_server.Script` that plays
both LLMs: it writes a valid case for whatever task the prompt asks, or misbehaves in the way a
row's scenario says, and answers judgements with yes on every rule unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
import re

from scripted_server import Reply, Request

_CODE = {
    "py_slugify": (
        "python",
        '''def slugify(text):
    """Lower-case text and join its words with hyphens."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)''',
    ),
    "py_flatten": (
        "python",
        '''def flatten(nested):
    """Flatten one level of nesting."""
    return [item for group in nested for item in group]''',
    ),
    "py_retry": (
        "python",
        '''def retry(fn, attempts=3):
    """Call fn until it succeeds, at most `attempts` times."""
    for i in range(attempts):
        try:
            return fn()
        except Exception:
            if i == attempts - 1:
                raise''',
    ),
    "py_merge": (
        "python",
        '''def merge_counts(a, b):
    """Add the counts of two dicts."""
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out''',
    ),
    "go_sum": (
        "go",
        """// Sum adds all the integers in xs.
func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}""",
    ),
    "go_contains": (
        "go",
        """// Contains reports whether s is in items.
func Contains(items []string, s string) bool {
	for _, it := range items {
		if it == s {
			return true
		}
	}
	return false
}""",
    ),
    "go_max": (
        "go",
        """// Max returns the larger of a and b.
func Max(a, b int) int {
	if a > b {
		return a
	}
	return b
}""",
    ),
    "java_repeat": (
        "java",
        """/** Repeats s n times. */
public static String repeat(String s, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
        sb.append(s);
    }
    return sb.toString();
}""",
    ),
    "java_isblank": (
        "java",
        """/** True when s is null or only whitespace. */
public static boolean isBlank(String s) {
    return s == null || s.trim().isEmpty();
}""",
    ),
    "java_factorial": (
        "java",
        """/** n! for small n. */
public static long factorial(int n) {
    long result = 1;
    for (int i = 2; i <= n; i++) {
        result *= i;
    }
    return result;
}""",
    ),
    "js_capitalize": (
        "javascript",
        """// Upper-cases the first letter of a word.
function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}""",
    ),
    "js_unique": (
        "javascript",
        """// Drops repeated values, keeping first occurrences.
function unique(values) {
  return [...new Set(values)];
}""",
    ),
    "php_initials": (
        "php",
        """// Initials of a full name, e.g. "Ada Lovelace" -> "AL".
function initials(string $name): string {
    $parts = preg_split('/\\s+/', trim($name));
    return implode('', array_map(fn($p) => strtoupper($p[0]), $parts));
}""",
    ),
    "php_clamp": (
        "php",
        """// Limits $x to [$lo, $hi].
function clamp(int $x, int $lo, int $hi): int {
    return max($lo, min($hi, $x));
}""",
    ),
    "rb_even": (
        "ruby",
        """# Keeps the even numbers of a list.
def evens(numbers)
  numbers.select(&:even?)
end""",
    ),
    "rb_titleize": (
        "ruby",
        """# Capitalises every word of a title.
def titleize(title)
  title.split.map(&:capitalize).join(' ')
end""",
    ),
}

SNIPPETS = [
    {
        "id": name,
        "code": code,
        "docstring": "",
        "language": language,
        "source": {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"{name}.src", "url": None,
                   "func_name": name.split("_", 1)[1], "license": "apache-2.0"},
        "selection_rank": rank,
        "coverage_radius": round(1.0 - rank / 100, 3),
    }
    for rank, (name, (language, code)) in enumerate(_CODE.items())
]  # fmt: skip

LANGUAGE_NAMES = {
    "python": "Python",
    "go": "Go",
    "java": "Java",
    "javascript": "JavaScript",
    "php": "PHP",
    "ruby": "Ruby",
}


def rows_with_tasks(tasks: dict[str, str] | str) -> list[dict]:
    """SNIPPETS with a `task` column: one task for all, or {id: task} (default generation)."""
    rows = []
    for snippet in SNIPPETS:
        task = tasks if isinstance(tasks, str) else tasks.get(snippet["id"], "generation")
        rows.append({**snippet, "task": task})
    return rows


def prompt_input(request: Request) -> tuple[str, str]:
    """(language, code) of the snippet a generator or judge prompt is about."""
    prompt = request.prompt
    if prompt.startswith("You check"):
        part = prompt.split("\nCase:\n", 1)[0].split("\nInput (", 1)[1]
    else:
        part = prompt.rsplit("\nInput (", 1)[1].rsplit("\n\nOutput:", 1)[0]
    language, code = part.split("):\n", 1)
    return language, code.strip()


def snippet_of(request: Request) -> dict:
    """The fixture snippet of a prompt, or one made up for code from another corpus."""
    language, code = prompt_input(request)
    for snippet in SNIPPETS:
        if snippet["code"].strip() == code:
            return snippet
    name = re.search(r"(?:def|func|function|static \w+|public static \w+)\s+(\w+)", code)
    return {
        "id": hashlib.sha1(code.encode()).hexdigest()[:12],
        "code": code,
        "language": language,
        "source": {"func_name": name.group(1) if name else "snippet"},
    }


def task_of(request: Request) -> str:
    from pipeline.tasks import all_tasks

    for name, task in all_tasks().items():
        if task.definition in request.prompt:
            return name
    raise AssertionError("no task definition in prompt")


def good_case(snippet: dict, task: str) -> dict:
    lang = LANGUAGE_NAMES[snippet["language"]]
    name = snippet["source"]["func_name"]
    code = snippet["code"]
    if task == "generation":
        return {
            "task_name": f"Implement {name}",
            "instruction": f"Write a {lang} function named {name} that does what its comment says.",
            "information": "<noinput>",
            "solution": code,
        }
    if task == "summarization":
        return {
            "task_name": f"Summarize {name}",
            "instruction": f"Summarize what the {lang} function {name} does.",
            "information": code,
            "solution": f"{name} does what its comment says. It returns the result.",
        }
    if task == "repair":
        return {
            "task_name": f"Repair {name}",
            "instruction": f"The {lang} function {name} gives a wrong result; fix it.",
            "information": code,
            "solution": code,
        }
    target = "Go" if snippet["language"] == "python" else "Python"
    return {"task_name": f"Translate {name}", "instruction": f"Translate this {lang} function into {target}.",
            "information": code, "solution": "def translated():\n    return None"}  # fmt: skip


def as_reply_text(case: dict, request: Request) -> str:
    if request.wants_json:
        return json.dumps(case)
    return (
        f"task_name: {case['task_name']}\ninstruction: {case['instruction']}\n"
        f"information: {case['information']}\nsolution:\n{case['solution']}"
    )


def judgement_text(
    request: Request, failing: dict[int, str] | None = None, overall: str | None = None
) -> str:
    """Yes on every rule of the prompt, except rule numbers in `failing` (number -> reason)."""
    failing = failing or {}
    rules = re.findall(
        r"^(\d+)\. ", request.prompt.split("\nRules:\n", 1)[1].split("\nInput (", 1)[0], re.M
    )
    answers = [
        (int(n), failing.get(int(n), "It holds."), "no" if int(n) in failing else "yes")
        for n in rules
    ]
    final = overall or ("no" if failing else "yes")
    if request.wants_json:
        return json.dumps(
            {
                "rules": [{"rule": n, "reason": r, "answer": a} for n, r, a in answers],
                "overall": final,
            }
        )
    return "\n".join([*(f"Rule {n}: {r} => {a}" for n, r, a in answers), f"Overall: {final}"])


# Generator scenarios that alter a valid case.
ALTERED_CASES = {
    "three_sentences": lambda case: {**case, "instruction": "Write code. Make it fast. Add tests."},
    "noinput_twice": lambda case: {**case, "information": "none", "task_name": "N/A"},
}


def teacher(generator=None, judge=None):
    """A Script: `generator` and `judge` map snippet id -> scenario (a dict, or a function of
    the snippet dict returning a scenario or "").

    Generator scenarios: three_sentences, two_cases, refusal, empty, truncated (finish_reason
    "length"), cut_early, ends_at_limit, noinput_twice, invented_analysis, malformed_json,
    http500_always, http500_once, http429_once, drop_once, timeout_once, http401_always,
    model_not_found. Judge scenarios: reject_rule2, unreadable, overall_no, truncated,
    json_without_rule_numbers, http500_always.
    """
    generator = generator or {}
    judge = judge or {}

    def script(request: Request) -> Reply:
        snippet = snippet_of(request)
        scenario_map = judge if request.prompt.startswith("You check") else generator
        if callable(scenario_map):
            scenario = scenario_map(snippet)
        else:
            scenario = scenario_map.get(snippet["id"], "")
        transient = {
            "http500_once": Reply(status=500),
            "http429_once": Reply(status=429, headers={"Retry-After": "1"}),
            "drop_once": Reply(drop=True),
            "timeout_once": Reply(content="late", delay=3.0),
        }
        if scenario == "http500_always":
            return Reply(status=500)
        if scenario == "http401_always":
            return Reply(status=401)
        if scenario == "model_not_found":
            return Reply(status=404, error_code="model_not_found")
        if scenario in transient and request.attempt == 1:
            return transient[scenario]
        if request.prompt.startswith("You check"):
            if scenario == "reject_rule2":
                return Reply(
                    judgement_text(request, {2: "The instruction does not name the language."})
                )
            if scenario == "unreadable":
                return Reply("Looks fine to me overall.")
            if scenario == "overall_no":
                return Reply(judgement_text(request, overall="no"))
            if scenario == "truncated":
                return Reply(
                    judgement_text(request)[:60],
                    completion_tokens=request.body["max_tokens"],
                    finish_reason="length",
                )
            if scenario == "json_without_rule_numbers":  # every rule answered, none numbered
                data = json.loads(judgement_text(request))
                rules = [{k: v for k, v in r.items() if k != "rule"} for r in data["rules"]]
                return Reply(json.dumps({"rules": rules, "overall": "yes"}))
            return Reply(judgement_text(request))
        case = good_case(snippet, task_of(request))
        if scenario == "two_cases":
            return Reply(as_reply_text(case, request) + "\n\n" + as_reply_text(case, request))
        if scenario == "refusal":
            return Reply("I'm sorry, but I can't help with that request.")
        if scenario == "empty":
            return Reply("")
        if scenario == "truncated":
            return Reply(
                as_reply_text(case, request)[:40],
                completion_tokens=request.body["max_tokens"],
                finish_reason="length",
            )
        if scenario == "cut_early":  # the backend says "length" though fewer tokens are counted
            return Reply(as_reply_text(case, request), completion_tokens=5, finish_reason="length")
        if scenario == "ends_at_limit":  # exactly max_tokens long, but it ended on its own
            return Reply(as_reply_text(case, request), completion_tokens=request.body["max_tokens"])
        if scenario == "malformed_json":
            return Reply('{"task_name": "x", "instruction": ')
        if scenario in ALTERED_CASES:
            case = ALTERED_CASES[scenario](case)
        text = as_reply_text(case, request)
        if scenario == "invented_analysis":
            text += "\n\nAnalysis:\n- step 1: the instruction names the language <answer: yes>"
        return Reply(text)

    return script


def judged_records(status: str, n: int = 4) -> list[dict]:
    """`n` dataset records of the generation task with `status` (accepted: no reasons;
    otherwise one failed rule), as the writer receives them."""
    from pipeline.generation.records import build_record

    # One case per snippet (its own code as the answer), so that near-dedup keeps them all.
    reasons = [] if status == "accepted" else [{"check": "names_language", "message": "no"}]
    return [
        build_record(
            {**s, "task": "generation"},
            status=status,
            stage="judgement",
            case={
                "task_name": "t",
                "instruction": f"Write {s['source']['func_name']}.",
                "information": "<noinput>",
                "solution": s["code"],
            },
            reasons=reasons,
            models=("gen-model", "judge-model"),
        )
        for s in SNIPPETS[:n]
    ]
