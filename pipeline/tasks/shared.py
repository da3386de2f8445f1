"""Requirements and judge rules that several code tasks share, in our own words.

Each task module picks the ones that apply to it and adds its own; the summarization task, for
example, drops the rules about code-only solutions because its solution is prose.
"""

from __future__ import annotations

from pipeline.tasks.registry import JudgeRule

# -- Generator requirements -------------------------------------------------------------------

ONE_CASE = (
    "Write exactly one case with the four keys task_name, instruction, information and "
    "solution, and nothing else: no preamble, no second case, no analysis."
)
INSTRUCTION_SHAPE = (
    "The instruction is one or two sentences and names the programming language it is about."
)
INFORMATION_CONTEXT = (
    "The information adds what the instruction needs (constraints, a formula, an example call) "
    "in at most two sentences, or is <noinput> when nothing is needed."
)
INFORMATION_CODE = (
    "The information holds the complete code the instruction refers to, exactly as the learner "
    "will see it."
)
SOLUTION_RESOLVES = (
    "The solution resolves the instruction and uses the information; it must be relevant to both."
)
SOLUTION_CODE_ONLY = (
    "The solution is code only; anything you want to explain goes into comments inside the code."
)
IMPORTS = "The code in the solution imports or includes every library it uses."
READABLE = (
    "Keep the algorithmic logic readable: no convoluted one-liners, no logic hidden in "
    "undocumented helpers."
)

# -- Judge rules --------------------------------------------------------------------------------

INPUT_IS_CODE = JudgeRule(
    "input_is_code",
    "The input is source code, not only comments, documentation or data.",
)
NAMES_LANGUAGE = JudgeRule(
    "names_language",
    "The instruction names the programming language of the code it asks for or about.",
)
SOLUTION_RESOLVES_RULE = JudgeRule(
    "solution_resolves",
    "The solution is related to the instruction and the information and fully resolves them.",
)
CODE_ONLY = JudgeRule(
    "code_only",
    "The solution holds only code and comments inside the code, with no explanation outside it.",
)
FAITHFUL_INSTRUCTION = JudgeRule(
    "instruction_fits_input",
    "The instruction is about what the input code does, without unrelated content.",
)
READABLE_LOGIC = JudgeRule(
    "readable_logic",
    "The solution's logic is easy to follow, not buried in convoluted or undocumented code.",
)
IMPORTS_PRESENT = JudgeRule(
    "imports_present",
    "The solution imports or includes every library it uses (standard ones included).",
)
