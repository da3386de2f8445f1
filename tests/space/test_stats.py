"""space/stats.py: the statistics tab's figures of a small dataset folder, read off their Axes."""

from __future__ import annotations

import gradio as gr
import matplotlib.pyplot as plt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.generation.config import GenerationConfig
from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record
from pipeline.generation.summary import summarize
from pipeline.generation.writer import write_dataset_folder
from pipeline.layout import SHARD, config_folder
from space.stats import (
    acceptance_figure,
    all_figures,
    language_mix_figure,
    length_figure,
    rejections_figure,
    rule_verdicts_figure,
    selection_figure,
    task_mix_figure,
)

TASKS = ["generation", "summarization", "repair", "translation"]
PASSED = {"rules": [{"rule": "self_contained", "passed": True, "reason": "ok"},
                    {"rule": "correct", "passed": True, "reason": "ok"}], "overall": True}  # fmt: skip
WRONG = {"rules": [{"rule": "self_contained", "passed": True, "reason": "ok"},
                   {"rule": "correct", "passed": False, "reason": "off by one"}], "overall": False}  # fmt: skip
# (task, language, status, stage, instruction, output, judgement, reasons)
ROWS = [
    ("generation", "python", ACCEPTED, "judgement", "Add two numbers.", "def add(a, b):\n    return a + b", PASSED, None),
    ("generation", "python", ACCEPTED, "judgement", "Reverse a string.", "def rev(s):\n    return s[::-1]", PASSED, None),
    ("generation", "python", ACCEPTED, "judgement", "Halve x.", "def half(x):\n    return x // 2", PASSED, None),
    ("repair", "go", ACCEPTED, "judgement", "Fix the loop bound.", "for i := 0; i < n; i++ {}", None, None),
    ("summarization", "javascript", ACCEPTED, "judgement", "Summarize this function.", "It doubles x.", None, None),
    ("translation", "python", REJECTED, "postfilter", "Rewrite it.", "x", None,
     [{"check": "target_language", "message": "names no target language"}]),
    ("generation", "python", REJECTED, "judgement", "Count words.", "len(s)", WRONG,
     [{"check": "correct", "message": "off by one"}]),
    ("generation", "python", REJECTED, "judgement", "Sum a list.", "sum(x) + 1", WRONG,
     [{"check": "correct", "message": "off by one"}]),
    ("repair", "java", FAILED, "generation", "", "", None,
     [{"check": "no_answer", "message": "timed out"}]),
]  # fmt: skip


def _records() -> list[dict]:
    """The records of `ROWS`, built as the pipeline builds them (a failed row has no case)."""
    records = []
    for rank, (task, language, status, stage, instruction, output, *judged) in enumerate(ROWS):
        row = {"id": f"row{rank}", "task": task, "language": language, "code": "x = 1",
               "selection_rank": rank, "source": {"dataset": "fixture"}}  # fmt: skip
        case = {"instruction": instruction, "information": "<noinput>", "solution": output}
        outcome = dict(zip(("judgement", "reasons"), judged, strict=True))
        records.append(
            build_record(row, status=status, stage=stage, case=case if instruction else None,
                         models=("gen", "judge"), **outcome)
        )  # fmt: skip
    return records


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """(summary, default config rows, every config's rows) of a folder written by the pipeline."""
    records = _records()
    summary = summarize(records, GenerationConfig())
    out = tmp_path_factory.mktemp("codeocean")
    write_dataset_folder(records, out, tasks=TASKS, summary=summary)
    default = pq.read_table(out / config_folder("default") / SHARD)
    configs = [pq.read_table(out / name / SHARD) for name in ("data", "rejected", "failed")]
    every = pa.concat_tables(configs, promote_options="default")
    return summary, default, every


@pytest.fixture
def selection():
    return pa.table({"id": [f"row{i}" for i in range(5)], "selection_rank": list(range(5)),
                     "coverage_radius": [None, 0.9, 0.7, 0.7, 0.4]})  # fmt: skip


def _bars(ax) -> list[float]:
    return [patch.get_height() for patch in ax.patches]


def _ticks(ax, axis="x") -> list[str]:
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels]


def test_task_and_language_mix(folder):
    _, default, every = folder
    ax = task_mix_figure(default).axes[0]
    assert (_ticks(ax), _bars(ax)) == (["generation", "repair", "summarization"], [3, 1, 1])
    assert ax.get_title() == "Rows per task (5 rows)"
    ax = task_mix_figure(every).axes[0]
    assert (_ticks(ax), _bars(ax)) == (
        ["generation", "repair", "summarization", "translation"], [5, 2, 1, 1])  # fmt: skip
    ax = language_mix_figure(default).axes[0]
    assert (_ticks(ax), _bars(ax)) == (["python", "go", "javascript"], [3, 1, 1])
    ax = language_mix_figure(pa.table({"language": ["go", None, "go"]})).axes[0]
    assert (_ticks(ax), _bars(ax)) == (["go", "unknown"], [2, 1])


def test_acceptance_per_task_is_stacked_by_outcome(folder):
    summary, _, _ = folder
    ax = acceptance_figure(summary).axes[0]
    assert _ticks(ax) == [
        "generation\n60%",
        "repair\n100%",
        "summarization\n100%",
        "translation\n0%",
    ]
    accepted, rejected, failed = ax.containers
    assert [p.get_height() for p in accepted] == [3, 1, 1, 0]
    assert [p.get_height() for p in rejected] == [2, 0, 0, 1]
    assert [p.get_height() for p in failed] == [0, 1, 0, 0]
    assert [p.get_y() for p in failed] == [5, 1, 1, 1]  # stacked on accepted + rejected
    assert ax.get_title() == "Outcome per task (acceptance 62.5%)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["accepted", "rejected", "failed"]


def test_rejections_per_check_stacked_by_task(folder):
    summary, _, _ = folder
    ax = rejections_figure(summary).axes[0]
    assert _ticks(ax, "y") == ["correct (judgement)", "target_language (postfilter)"]
    generation, translation = ax.containers
    assert [p.get_width() for p in generation] == [2, 0]
    assert [p.get_width() for p in translation] == [0, 1]
    assert [p.get_x() for p in translation] == [2, 0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["generation", "translation"]


def test_rule_verdicts(folder):
    _, default, every = folder
    ax = rule_verdicts_figure(every).axes[0]
    assert _ticks(ax, "y") == ["correct", "self_contained"]  # most no's first
    yes, no = ax.containers
    assert ([p.get_width() for p in yes], [p.get_width() for p in no]) == ([3, 5], [2, 0])
    ax = rule_verdicts_figure(default).axes[0]
    yes, no = ax.containers
    assert ([p.get_width() for p in yes], [p.get_width() for p in no]) == ([3, 3], [0, 0])


def test_length_histograms(folder):
    _, default, every = folder
    instruction, output = length_figure(every).axes
    lengths = [len(row[4]) for row in ROWS if row[4]]  # the failed row has no instruction
    assert sum(_bars(instruction)) == len(lengths) == 8
    assert len(instruction.patches) == 20
    assert instruction.patches[0].get_x() == min(lengths)
    last = instruction.patches[-1]
    assert last.get_x() + last.get_width() == pytest.approx(max(lengths))
    assert instruction.get_title() == "instruction (16 median)"
    assert sum(_bars(output)) == 8
    assert output.get_xlabel() == "characters"
    assert sum(_bars(length_figure(default).axes[0])) == 5
    only = length_figure(pa.table({"output": ["abc", ""]}))
    assert [ax.get_title() for ax in only.axes] == ["output (3 median)"]


def test_selection_radius_by_rank(selection):
    ax = selection_figure(selection).axes[0]
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1, 2, 3, 4]  # the first pick has no radius
    assert list(line.get_ydata()) == [0.9, 0.7, 0.7, 0.4]
    assert ax.get_title() == "KCenterGreedy coverage radius by pick (5 selected)"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("selection rank", "coverage radius")


def test_all_figures_skips_what_is_absent(folder, selection):
    summary, default, every = folder
    figures = all_figures(summary, every, selection)
    assert list(figures) == ["task_mix", "language_mix", "acceptance", "rejections",
                             "rule_verdicts", "lengths", "selection"]  # fmt: skip
    assert figures["task_mix"].axes[0].get_title() == "Rows per task (9 rows)"
    assert plt.get_fignums() == []  # nothing registered with pyplot, nothing to leak
    assert list(all_figures({}, None)) == []
    assert list(all_figures({}, default.slice(0, 0), selection.slice(0, 1))) == []
    accepted_only = {**summary, "rejections_by_check": {}}
    assert list(all_figures(accepted_only, default.select(["task", "language"]))) == [
        "task_mix", "language_mix", "acceptance"]  # fmt: skip
    no_rules = default.select(["judgement"]).slice(3, 2)  # repair, summarization: no rules
    assert list(all_figures(None, no_rules)) == []


def test_figures_render_for_gr_plot_with_labels_as_written(folder):
    summary, _, _ = folder
    fig = language_mix_figure(pa.table({"language": [r"$\undefined$", "go"]}))
    assert _ticks(fig.axes[0])[0] == r"\$\undefined\$"  # not mathtext, which would fail to draw
    plot = gr.Plot().postprocess(fig)  # gradio 6.31 encodes webp by default
    assert (plot.type, plot.plot[:11]) == ("matplotlib", "data:image/")
    assert len(plot.plot) > 1000
    assert gr.Plot().postprocess(acceptance_figure(summary)).plot.startswith("data:image/")
    raw = plt.figure()
    raw.add_subplot().set_title(r"$\undefined$")
    with pytest.raises(ValueError):  # what the escaping avoids
        raw.canvas.draw()
    plt.close(raw)
