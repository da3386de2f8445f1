"""distilabel steps of the CodeOcean pipeline (one component per module)."""

from pipeline.steps.embed_code import EmbedCode
from pipeline.steps.kcenter import KCenterGreedySelect
from pipeline.steps.load_corpus import LoadCodeCorpus

__all__ = ["EmbedCode", "KCenterGreedySelect", "LoadCodeCorpus"]
