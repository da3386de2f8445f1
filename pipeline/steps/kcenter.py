"""`KCenterGreedySelect`: a distilabel GlobalStep that keeps a KCenterGreedy coreset."""

# No `from __future__ import annotations`: distilabel reads `process`'s type hints at run time.

import math
from typing import TYPE_CHECKING

import numpy as np
from distilabel.mixins.runtime_parameters import RuntimeParameter
from distilabel.steps import GlobalStep, StepInput
from pydantic import Field

from pipeline.failures import ReportsFailures
from pipeline.selection import kcenter_greedy_select
from wavecoder.errors import UserError

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput


class KCenterGreedySelect(ReportsFailures, GlobalStep):
    """Keeps the rows chosen by exact KCenterGreedy on their embeddings, in selection order.

    The greedy picks, one at a time, the row farthest (Euclidean) from every row picked before,
    so the kept rows cover the embedding space as evenly as ``k`` rows can (Sener & Savarese,
    2018). See `pipeline.selection` for the exact implementation (lazy on the CPU).

    Attributes:
        num_centers: number of rows to keep, the k of KCenterGreedy (clipped to the number of
            rows). Not named ``k``: distilabel 1.5.3 drops one-letter fields from its pipeline
            YAML (it dumps with ``exclude="api_key"``, a set of letters), and reloads steps from it.
        fraction: or the fraction of rows to keep, rounded up; exactly one of the two.
        first: index of the first center; None draws it from ``seed``.
        seed: seed of the first center when ``first`` is None.
        embedding_column: the column holding each row's vector (list of floats or array).
        keep_embedding: keep that column in the output (dropped by default: it is large).
        device: ``cpu``, ``cuda`` or None (CUDA when available).

    Runtime parameters:
        - `num_centers`, `fraction`, `first`, `seed`, `embedding_column`, `keep_embedding`, `device`.

    Input columns:
        - embedding (`List[float]`): the vector of each row (name set by `embedding_column`).

    Output columns:
        - selection_rank (`int`): 0 for the first pick, 1 for the next...
        - coverage_radius (`float`): distance of the pick to its nearest earlier pick when it was
            chosen (None for the first pick); it shrinks as the selection grows.

    Categories:
        - filtering

    References:
        - [Active Learning for Convolutional Neural Networks: A Core-Set Approach](https://arxiv.org/abs/1708.00489)
        - [WaveCoder](https://arxiv.org/abs/2312.14187)

    Examples:
        ```python
        from distilabel.pipeline import Pipeline
        from distilabel.steps import LoadDataFromDicts
        from pipeline.steps import KCenterGreedySelect

        with Pipeline(name="coreset") as pipeline:
            load = LoadDataFromDicts(data=[{"embedding": [0.0, 1.0]}, {"embedding": [1.0, 0.0]}])
            select = KCenterGreedySelect(num_centers=1, first=0)
            load >> select
        distiset = pipeline.run(use_cache=False)
        ```

    Citations:
        ```
        @inproceedings{sener2018active,
            title={Active Learning for Convolutional Neural Networks: A Core-Set Approach},
            author={Ozan Sener and Silvio Savarese},
            booktitle={International Conference on Learning Representations},
            year={2018},
            url={https://arxiv.org/abs/1708.00489},
        }
        ```
        ```
        @misc{yu2023wavecoder,
            title={WaveCoder: Widespread And Versatile Enhancement For Code Large Language Models By Instruction Tuning},
            author={Zhaojian Yu and Xin Zhang and Ning Shang and Yangyu Huang and Can Xu and Yishujie Zhao and Wenxiang Hu and Qiufeng Yin},
            year={2023},
            eprint={2312.14187},
            archivePrefix={arXiv},
            url={https://arxiv.org/abs/2312.14187},
        }
        ```
    """

    num_centers: RuntimeParameter[int] | None = Field(
        default=None, description="number of rows to keep (k)"
    )
    fraction: RuntimeParameter[float] | None = Field(
        default=None, description="fraction of rows to keep (instead of k)"
    )
    first: RuntimeParameter[int] | None = Field(
        default=None, description="index of the first center; None: random from seed"
    )
    seed: RuntimeParameter[int] = Field(default=42, description="seed of a random first center")
    embedding_column: RuntimeParameter[str] = Field(
        default="embedding", description="column holding the vectors"
    )
    keep_embedding: RuntimeParameter[bool] = Field(
        default=False, description="keep the embedding column in the output"
    )
    device: RuntimeParameter[str] | None = Field(
        default=None, description="cpu, cuda, or None for CUDA when available"
    )

    @property
    def inputs(self) -> "StepColumns":
        return [self.embedding_column]

    @property
    def outputs(self) -> "StepColumns":
        return ["selection_rank", "coverage_radius"]

    def target_size(self, n: int) -> int:
        if (self.num_centers is None) == (self.fraction is None):
            raise ValueError("KCenterGreedySelect needs exactly one of `num_centers` or `fraction`")
        if self.num_centers is not None:
            if self.num_centers < 1:
                raise ValueError(f"num_centers must be >= 1, got {self.num_centers}")
            return min(self.num_centers, n)
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        return min(n, max(1, math.ceil(self.fraction * n)))

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        if not inputs:
            yield []
            return
        k = self.target_size(len(inputs))
        if self.first is not None and not 0 <= self.first < len(inputs):
            raise UserError(
                f"selection.first is {self.first}, but the filtered corpus has {len(inputs)} rows "
                f"(give an index below {len(inputs)}, or null for a random first center)"
            )
        try:
            matrix = np.stack(
                [np.asarray(row[self.embedding_column], np.float32) for row in inputs]
            )
        except ValueError as exc:
            raise ValueError(
                f"column {self.embedding_column!r} must hold vectors of one length: {exc}"
            ) from exc
        self._logger.info(
            f"KCenterGreedy: selecting {k} of {len(inputs)} rows ({matrix.shape[1]}-d)"
        )
        sel = kcenter_greedy_select(
            matrix, k, first=self.first, seed=self.seed, device=self.device, progress=True
        )
        del matrix
        self._logger.info(f"KCenterGreedy: final coverage radius {sel.final_radius:.4f}")
        out = []
        for rank, (index, radius) in enumerate(
            zip(sel.indices.tolist(), sel.radii.tolist(), strict=True)
        ):
            row = dict(inputs[index])
            if not self.keep_embedding:
                row.pop(self.embedding_column, None)
            row["selection_rank"] = rank
            row["coverage_radius"] = None if rank == 0 else float(radius)
            out.append(row)
        yield out
