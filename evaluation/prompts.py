"""Prompt templates and benchmark instructions, as data.

A benchmark gives an *instruction* (what the user asks) and optionally a *response prefix* (code the
answer starts with, e.g. the function declaration HumanEvalPack primes with). A template turns them
into the model's input:

- ``alpaca``: the Alpaca prompt WaveCoder is trained on (also bigcode-evaluation-harness's
  "wizardcoder" prompt), the response prefix appended after ``### Response:``;
- ``chat``: the tokenizer's chat template, one user turn, generation prompt, then the prefix;
- ``plain``: no template, for base models (HumanEval: the function prompt itself).
"""

from __future__ import annotations

from training.formatting import ALPACA_NO_INPUT as ALPACA
from wavecoder.errors import UserError

TEMPLATES = ("alpaca", "chat", "plain")

# HumanEval, as in Magicoder's evaluation code, which WaveCoder's README points to.
HUMANEVAL_INSTRUCTION = "Write a solution to the following problem:\n```python\n{prompt}\n```"

# MBPP, as in WaveCoder's own src/eval/mbpp_500/generate.py: the text, then the test asserts.
MBPP_INSTRUCTION = "{text}\nthe function should pass the following test code:\n{tests}"
# MBPP for base models (the `plain` template): bigcode-evaluation-harness's docstring prompt.
MBPP_PLAIN = '"""\n{text}\n{tests}\n"""\n'

# HumanEvalPack (OctoPack), bigcode-evaluation-harness's wording.
FIX_INSTRUCTION = "Fix bugs in {entry_point}."
EXPLAIN_DESCRIBE_INSTRUCTION = (
    "Provide a concise natural language description of the code using at most {length} characters."
)
EXPLAIN_SYNTHESIZE_INSTRUCTION = "Write functional code in {language} according to the description."

# Generation stops for the `alpaca` template: the model starting a new Alpaca turn.
ALPACA_STOPS = ("\n### Instruction", "\n### Response", "\n### Input")


def format_prompt(
    template: str,
    instruction: str,
    response_prefix: str = "",
    *,
    plain: str | None = None,
    tokenizer=None,
) -> str:
    """The model input for `instruction` under `template`.

    `plain`: the prompt to use with the ``plain`` template (default: instruction, a blank line,
    then the response prefix). `tokenizer`: needed for ``chat`` (its ``apply_chat_template``).
    A response prefix makes the prompt end with it, right-stripped, as bigcode's harness does.
    """
    if template == "alpaca":
        text = ALPACA.format(instruction=instruction) + response_prefix
    elif template == "chat":
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise UserError(
                "--template chat needs the model's chat template, and its tokenizer has none; "
                "use --template alpaca (WaveCoder's prompt) or --template plain (base models)"
            )
        messages = [{"role": "user", "content": instruction}]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        text += response_prefix
    elif template == "plain":
        text = plain if plain is not None else instruction + "\n\n" + response_prefix
    else:
        raise ValueError(f"unknown template {template!r}; choose from {', '.join(TEMPLATES)}")
    return text.rstrip() if response_prefix else text
