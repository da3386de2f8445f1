"""Rendering of the Jinja prompt templates in ``pipeline/templates/``.

The templates are the prompts; this module only loads them and renders a case (the generator's
four keys) in the layout the LLM is asked to answer in.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
CASE_KEYS = ("task_name", "instruction", "information", "solution")


def render_case(case: Any, output_format: str = "text") -> str:
    """A case (mapping or object with the four keys) as the generator is asked to write it."""
    values = {key: _get(case, key) for key in CASE_KEYS}
    if output_format == "json":
        return json.dumps(values, ensure_ascii=False, indent=2)
    information = values["information"]
    # Code goes on the lines below its key, as a learner would see it.
    information = f"\n{information}" if "\n" in information else f" {information}"
    return (
        f"task_name: {values['task_name']}\n"
        f"instruction: {values['instruction']}\n"
        f"information:{information}\n"
        f"solution:\n{values['solution']}"
    )


def _get(case: Any, key: str) -> str:
    value = case.get(key) if isinstance(case, dict) else getattr(case, key)
    return "" if value is None else str(value)


@cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters["render_case"] = render_case
    return env


def render(template: str, **context: Any) -> str:
    """Render `pipeline/templates/<template>` with `context`; missing variables are errors."""
    return _environment().get_template(template).render(**context).strip() + "\n"
