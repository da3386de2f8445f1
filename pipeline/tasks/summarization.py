"""Code summarization (15.8% of the paper's data): clear, concise documentation of given code.

The information carries the code; the solution is prose. Dropping this task cost the paper 12.9
points of HumanEvalExplain.
"""

from __future__ import annotations

from pipeline.tasks import shared
from pipeline.tasks.registry import CodeTask, JudgeRule, SeedCase

INFORMATION_IS_INPUT = JudgeRule(
    "information_is_input",
    "The information holds the code the instruction asks about, and it is the input code.",
)
SUMMARY_FAITHFUL = JudgeRule(
    "summary_faithful",
    "Every statement in the solution is true of the code, and its main behaviour is covered.",
)
SUMMARY_IS_PROSE = JudgeRule(
    "summary_is_prose",
    "The solution is a short description in prose (or a docstring), not code and not a "
    "line-by-line paraphrase.",
)

PHP_SLUGIFY = """function slugify(string $title): string {
    $slug = strtolower(trim($title));
    $slug = preg_replace('/[^a-z0-9]+/', '-', $slug);
    return trim($slug, '-');
}"""

RUBY_WORD_COUNTS = """def word_counts(text)
  text.downcase.scan(/[a-z']+/).each_with_object(Hash.new(0)) do |word, counts|
    counts[word] += 1
  end
end"""

PYTHON_MEDIAN = """def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2"""

GO_CLAMP = """func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}"""

SEED_CASES = (
    SeedCase(
        language="php",
        good=True,
        code=PHP_SLUGIFY,
        task_name="Summarize a slug function",
        instruction="Summarize what the following PHP function does.",
        information=PHP_SLUGIFY,
        solution="slugify turns a title into a URL slug: it lower-cases and trims the text, "
        "replaces every run of characters other than a-z and 0-9 with a single hyphen, and "
        'strips hyphens from both ends. For example, "  Hello, World! " becomes "hello-world".',
    ),
    SeedCase(
        language="ruby",
        good=True,
        code=RUBY_WORD_COUNTS,
        task_name="Explain a word counter",
        instruction="Explain in a few sentences what this Ruby method returns.",
        information=RUBY_WORD_COUNTS,
        solution="word_counts returns a hash mapping each word of the text to the number of "
        "times it occurs. Words are matched case-insensitively as runs of letters and "
        "apostrophes, so digits and punctuation are ignored. Looking up a word that does not "
        "occur gives 0, because the hash defaults to 0.",
    ),
    SeedCase(
        language="python",
        good=False,
        code=PYTHON_MEDIAN,
        task_name="Describe a statistics helper",
        instruction="Describe the purpose of this Python function.",
        information=PYTHON_MEDIAN,
        solution="The function sorts the list in place and returns its average value.",
        analysis="summary_faithful: no, the function returns the median, not the average, and "
        "sorted() sorts a copy, so the caller's list is left unchanged.",
    ),
    SeedCase(
        language="go",
        good=False,
        code=GO_CLAMP,
        task_name="Clamp",
        instruction="What does this do?",
        information=GO_CLAMP,
        solution="First it checks `if x < lo { return lo }`, then it checks "
        "`if x > hi { return hi }`, and then it returns x.",
        analysis="names_language: no, the instruction does not name Go. summary_is_prose: no, "
        "the solution walks through the code line by line instead of saying that Clamp limits "
        "x to the range [lo, hi].",
    ),
)

TASK = CodeTask(
    name="summarization",
    title="code summarization",
    default_share=15.8,
    definition=(
        "Turn the input code into a code-summarization exercise: the instruction asks for a "
        "short description of what the code does, the information holds the input code, and "
        "the solution is that description."
    ),
    requirements=(
        shared.ONE_CASE,
        shared.INSTRUCTION_SHAPE,
        shared.INFORMATION_CODE,
        "The solution is documentation: two to four plain sentences (or one docstring) saying "
        "what the code does, what it takes, what it returns and any notable edge case.",
        "Every statement in the solution is true of the code; describe behaviour instead of "
        "restating the code line by line, and do not rewrite or fix the code.",
    ),
    rules=(
        shared.INPUT_IS_CODE,
        shared.NAMES_LANGUAGE,
        INFORMATION_IS_INPUT,
        shared.SOLUTION_RESOLVES_RULE,
        shared.FAITHFUL_INSTRUCTION,
        SUMMARY_FAITHFUL,
        SUMMARY_IS_PROSE,
    ),
    information_is_code=True,
    seed_cases=SEED_CASES,
)
