"""Training throughput: padded batches against padding-free and packed ones (TRL `SFTTrainer`).

What is trained: the rows of a CodeOcean folder, read and formatted as `training/sft.py` reads
them (`training.data.load_training_rows`, the paper's Alpaca prompt as the chat template, loss
on the completion). `--dataset DIR` uses a folder written by `wavecoder generate`. Without it the
bench writes one with our own writer from the functions the demo recipe selects from
(`pipeline.corpus.iter_corpus("stdlib")` + `CodeFilter` with the word blacklist: 4,451
documented functions of 50-800 characters on CPython 3.11), one row per function, the four tasks
in turn: generation (docstring -> code), summarization (code -> docstring), repair (code with one
operator flipped -> code + a sentence) and translation (code -> text as long as the code). A
CodeOcean row is built from exactly one such function, so prompt and completion lengths follow
the corpus's; the generator's own wording is not modelled.

Model: a random Llama-shaped causal LM (hidden 256, 4 layers, 4 heads) with a byte-level BPE
tokenizer trained here on the rows (nothing is downloaded), fp32 on the CPU, SDPA attention. The
rows are tokenized once; every mode then trains `--steps` optimizer steps of `--batch` rows or
packs, the first `--warmup` untimed. Modes run interleaved for `--repeats` rounds; the table
shows medians. Tokens/s counts real (non-pad) tokens, prompt and completion, per second of this
process's CPU time (`time.process_time`) on one torch thread: on a 2-core machine shared with
other work, wall-clock tokens/s of one mode varied up to 3x between rounds, CPU-time tokens/s
mostly within 10% (with more threads, waiting threads spin and count too, so `--threads N` is
for a machine of its own). Wall-clock tokens/s are shown beside.

Modes (TRL 1.16 `SFTConfig`):
    padded          the baseline: each batch padded to its longest row
    grouped         padded, rows of similar length batched together (`group_by_length`)
    padding-free    `padding_free=True`: the batch's rows concatenated into one row, no padding,
                    the same rows per step as padded
    packed          `packing=True` (best-fit decreasing, padding-free): `--batch` packs of whole
                    rows up to `--max-length` tokens, concatenated into one row per step
    packed-1x8      the same packs, one per forward pass, `--batch` accumulated per step
    packed-wrapped  `packing_strategy="wrapped"`: the token stream cut into `--batch` rows of
                    `--max-length` tokens; rows attend across example boundaries

Padding-free rows keep each example's attention to itself with a block-diagonal mask, which
FlashAttention's variable-length kernels skip over; SDPA on a CPU computes it densely, so its cost
grows with the square of the concatenated row (`--attention` times one batch laid out three ways).

    python bench/train.py                      # stdlib-shaped rows, every mode
    python bench/train.py --dataset DIR        # a folder from `wavecoder generate`
    python bench/train.py --mode packed-1x8 --repeats 5 --attention
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASKS = ("generation", "summarization", "repair", "translation")
# SFTConfig settings per mode; "accumulate" means one row (pack) per forward pass with the
# `--batch` of a step reached by gradient accumulation.
MODES = {
    "padded": {},
    "grouped": {"train_sampling_strategy": "group_by_length"},
    "padding-free": {"padding_free": True, "max_length": None},
    "packed": {"packing": True, "packing_strategy": "bfd"},
    "packed-1x8": {"packing": True, "packing_strategy": "bfd", "accumulate": True},
    "packed-wrapped": {"packing": True, "packing_strategy": "wrapped"},
}
BASELINE = "padded"
# Operator flips that make a plausible bug for the repair rows (the first one found is applied).
BUGS = ((" == ", " != "), (" + 1", " - 1"), (" < ", " <= "), (" and ", " or "), ("True", "False"))


def stdlib_case(function: dict, task: str) -> dict[str, str]:
    """The generator's case (instruction, information, solution) for one stdlib function."""
    code, doc = function["code"], function["docstring"].strip()
    name = function["source"].get("func_name", "f").rsplit(".", 1)[-1]
    if task == "generation":
        return {"instruction": f"Write a Python function `{name}`. {doc}",
                "information": "<noinput>", "solution": code}  # fmt: skip
    if task == "summarization":
        return {"instruction": "Summarize what this Python function does.",
                "information": code, "solution": doc}  # fmt: skip
    if task == "repair":
        buggy = next((code.replace(a, b, 1) for a, b in BUGS if a in code), code + "    pass\n")
        return {"instruction": "Find and fix the bug in this Python function.",
                "information": buggy,
                "solution": f"{code}\nThe corrected line restores the intended behaviour: {doc}"}  # fmt: skip
    return {"instruction": "Translate this Python function to Go.",
            "information": code, "solution": code}  # fmt: skip


def write_stdlib_folder(folder: Path, limit: int | None) -> int:
    """A CodeOcean folder with one accepted row per filtered stdlib function; returns rows."""
    from pipeline.corpus import CorpusReport, iter_corpus
    from pipeline.filters import CodeFilter
    from pipeline.generation.records import ACCEPTED, build_record
    from pipeline.generation.writer import write_dataset_folder

    report = CorpusReport()
    functions = list(CodeFilter(report)(iter_corpus("stdlib", report)))[:limit]
    records = []
    for rank, function in enumerate(functions):
        task = TASKS[rank % len(TASKS)]
        row = {**function, "task": task, "selection_rank": rank}
        case = stdlib_case(function, task)
        target = "go" if task == "translation" else None
        records.append(
            build_record(row, status=ACCEPTED, stage="judgement", case=case,
                         target_language=target, models=("bench", "bench"))
        )  # fmt: skip
    summary = {"selected": len(records), "accepted": len(records), "k": len(records)}
    write_dataset_folder(records, folder, tasks=list(TASKS), summary=summary)
    return len(records)


def tiny_model(folder: Path, texts: list[str], vocab_size: int) -> Path:
    """A byte-level BPE tokenizer trained on `texts` and a random Llama saved to `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )  # fmt: skip
    bpe.train_from_iterator(texts, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=256, intermediate_size=688, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=8192,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


class CountingCollator:
    """Wraps the trainer's collator and records each batch's real and pad tokens."""

    def __init__(self, collator):
        self.collator = collator
        self.batches: list[tuple[int, int]] = []

    def __call__(self, examples):
        batch = self.collator(examples)
        total = batch["input_ids"].numel()
        # Padding-free batches have no mask: one row, padded only to `pad_to_multiple_of` (unset).
        mask = batch.get("attention_mask")
        real = total if mask is None else int(mask.sum())
        self.batches.append((real, total - real))
        return batch


def sft_trainer(mode: str, dataset, model_dir: Path, args, output_dir: Path):
    """TRL's SFTTrainer as `training/sft.py` builds it (Alpaca template, completion-only loss),
    with `mode`'s settings."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    from training.formatting import prepare_tokenizer

    settings = {"max_length": args.max_length, **MODES[mode]}
    if settings.pop("accumulate", False):
        settings.update(per_device_train_batch_size=1, gradient_accumulation_steps=args.batch)
    else:
        settings.update(per_device_train_batch_size=args.batch)
    config = SFTConfig(
        output_dir=str(output_dir), max_steps=args.steps,
        learning_rate=1e-4, logging_steps=10**6, save_strategy="no", report_to="none",
        bf16=False, use_cpu=True, disable_tqdm=True, seed=0, dataloader_num_workers=0,
        # Recomputation costs every mode alike, and a model this small needs no memory saving.
        gradient_checkpointing=False,
        **settings,
    )  # fmt: skip
    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(model_dir), "alpaca")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa")
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.remove_callback(PrinterCallback)  # the end-of-run metrics dict, once per run
    return trainer


def tokenized_rows(dataset, model_dir: Path, args, output_dir: Path):
    """The rows tokenized once (cut to `--max-length`; labels -100 on the prompt): every run then
    pads or packs these same `input_ids` / `labels` instead of tokenizing again."""
    rows = sft_trainer(BASELINE, dataset, model_dir, args, output_dir).train_dataset
    return rows.select_columns(["input_ids", "labels"])


def run_mode(mode: str, dataset, model_dir: Path, args, output_dir: Path) -> dict[str, float]:
    """Train `args.steps` steps in `mode`: tokens/s, padding share, rows and tokens per step of
    the timed steps."""
    from transformers import TrainerCallback

    class StepClock(TrainerCallback):
        def __init__(self):
            self.ends: list[tuple[float, float]] = []  # (CPU, wall) seconds per optimizer step

        def on_step_end(self, *_, **__):
            self.ends.append((time.process_time(), time.perf_counter()))

    trainer = sft_trainer(mode, dataset, model_dir, args, output_dir)
    trainer.add_callback(clock := StepClock())
    counter = trainer.data_collator = CountingCollator(trainer.data_collator)
    rows = _rows_per_step(trainer, args.batch)
    trainer.train()
    # Batches are collated in the order steps use them (the loader may collate one ahead).
    per_step = trainer.args.gradient_accumulation_steps
    timed = counter.batches[args.warmup * per_step : args.steps * per_step]
    if len(timed) < (args.steps - args.warmup) * per_step:
        raise SystemExit(f"{mode}: fewer batches than steps; the dataset is too small")
    (cpu_start, wall_start), (cpu_end, wall_end) = clock.ends[args.warmup - 1], clock.ends[-1]
    real, pad = sum(r for r, _ in timed), sum(p for _, p in timed)
    return {
        "tokens_per_s": real / (cpu_end - cpu_start),
        "wall_tokens_per_s": real / (wall_end - wall_start),
        "pad_share": pad / (real + pad),
        "rows_per_step": rows,
        "tokens_per_step": real / (args.steps - args.warmup),
    }


def _rows_per_step(trainer, batch: int) -> float:
    """Training rows per optimizer step: `batch`, or `batch` x the mean rows per pack when
    best-fit packing (nan for wrapped packs, which cut rows)."""
    if not trainer.args.packing:
        return float(batch)
    if trainer.args.packing_strategy != "bfd":
        return float("nan")
    return batch * statistics.mean(len(x) for x in trainer.train_dataset["seq_lengths"])


def attention_costs(dataset, model_dir: Path, args, output_dir: Path) -> list[tuple[str, float]]:
    """Forward + backward seconds (median of 3) of the same `--batch` best-fit packs, laid out
    three ways: what packed batches cost on this machine's attention against a varlen kernel."""
    import torch
    from transformers import AutoModelForCausalLM

    trainer = sft_trainer("packed", dataset, model_dir, args, output_dir)
    packed = trainer.train_dataset  # in best-fit order, longest rows first: take packs spread out
    packs = packed.select([i * len(packed) // args.batch for i in range(args.batch)])
    lengths = [length for pack in packs["seq_lengths"] for length in pack]
    ids = torch.tensor([token for pack in packs["input_ids"] for token in pack])[None]
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa")

    def seconds(pieces) -> float:
        times = []
        for _ in range(3):
            start = time.process_time()
            for piece, where in pieces:
                model(input_ids=piece, position_ids=where, labels=piece).loss.backward()
            times.append(time.process_time() - start)
            model.zero_grad()
        return statistics.median(times)

    def split(sizes):
        edges = [0, *torch.tensor(sizes).cumsum(0).tolist()]
        return [(ids[:, a:b], positions[:, a:b]) for a, b in pairwise(edges)]

    return [
        (f"{args.batch} packs as one row of {ids.shape[1]} tokens, block mask (packed)",
         seconds([(ids, positions)])),
        (f"{args.batch} packs one at a time, block mask (packed-1x{args.batch})",
         seconds(split([len(x) for x in packs["input_ids"]]))),
        (f"the {len(lengths)} rows one at a time (what a varlen kernel computes)",
         seconds(split(lengths))),
    ]  # fmt: skip


def length_summary(rows) -> str:
    """Percentiles of the tokenized rows' lengths (prompt + completion, Alpaca template)."""
    import numpy as np

    lengths = np.array([len(ids) for ids in rows["input_ids"]])
    p = np.percentile(lengths, [10, 50, 90, 100]).astype(int)
    return (
        f"{len(lengths)} rows, tokens per row: mean {lengths.mean():.0f}, p10 {p[0]}, "
        f"median {p[1]}, p90 {p[2]}, max {p[3]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", help="a CodeOcean folder (default: stdlib-shaped rows)")
    parser.add_argument("--limit", type=int, help="stdlib rows: use only the first N functions")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="repeatable")
    parser.add_argument("--batch", type=int, default=8, help="per-device batch (rows or packs)")
    parser.add_argument("--max-length", type=int, default=1024, help="tokens; the pack length")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=1, help="first steps not timed")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (see above)")
    parser.add_argument(
        "--attention", action="store_true", help="also time one batch of packs laid out 3 ways"
    )
    args = parser.parse_args()
    if not 1 <= args.warmup < args.steps:
        parser.error("--warmup must be at least 1 and below --steps")

    import datasets
    import torch
    import transformers

    from training.configs import WaveCoderArguments
    from training.data import load_training_rows
    from training.formatting import ALPACA_NO_INPUT, ALPACA_WITH_INPUT

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    modes = args.mode or list(MODES)
    if BASELINE not in modes:
        modes.insert(0, BASELINE)
    scratch = tempfile.TemporaryDirectory(prefix="wavecoder-bench-train-")  # removed at exit
    tmp = Path(scratch.name)
    folder = Path(args.dataset) if args.dataset else tmp / "codeocean"
    if not args.dataset:
        start = time.perf_counter()
        n = write_stdlib_folder(folder, args.limit)
        print(f"wrote {n} stdlib-shaped CodeOcean rows in {time.perf_counter() - start:.0f} s")
    dataset, per_task = load_training_rows(WaveCoderArguments(dataset_name=str(folder)))
    turns = [m for row in [*dataset["prompt"], *dataset["completion"]] for m in row]
    texts = [
        ALPACA_WITH_INPUT,
        ALPACA_NO_INPUT,
        *(m["content"] + m.get("input", "") for m in turns),
    ]
    model_dir = tiny_model(tmp / "model", texts, args.vocab_size)
    dataset = tokenized_rows(dataset, model_dir, args, tmp / "out")
    print(f"dataset {folder}: {length_summary(dataset)}; rows per task {per_task}")
    print(f"torch threads {torch.get_num_threads()}, batch {args.batch}, max_length "
          f"{args.max_length}, {args.steps} steps ({args.warmup} untimed) x {args.repeats}")  # fmt: skip

    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    for r in range(args.repeats):
        order = modes if r % 2 == 0 else modes[::-1]
        for mode in order:
            results[mode].append(run_mode(mode, dataset, model_dir, args, tmp / "out"))
        print(f"round {r + 1}/{args.repeats}: " + ", ".join(
            f"{m} {results[m][-1]['tokens_per_s']:.0f}" for m in modes) + " tokens/s")  # fmt: skip

    base = statistics.median(x["tokens_per_s"] for x in results[BASELINE])
    header = ("mode", "tokens/s (CPU time)", "range", "tokens/s (wall)", "padding share",
              "rows/step", "tokens/step", f"vs {BASELINE}")  # fmt: skip
    table = []
    for mode in modes:
        runs = results[mode]
        rate = statistics.median(x["tokens_per_s"] for x in runs)
        rows = runs[0]["rows_per_step"]
        table.append((
            mode, f"{rate:.0f}",
            f"{min(x['tokens_per_s'] for x in runs):.0f}-{max(x['tokens_per_s'] for x in runs):.0f}",
            f"{statistics.median(x['wall_tokens_per_s'] for x in runs):.0f}",
            f"{100 * statistics.median(x['pad_share'] for x in runs):.1f}%",
            "-" if rows != rows else f"{rows:.1f}",
            f"{statistics.median(x['tokens_per_step'] for x in runs):.0f}",
            f"{rate / base:.2f}x",
        ))  # fmt: skip
    print()
    print_table(header, table)
    packing = [f"{m} {row[-1]}" for m, row in zip(modes, table, strict=True) if "packed" in m]
    if packing:
        print(f"\ntarget: packing >= 1.50x the padded tokens/s at batch {args.batch}: "
              + ", ".join(packing))  # fmt: skip
    if args.attention:
        costs = attention_costs(dataset, model_dir, args, tmp / "out")
        print()
        print_table(
            ("same tokens, forward + backward", "CPU seconds", "vs varlen"),
            [(name, f"{t:.2f}", f"{t / costs[-1][1]:.1f}x") for name, t in costs],
        )


def print_table(header, rows) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    for line in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
