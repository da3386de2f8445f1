"""`LoadCodeCorpus`: a distilabel GeneratorStep streaming filtered raw code."""

# No `from __future__ import annotations`: distilabel reads type hints at run time.

from typing import TYPE_CHECKING

from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import GeneratorStep
from pydantic import Field

from pipeline.corpus import CorpusReport, iter_corpus
from pipeline.failures import ReportsFailures
from pipeline.filters import CodeFilter
from wavecoder.errors import UserError

if TYPE_CHECKING:
    from distilabel.typing import GeneratorStepOutput, StepColumns


class LoadCodeCorpus(ReportsFailures, GeneratorStep):
    """Streams documented functions from a corpus through the paper's rule filters.

    Attributes:
        source: ``stdlib``, a folder path, or ``hub:<dataset id>``.
        languages: languages to keep (empty: all the source has).
        split: Hub split.
        limit: read at most this many raw functions (before filtering).
        column_mapping: internal field -> column, for Hub datasets other than CodeSearchNet.
        min_chars, max_chars: kept code length bounds, characters.
        blacklist: whole-word blacklist (None: Code Alpaca's).
        dedup: drop exact duplicates of whitespace-normalised code.
        report_path: where to write the `CorpusReport` JSON when the stream ends.

    Runtime parameters:
        - every attribute above, and `batch_size`.

    Output columns:
        - id (`str`), code (`str`), docstring (`str`), language (`str`), source (`dict`).

    Categories:
        - load
    """

    source: RuntimeParameter[str] = Field(default="stdlib", description="stdlib, folder, hub:<id>")
    languages: RuntimeParameter[list[str]] | None = Field(default=None, description="languages")
    split: RuntimeParameter[str] = Field(default="train", description="Hub split")
    limit: RuntimeParameter[int] | None = Field(default=None, description="max raw functions")
    column_mapping: RuntimeParameter[dict[str, str]] | None = Field(
        default=None, description="internal field -> dataset column"
    )
    min_chars: RuntimeParameter[int] = Field(default=50, description="min code characters")
    max_chars: RuntimeParameter[int] = Field(default=800, description="max code characters")
    blacklist: RuntimeParameter[list[str]] | None = Field(
        default=None, description="whole-word blacklist; None: Code Alpaca's"
    )
    dedup: RuntimeParameter[bool] = Field(default=True, description="exact dedup")
    report_path: RuntimeParameter[str] | None = Field(
        default=None, description="write the drop counts (JSON) here"
    )

    @property
    def outputs(self) -> "StepColumns":
        return ["id", "code", "docstring", "language", "source"]

    def process(self, offset: int = 0) -> "GeneratorStepOutput":  # type: ignore[override]
        report = CorpusReport()
        keep = CodeFilter(
            report,
            min_chars=self.min_chars,
            max_chars=self.max_chars,
            blacklist=self.blacklist,
            dedup=self.dedup,
        )
        rows = keep(
            iter_corpus(
                self.source,
                report,
                languages=self.languages,
                split=self.split,
                limit=self.limit,
                column_mapping=self.column_mapping,
            )
        )
        from tqdm.auto import tqdm

        batch: list[dict] = []
        produced = 0
        bar = tqdm(rows, desc="corpus (kept)", unit="fn", mininterval=2.0)
        for row in bar:
            produced += 1
            if produced <= offset:
                continue
            batch.append(row)
            if len(batch) >= self.batch_size:
                yield batch, False
                batch = []
        bar.close()
        self._logger.info("corpus " + report.format().replace("\n", "; "))
        if self.report_path:
            report.save(self.report_path)
        if not report.kept:
            raise UserError(
                report.why_empty(
                    self.source,
                    self.languages,
                    {"min_chars": self.min_chars, "max_chars": self.max_chars},
                )
            )
        yield batch, True
