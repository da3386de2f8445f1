"""Code generation (57.1% of the paper's data): an instruction and a solution implementing it.

The raw snippet inspires the exercise; the learner sees only the instruction and information.
"""

from __future__ import annotations

from pipeline.tasks import shared
from pipeline.tasks.registry import CodeTask, JudgeRule, SeedCase

SELF_CONTAINED = JudgeRule(
    "self_contained",
    "The instruction and information give everything needed to write the solution; they do "
    "not refer to code the learner cannot see.",
)

SEED_CASES = (
    SeedCase(
        language="python",
        good=True,
        code='''def chunked(items, size):
    """Split a list into consecutive chunks of at most `size` items."""
    return [items[i:i + size] for i in range(0, len(items), size)]''',
        task_name="Split a list into chunks",
        instruction="Write a Python function that splits a list into consecutive chunks of a "
        "given maximum size.",
        information="The last chunk may be shorter, and a size below 1 must raise a ValueError.",
        solution="""def chunked(items, size):
    # A size below 1 would never advance through the list.
    if size < 1:
        raise ValueError("size must be at least 1")
    # Step through the list in strides of `size`; the last slice may be shorter.
    return [items[i:i + size] for i in range(0, len(items), size)]""",
    ),
    SeedCase(
        language="go",
        good=True,
        code="""// Reverse returns s with its runes in reverse order.
func Reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}""",
        task_name="Reverse a string by runes",
        instruction="Write a Go function that reverses a string rune by rune, so that "
        "multi-byte characters stay intact.",
        information="<noinput>",
        solution="""package strutil

// Reverse returns s with its runes in reverse order.
func Reverse(s string) string {
	r := []rune(s) // runes, not bytes, keep UTF-8 characters whole
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}""",
    ),
    SeedCase(
        language="javascript",
        good=False,
        code="""function debounce(fn, wait) {
  let timer;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}""",
        task_name="Debounce",
        instruction="Write a debounce function.",
        information="It should delay calls.",
        solution="""Here is the function:
function debounce(fn, wait) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), wait); }; }
It works by resetting the timer on every call.""",
        analysis="names_language: no, the instruction does not say the function is JavaScript. "
        "code_only: no, the solution has sentences before and after the code. "
        "readable_logic: no, the logic is squeezed onto one line with single-letter names.",
    ),
    SeedCase(
        language="java",
        good=False,
        code="""public static List<String> sortedUnique(List<String> words) {
    return new ArrayList<>(new TreeSet<>(words));
}""",
        task_name="Sorted distinct words",
        instruction="Write a Java method that returns the distinct words of a list in "
        "alphabetical order.",
        information="<noinput>",
        solution="""public class Words {
    public static List<String> sortedUnique(List<String> words) {
        // A TreeSet drops duplicates and keeps its elements sorted.
        return new ArrayList<>(new TreeSet<>(words));
    }
}""",
        analysis="imports_present: no, the code uses List, ArrayList and TreeSet from java.util "
        "without importing them, so it does not compile.",
    ),
)

TASK = CodeTask(
    name="generation",
    title="code generation",
    default_share=57.1,
    definition=(
        "Turn the input code into a code-generation exercise: an instruction asking for the "
        "operation the input performs (or a close, self-contained variant of it), information "
        "the solution needs if any, and a solution that implements it."
    ),
    requirements=(
        shared.ONE_CASE,
        shared.INSTRUCTION_SHAPE,
        shared.INFORMATION_CONTEXT,
        "The exercise is self-contained: a learner can write the solution from the instruction "
        "and information alone, without seeing the input code.",
        shared.SOLUTION_RESOLVES,
        shared.SOLUTION_CODE_ONLY,
        shared.IMPORTS,
        shared.READABLE,
    ),
    rules=(
        shared.INPUT_IS_CODE,
        shared.NAMES_LANGUAGE,
        shared.SOLUTION_RESOLVES_RULE,
        shared.CODE_ONLY,
        shared.FAITHFUL_INSTRUCTION,
        shared.READABLE_LOGIC,
        shared.IMPORTS_PRESENT,
        SELF_CONTAINED,
    ),
    information_is_code=False,
    seed_cases=SEED_CASES,
)
