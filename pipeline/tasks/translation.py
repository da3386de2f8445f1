"""Code translation (11.2% of the paper's data): rewrite given code in another language.

The generator chooses the target language and names it in the instruction; the post-filter
reads it back from there into the dataset's ``target_language`` column.
"""

from __future__ import annotations

import re

from pipeline.tasks import shared
from pipeline.tasks.registry import CodeTask, JudgeRule, SeedCase, TaskCheckFailed

TARGET_LANGUAGES = (
    "python",
    "java",
    "javascript",
    "typescript",
    "go",
    "php",
    "ruby",
    "rust",
    "c++",
)

# How each language is written in prose. "Go" only counts capitalised, since "go" is also a verb.
_LANGUAGE_PATTERNS = {
    "python": r"(?i:\bpython\b)",
    "java": r"(?i:\bjava\b)(?!\s*script)",
    "javascript": r"(?i:\bjavascript\b|\bnode\.?js\b|\bjs\b)",
    "typescript": r"(?i:\btypescript\b|\bts\b)",
    "go": r"\bGo\b|\bGO\b|(?i:\bgolang\b)",
    "php": r"(?i:\bphp\b)",
    "ruby": r"(?i:\bruby\b)",
    "rust": r"(?i:\brust\b)",
    "c++": r"(?i:\bc\+\+|\bcpp\b)",
}
_MENTION = re.compile(
    "|".join(f"(?P<{re.sub(r'[^a-z]', 'x', k)}>{p})" for k, p in _LANGUAGE_PATTERNS.items())
)
_GROUP_TO_LANGUAGE = {re.sub(r"[^a-z]", "x", k): k for k in _LANGUAGE_PATTERNS}


def languages_mentioned(text: str) -> list[str]:
    """Languages named in `text`, in order of first mention."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        language = _GROUP_TO_LANGUAGE[match.lastgroup]
        if language not in found:
            found.append(language)
    return found


def check_target_language(case: dict, row: dict) -> dict:
    """The target language is the first language the instruction names other than the input's."""
    source = (row.get("language") or "").lower()
    targets = [lang for lang in languages_mentioned(case["instruction"]) if lang != source]
    if not targets:
        raise TaskCheckFailed(
            "target_language",
            f"the instruction names no target language other than the input's ({source})",
        )
    return {"target_language": targets[0]}


PYTHON_PALINDROME = """def is_palindrome(text):
    cleaned = [c.lower() for c in text if c.isalnum()]
    return cleaned == cleaned[::-1]"""

RUBY_GROUP_BY_LENGTH = """def group_by_length(words)
  words.group_by(&:length)
end"""

PHP_CELSIUS = """function celsius_to_fahrenheit(float $c): float {
    return $c * 9 / 5 + 32;
}"""

JAVA_SAFE_DIVIDE = """static int safeDivide(int a, int b) {
    if (b == 0) {
        throw new IllegalArgumentException("b must not be zero");
    }
    return a / b;
}"""

SEED_CASES = (
    SeedCase(
        language="python",
        good=True,
        code=PYTHON_PALINDROME,
        task_name="Palindrome check from Python to Go",
        instruction="Translate the following Python function into Go, keeping its behaviour.",
        information=PYTHON_PALINDROME,
        solution="""package text

import "unicode"

// IsPalindrome reports whether text reads the same backwards, ignoring case and every
// character that is not a letter or a digit.
func IsPalindrome(text string) bool {
	var cleaned []rune
	for _, c := range text {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			cleaned = append(cleaned, unicode.ToLower(c))
		}
	}
	for i, j := 0, len(cleaned)-1; i < j; i, j = i+1, j-1 {
		if cleaned[i] != cleaned[j] {
			return false
		}
	}
	return true
}""",
    ),
    SeedCase(
        language="ruby",
        good=True,
        code=RUBY_GROUP_BY_LENGTH,
        task_name="Group words by length in JavaScript",
        instruction="Rewrite this Ruby method in JavaScript so that it groups words by their "
        "length.",
        information=RUBY_GROUP_BY_LENGTH,
        solution="""// Groups words by length, keeping lengths in first-seen order like Ruby's group_by.
function groupByLength(words) {
  const groups = new Map();
  for (const word of words) {
    if (!groups.has(word.length)) {
      groups.set(word.length, []);
    }
    groups.get(word.length).push(word);
  }
  return groups;
}""",
    ),
    SeedCase(
        language="php",
        good=False,
        code=PHP_CELSIUS,
        task_name="Translate a temperature conversion",
        instruction="Translate this function to another language.",
        information=PHP_CELSIUS,
        solution="""function toFahrenheit(float $celsius): float {
    return $celsius * 1.8 + 32;
}""",
        analysis="names_languages: no, the instruction names neither the source nor the target "
        "language. different_language: no, the solution is still PHP.",
    ),
    SeedCase(
        language="java",
        good=False,
        code=JAVA_SAFE_DIVIDE,
        task_name="Safe division in Python",
        instruction="Translate this Java method into Python.",
        information=JAVA_SAFE_DIVIDE,
        solution="""def safe_divide(a, b):
    if b == 0:
        return 0
    return a / b""",
        analysis="same_behaviour: no, the Java method throws on a zero divisor but the "
        "translation returns 0, and Java's int division truncates (7 / 2 is 3) while Python's / "
        "gives 3.5; raise ValueError and truncate with int(a / b) instead.",
    ),
)

TASK = CodeTask(
    name="translation",
    title="code translation",
    default_share=11.2,
    definition=(
        "Turn the input code into a code-translation exercise: choose a target language "
        f"different from the input's (one of {', '.join(TARGET_LANGUAGES)}), ask for the input "
        "code to be translated into it, put the input code in the information, and write the "
        "translation as the solution."
    ),
    requirements=(
        shared.ONE_CASE,
        "The instruction is one or two sentences and names both the source and the target "
        "language.",
        shared.INFORMATION_CODE,
        "The solution is the complete translation and behaves like the input for every input, "
        "errors included.",
        "Use the target language's own idioms and standard library rather than the source "
        "language's style.",
        shared.SOLUTION_CODE_ONLY,
        shared.IMPORTS,
    ),
    rules=(
        shared.INPUT_IS_CODE,
        JudgeRule(
            "names_languages",
            "The instruction names both the source and the target programming language.",
        ),
        JudgeRule(
            "information_is_input",
            "The information holds the code to translate, and it is the input code.",
        ),
        shared.SOLUTION_RESOLVES_RULE,
        shared.CODE_ONLY,
        shared.IMPORTS_PRESENT,
        JudgeRule(
            "different_language",
            "The solution is written in the target language, which differs from the input's.",
        ),
        JudgeRule(
            "same_behaviour",
            "The translation behaves like the input code: the same inputs give the same "
            "results and the same errors.",
        ),
    ),
    information_is_code=True,
    seed_cases=SEED_CASES,
    check=check_target_language,
)
