"""What the Space's tests open: a CodeOcean folder written by our own writer, with HTML and script
planted in instruction, output, source code and judge reasons, accepted, rejected and failed rows
in four tasks and several languages, a selection.parquet and a run summary; and tiny random local
models (nothing is downloaded).

The planted rows' text must show literally in the browser and never run: each payload sets
`window.__pwned` if it ever does.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import tiny_models

from pipeline.generation.records import ACCEPTED, FAILED, REJECTED, build_record

TASKS = ["generation", "summarization", "repair", "translation"]
MODELS = ("gen-model", "judge-model")
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
LATEX = "$$<img src=x onerror=window.__pwned=1>$$"
JS_URL = "javascript:window.__pwned=1"
PLANTED_ID = "planted-html"
# The `planted` config: one row with HTML and a javascript: URL in every field the Space shows
# (task and language names, provenance, model names, status, stage, reasons, judge reasons, an
# extra column). Its own config, so that the other configs' counts stay as they are.
PLANTED_CONFIG, HOSTILE_ID = "planted", "hostile-row"
HOSTILE = f"{IMG} {JS_URL}"
REJECTED_ID = "rejected-planted"
SEARCH_WORD = "quokka"  # in the source code of exactly `SEARCH_HITS` rows, nowhere else
SEARCH_HITS = 3
ACCEPTED_FILLER = 42  # plain accepted rows beside the planted ones: more than two pages
LANGUAGES = ["python", "go", "javascript", "java"]
PASSED = {"rules": [{"rule": "self_contained", "passed": True, "reason": "It stands alone."},
                    {"rule": "correct", "passed": True, "reason": "It is right."}],
          "overall": True}  # fmt: skip
USAGE = {"generator": {"prompt_tokens": 321, "completion_tokens": 54},
         "discriminator": {"prompt_tokens": 432, "completion_tokens": 21}}  # fmt: skip


def _row(rank: int, row_id: str, task: str, language: str, code: str) -> dict:
    return {"id": row_id, "task": task, "language": language, "code": code,
            "selection_rank": rank,
            "source": {"dataset": "fixture", "repo": "wavecoder/tests", "path": f"src/{rank}.txt",
                       "url": f"https://example.org/{row_id}", "license": "mit"}}  # fmt: skip


def records() -> list[dict]:
    """The planted rows first, then `ACCEPTED_FILLER` plain accepted rows, then rejected and
    failed ones (selection order = this order)."""
    out = []
    planted_code = f"def render():\n    return '{SCRIPT}'  # {IMG}\n"
    out.append(build_record(
        _row(0, PLANTED_ID, "generation", "python", planted_code), status=ACCEPTED,
        stage="judgement", models=MODELS, usage=USAGE,
        case={"instruction": f"Write a function that returns {IMG} as text {LATEX}",
              "information": "<noinput>", "solution": f"def render():\n    return '{SCRIPT}'"},
        judgement={"rules": [{"rule": "correct", "passed": True, "reason": f"fine {SCRIPT}"}],
                   "overall": True},
    ))  # fmt: skip
    for i in range(ACCEPTED_FILLER):
        task, language = TASKS[i % 4], LANGUAGES[i % len(LANGUAGES)]
        word = f" {SEARCH_WORD}" if i < SEARCH_HITS else ""
        code = f"def f{i}(x):\n    return x + {i}  #{word}\n"
        out.append(build_record(
            _row(1 + i, f"row-{i:02d}", task, language, code), status=ACCEPTED,
            stage="judgement", models=MODELS, usage=USAGE, judgement=PASSED,
            target_language="go" if task == "translation" else None,
            case={"instruction": f"Task number {i} in {language}.", "information":
                  code if task != "generation" else "<noinput>", "solution": f"answer {i}"},
        ))  # fmt: skip
    wrong = {"rules": [{"rule": "correct", "passed": False, "reason": f"wrong {IMG}"}],
             "overall": False}  # fmt: skip
    out.append(build_record(
        _row(100, REJECTED_ID, "repair", "javascript", f"function f() {{ return '{SCRIPT}'; }}"),
        status=REJECTED, stage="judgement", models=MODELS, judgement=wrong,
        reasons=[{"check": "correct", "message": f"the judge said no {IMG}"}],
        case={"instruction": "Fix it.", "information": "function f() {}", "solution": SCRIPT},
        raw_generation=f"raw {SCRIPT}", raw_judgement="raw judgement",
    ))  # fmt: skip
    out.append(build_record(
        _row(101, "rejected-go", "summarization", "go", "func F() {}"), status=REJECTED,
        stage="postfilter", models=MODELS,
        reasons=[{"check": "one_or_two_sentences", "message": "too long"}],
        case={"instruction": "Explain.", "information": "func F() {}", "solution": "It. Does. F."},
    ))  # fmt: skip
    out.append(build_record(
        _row(102, "failed-py", "translation", "python", "def g(): pass"), status=FAILED,
        stage="generation", models=MODELS, reasons=[{"check": "llm_error", "message": "timeout"}],
    ))  # fmt: skip
    return out


def write_planted_config(folder: Path) -> None:
    """`planted/`: the rejected config's schema, one row hostile in every field it shows."""
    from pipeline.layout import SHARD

    rejected = pq.read_table(folder / "rejected" / SHARD)
    row = rejected.slice(0, 1).to_pylist()[0]
    row.update(
        id=HOSTILE_ID, task=f"{IMG} task", language=f"{IMG} lang", status=f"{IMG} status",
        stage=f"{IMG} stage", generator_model=f"gen {HOSTILE}", discriminator_model=f"judge {IMG}",
        instruction=f"instruction {HOSTILE}", source_code=f"code {IMG}",
        reasons=[{"check": f"{IMG} check", "message": f"message {HOSTILE}"}],
        judgement={"rules": [{"rule": f"{IMG} rule", "passed": False, "reason": f"why {IMG}"}],
                   "overall": False},
        source={**row["source"], "repo": f"repo {IMG}", "path": f"path/{IMG}",
                "license": f"licence {IMG}", "url": JS_URL},
    )  # fmt: skip
    table = pa.Table.from_pylist([row], schema=rejected.schema)
    table = table.append_column("planted_extra", pa.array([{"note": HOSTILE}]))
    (folder / PLANTED_CONFIG).mkdir()
    pq.write_table(table, folder / PLANTED_CONFIG / SHARD)


def write_codeocean(folder: Path) -> Path:
    """The dataset folder (every config, the planted one too, summary.json,
    selection.parquet)."""
    from pipeline.generation.config import GenerationConfig
    from pipeline.generation.summary import summarize
    from pipeline.generation.writer import write_dataset_folder
    from pipeline.layout import SELECTION_FILE

    rows = records()
    write_dataset_folder(rows, folder, tasks=TASKS, summary=summarize(rows, GenerationConfig()))
    ranks = [r["selection_rank"] for r in rows]
    radii = [None if rank == 0 else 1.0 / (1 + rank) for rank in ranks]
    pq.write_table(pa.table({"id": [r["id"] for r in rows], "selection_rank": ranks,
                             "coverage_radius": pa.array(radii, pa.float64())}),
                   folder / SELECTION_FILE)  # fmt: skip
    write_planted_config(folder)
    return folder


def tiny_model(folder: Path, *, words: tuple[str, str] = ("wave", "coder"), seed: int = 0) -> Path:
    """A random Llama-shaped model (context 2048 tokens, a byte-level tokenizer with the Alpaca
    chat template) saved to `folder`, whose head is rewired so that its reply is the two `words`
    in an order its hidden state decides, never EOS: greedy decoding writes a word per token, so
    the reply streams word by word for as many tokens as asked."""
    import torch
    from transformers import LlamaForCausalLM

    from training.formatting import ALPACA_CHAT_TEMPLATE

    texts = [" ".join(words * 8), "def add(a, b):\n    return a + b", "Write a function."]
    tokenizer = tiny_models.bpe_tokenizer(
        texts * 4, vocab_size=300, pad_token="<pad>", chat_template=ALPACA_CHAT_TEMPLATE
    )
    ids = [tokenizer.convert_tokens_to_ids("Ġ" + word) for word in words]
    assert tokenizer.unk_token_id not in ids and None not in ids, "a word is not one token"
    tiny_models.tiny_llama(folder, tokenizer, max_positions=2048, seed=seed)
    model = LlamaForCausalLM.from_pretrained(folder)
    with torch.no_grad():
        # The final norm keeps one hidden dimension; its sign picks the word.
        model.model.norm.weight.zero_()
        model.model.norm.weight[0] = 1.0
        model.lm_head.weight.zero_()
        model.lm_head.weight[ids[0], 0] = 1.0
        model.lm_head.weight[ids[1], 0] = -1.0
    model.save_pretrained(folder)
    return folder
