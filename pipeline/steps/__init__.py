"""distilabel steps of the CodeOcean pipeline (one component per module).

The WaveCoder paper is cited once, by `KCenterGreedySelect` (in every pipeline of `wavecoder
generate`): distilabel collects a run's citations from its steps' docstrings.
"""

from pipeline.steps.assign_task import AssignCodeTask
from pipeline.steps.decontaminate_corpus import DecontaminateCorpus
from pipeline.steps.embed_code import EmbedCode
from pipeline.steps.generate_and_judge import GenerateAndJudge
from pipeline.steps.kcenter import KCenterGreedySelect
from pipeline.steps.load_corpus import LoadCodeCorpus

__all__ = [
    "AssignCodeTask",
    "DecontaminateCorpus",
    "EmbedCode",
    "GenerateAndJudge",
    "KCenterGreedySelect",
    "LoadCodeCorpus",
]
