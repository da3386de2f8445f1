"""`EmbedCode`: distilabel's `EmbeddingGeneration` whose failure ends the run."""

from distilabel.steps import EmbeddingGeneration

from pipeline.failures import ReportsFailures


class EmbedCode(ReportsFailures, EmbeddingGeneration):
    """`EmbeddingGeneration`, except that a failed batch ends the run with its error.

    distilabel's own step replaces a failed batch with None embeddings and goes on, so a model
    that cannot load or encode looked like an empty corpus downstream (see `pipeline.failures`).

    Input columns:
        - text (`str`): the text to embed (map `code` onto it with `input_mappings`).

    Output columns:
        - embedding (`List[float]`): the embedding of the text.

    Categories:
        - embedding
    """
