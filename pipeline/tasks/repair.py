"""Code repair (15.8% of the paper's data): identify and fix a problem in given code.

Raw functions are mostly correct, so the generator may copy the input with one realistic bug
introduced. Dropping this task cost the paper 33.7 points of HumanEvalFix.
"""

from __future__ import annotations

from pipeline.tasks import shared
from pipeline.tasks.registry import CodeTask, JudgeRule, SeedCase

INFORMATION_IS_INPUT = JudgeRule(
    "information_is_input",
    "The information holds the code to repair, and it is the input code or a close variant.",
)
NAMES_REAL_PROBLEM = JudgeRule(
    "names_real_problem",
    "The code in the information really has the problem that the instruction describes.",
)
FIX_IS_CORRECT = JudgeRule(
    "fix_is_correct",
    "The solution fixes that problem and otherwise keeps the code's intended behaviour.",
)

JS_TOP_SCORES = """function topScores(scores, n) {
  return [...scores].sort((a, b) => b - a).slice(0, n);
}"""

PYTHON_MOVING_AVERAGE = """def moving_average(values, window):
    return [sum(values[i:i + window]) / window for i in range(len(values) - window + 1)]"""

JAVA_INDEX_OF = """static int indexOf(int[] items, int target) {
    for (int i = 0; i < items.length; i++) {
        if (items[i] == target) {
            return i;
        }
    }
    return -1;
}"""

RUBY_AVERAGE = """def average(numbers)
  numbers.sum / numbers.size
end"""

SEED_CASES = (
    SeedCase(
        language="javascript",
        good=True,
        code=JS_TOP_SCORES,
        task_name="Fix numeric sorting",
        instruction="This JavaScript function should return the n highest scores, but "
        "topScores([5, 40, 100], 1) returns [5]; fix it.",
        information="""function topScores(scores, n) {
  return [...scores].sort().reverse().slice(0, n);
}""",
        solution="""function topScores(scores, n) {
  // sort() without a comparator compares numbers as strings ("100" < "40" < "5"),
  // so sort numerically in descending order instead.
  return [...scores].sort((a, b) => b - a).slice(0, n);
}""",
    ),
    SeedCase(
        language="python",
        good=True,
        code=PYTHON_MOVING_AVERAGE,
        task_name="Fix an off-by-one window count",
        instruction="The Python function moving_average drops the last window: "
        "moving_average([1, 2, 3], 2) returns [1.5] instead of [1.5, 2.5]. Fix the bug.",
        information="""def moving_average(values, window):
    return [sum(values[i:i + window]) / window for i in range(len(values) - window)]""",
        solution="""def moving_average(values, window):
    # There are len(values) - window + 1 full windows; the old range stopped one short.
    return [sum(values[i:i + window]) / window for i in range(len(values) - window + 1)]""",
    ),
    SeedCase(
        language="java",
        good=False,
        code=JAVA_INDEX_OF,
        task_name="Fix a search loop",
        instruction="Fix the bug in this Java method.",
        information=JAVA_INDEX_OF,
        solution=JAVA_INDEX_OF.replace("i < items.length", "i <= items.length"),
        analysis="names_real_problem: no, the code in the information is correct and the "
        "instruction names no symptom. fix_is_correct: no, changing < to <= reads past the end "
        "of the array and throws ArrayIndexOutOfBoundsException when the target is missing.",
    ),
    SeedCase(
        language="ruby",
        good=False,
        code=RUBY_AVERAGE,
        task_name="Fix integer division",
        instruction="Fix this Ruby method so that average([1, 2]) returns 1.5 instead of 1.",
        information=RUBY_AVERAGE,
        solution="""The problem is integer division. Change the method to:

def average(numbers)
  numbers.sum.fdiv(numbers.size)
end

This returns a Float.""",
        analysis="code_only: no, the solution wraps the corrected code in explanations instead "
        "of putting them in comments inside the code.",
    ),
)

TASK = CodeTask(
    name="repair",
    title="code repair",
    default_share=15.8,
    definition=(
        "Turn the input code into a code-repair exercise. If the input has a real defect, use "
        "it; otherwise copy the input with one realistic bug introduced (an off-by-one, a wrong "
        "operator, a missing check). The instruction names the symptom, the information holds "
        "the faulty code, and the solution is the corrected code."
    ),
    requirements=(
        shared.ONE_CASE,
        shared.INSTRUCTION_SHAPE,
        "The instruction says what goes wrong (a symptom or a failing call) without giving the "
        "fix away.",
        shared.INFORMATION_CODE,
        "The faulty code in the information differs from a correct version by one small, "
        "realistic defect.",
        "The solution is the complete corrected code, and a comment inside it marks the fix.",
        shared.SOLUTION_CODE_ONLY,
        shared.IMPORTS,
    ),
    rules=(
        shared.INPUT_IS_CODE,
        shared.NAMES_LANGUAGE,
        INFORMATION_IS_INPUT,
        shared.SOLUTION_RESOLVES_RULE,
        shared.CODE_ONLY,
        shared.IMPORTS_PRESENT,
        NAMES_REAL_PROBLEM,
        FIX_IS_CORRECT,
    ),
    information_is_code=True,
    seed_cases=SEED_CASES,
)
