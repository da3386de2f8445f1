"""wavecoder: WaveCoder on the Hugging Face Hub (arXiv 2312.14187).

The command line is `wavecoder` (`wavecoder.cli`); the packages beside this one hold the work:
`pipeline` (build CodeOcean), `evaluation` (score models in a sandbox), `cards`, and `training`
and `space` to come. The names users import are here; each is loaded on first use, so
`import wavecoder` stays light:

    from wavecoder import kcenter_greedy, load_recipe, UserError
"""

from __future__ import annotations

import importlib
from typing import Any

from wavecoder.errors import StepFailed, UserError

__version__ = "0.1.0"

# Public name -> the module that defines it (imported on first use: numba, torch, distilabel).
_LAZY = {
    "kcenter_greedy": "pipeline.selection",
    "kcenter_greedy_select": "pipeline.selection",
    "KCenterSelection": "pipeline.selection",
    "load_recipe": "pipeline.recipe",
    "Recipe": "pipeline.recipe",
    "iter_corpus": "pipeline.corpus",
    "CorpusReport": "pipeline.corpus",
    "KCenterGreedySelect": "pipeline.steps",
    "LoadCodeCorpus": "pipeline.steps",
    "EmbedCode": "pipeline.steps",
}

__all__ = ["StepFailed", "UserError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wavecoder' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
