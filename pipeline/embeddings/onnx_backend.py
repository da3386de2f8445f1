"""ONNX Runtime backend: export a sentence-transformers model once, then embed on the CPU.

Export traces the model's whole module pipeline (transformer, pooling, any dense layers,
normalisation, as its ``modules.json`` lists them) with ``torch.onnx.export``, so the graph's
output is exactly the model's ``sentence_embedding``. BERT-family graphs (BERT, RoBERTa,
XLM-RoBERTa) then get ONNX Runtime's transformer fusions (attention, embedding layer norm, GELU).
``onnx-int8`` quantises the weights of every matrix product dynamically (int8, per output
channel; activations per tensor at run time, which uses AVX-512 VNNI where present), then checks
itself against fp32 on fixed code snippets and backs off (down-projections kept in fp32, then
plain fp32) when the mean cosine similarity falls under `INT8_MIN_COSINE`.

Exports live in ``<cache>/models/<model key>/{onnx,onnx-int8}/`` with a ``meta.json``; a folder is
renamed into place only when complete, so a killed export is redone, never half-used.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import shutil
import sysconfig
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.embeddings.model_spec import embedding_dimension, load_sentence_transformer
from wavecoder.errors import UserError

logger = logging.getLogger("wavecoder.embeddings")

# Bump when the export recipe changes: exported models and cached vectors are keyed by it.
EXPORT_VERSION = 1
INT8_MIN_COSINE = 0.99
# Token budget of a batch per unit of batch_size (measured best on 2 Zen 5 cores: 1024 at 32).
TOKENS_PER_TEXT = 32
_FUSABLE = {"bert", "roberta", "xlm-roberta", "camembert", "electra"}
# Stdlib modules whose documented functions are the int8 self-check's calibration snippets.
_CALIBRATION_MODULES = ("textwrap.py", "shlex.py", "fnmatch.py", "heapq.py", "bisect.py", "glob.py")


def export_folder(models_root: Path, key: str, backend: str) -> Path:
    """Where the ``backend`` export of model ``key`` lives."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[-60:]
    digest = hashlib.sha256(f"{key}|v{EXPORT_VERSION}".encode()).hexdigest()[:12]
    return models_root / f"{slug}-{digest}" / backend


def ensure_export(model_path: str, key: str, backend: str, models_root: Path) -> Path:
    """Export model ``model_path`` for ``backend`` (``onnx`` or ``onnx-int8``) unless done."""
    final = export_folder(models_root, key, backend)
    if (final / "meta.json").is_file():
        return final
    fp32 = ensure_export(model_path, key, "onnx", models_root) if backend == "onnx-int8" else None
    tmp = final.parent / f".tmp-{backend}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        try:
            meta = _export_fp32(model_path, tmp) if fp32 is None else _quantize_checked(fp32, tmp)
        except UserError:
            raise
        except Exception as exc:
            raise UserError(
                f"could not export embedding model {model_path!r} for backend {backend!r}: "
                f"{type(exc).__name__}: {exc}; use embeddings.backend `torch` for this model"
            ) from exc
        meta.update(model_key=key, backend=backend, export_version=EXPORT_VERSION)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished the same export first
            if not (final / "meta.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _export_fp32(model_path: str, out: Path) -> dict:
    import torch

    logger.info("exporting %s to ONNX (once per model)", model_path)
    # Eager attention traces to the MatMul/Softmax pattern ONNX Runtime fuses into `Attention`.
    kwargs = {"model_kwargs": {"attn_implementation": "eager"}}
    st = load_sentence_transformer(model_path, device="cpu", **kwargs)
    st.eval()
    tokenizer = st.tokenizer
    with_types = "token_type_ids" in tokenizer.model_input_names

    class Pipeline(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if with_types:
                features["token_type_ids"] = torch.zeros_like(input_ids)
            return self.st(features)["sentence_embedding"]

    sample = tokenizer(
        ["def add(a, b):\n    return a + b", "class Stack:\n    '''A LIFO stack.'''\n    pass"],
        padding=True, return_tensors="pt",
    )  # fmt: skip
    args = (sample["input_ids"], sample["attention_mask"])
    raw = out / "raw.onnx"
    # The tracer warns about Python branches on shapes (mask padding, pooling's mask check); for an
    # encoder without a KV cache they take the same side for every input, so the trace holds.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pipeline().eval(), args, str(raw), input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "sentence_embedding": {0: "batch"}},
        )  # fmt: skip
    config = st[0].auto_model.config
    fused = config.model_type in _FUSABLE and _fuse(raw, out / "model.onnx", config, args)
    if fused:
        raw.unlink()
    else:
        raw.rename(out / "model.onnx")
    tokenizer.save_pretrained(str(out))
    return {
        "dimension": embedding_dimension(st),
        "max_seq_length": int(st.max_seq_length),
        "pad_token_id": int(tokenizer.pad_token_id or 0),
        "model_type": config.model_type,
        "fused": bool(fused),
    }


def _fuse(raw: Path, out: Path, config, args) -> bool:
    """Apply ONNX Runtime's transformer fusions; keep them only if outputs still match."""
    from onnxruntime.transformers import optimizer

    try:
        model = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size, opt_level=0,
        )  # fmt: skip
        model.save_model_to_file(str(out))
        feeds = {"input_ids": args[0].numpy(), "attention_mask": args[1].numpy()}
        a, b = (_session(p, 1).run(None, feeds)[0] for p in (raw, out))
        if np.abs(a - b).max() < 1e-4:
            return True
        logger.warning("ONNX Runtime fusions changed %s's outputs; using the unfused graph", raw)
    except Exception as exc:  # the optimiser is best-effort across architectures
        logger.warning("ONNX Runtime fusions failed (%s); using the unfused graph", exc)
    out.unlink(missing_ok=True)
    return False


def _quantize_checked(fp32: Path, out: Path) -> dict:
    """Quantise ``fp32``'s model into ``out``, backing off until it passes the self-check."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    meta = json.loads((fp32 / "meta.json").read_text())
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (fp32 / name).is_file():
            shutil.copy(fp32 / name, out / name)
    graph = onnx.load(str(fp32 / "model.onnx"), load_external_data=False).graph
    weights = {i.name: tuple(i.dims) for i in graph.initializer}
    # Down-projections (weight [in, out] with in > out: the FFN's second matrix) see the
    # long-tailed GELU outputs, the largest int8 error; the first back-off keeps them in fp32.
    down = [n.name for n in graph.node if n.op_type == "MatMul" and _is_down(weights, n)]
    reference = OnnxEncoder(fp32, threads=cpu_threads())
    texts = calibration_texts()
    expected = reference.encode(texts)
    for variant, exclude in (("int8", []), ("int8-fp32-down", down)):
        quantize_dynamic(
            str(fp32 / "model.onnx"), str(out / "model.onnx"), weight_type=QuantType.QInt8,
            per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
            nodes_to_exclude=exclude,
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # fmt: skip
        meta.update(
            dict(OnnxEncoder(out, threads=reference.threads, meta=meta).check(texts, expected))
        )
        # Every variant's score is kept: how far int8 is from fp32 depends on the CPU's int8
        # kernels (VNNI or not), and the record says why a variant was or was not chosen.
        meta.setdefault("tried", {})[variant] = meta["calibration_mean_cosine"]
        if meta["calibration_mean_cosine"] >= INT8_MIN_COSINE:
            meta["variant"] = variant
            return meta
    logger.warning(
        "int8 quantisation of %s fails the quality bar (mean cosine %.4f < %.2f on calibration "
        "snippets); onnx-int8 falls back to fp32", fp32, meta["calibration_mean_cosine"],
        INT8_MIN_COSINE,
    )  # fmt: skip
    shutil.copy(fp32 / "model.onnx", out / "model.onnx")
    meta.update(variant="fp32-fallback", calibration_mean_cosine=1.0, calibration_min_cosine=1.0)
    return meta


def _is_down(weights: dict, node) -> bool:
    dims = weights.get(node.input[1])
    return dims is not None and len(dims) == 2 and dims[0] > dims[1]


def calibration_texts(limit: int = 96) -> list[str]:
    """Documented functions (50 to 800 characters) of a few standard-library modules."""
    texts = []
    root = Path(sysconfig.get_paths()["stdlib"])
    for name in _CALIBRATION_MODULES:
        source = (root / name).read_text(encoding="utf-8")
        lines = source.splitlines(keepends=True)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
                text = "".join(lines[node.lineno - 1 : node.end_lineno])
                if 50 <= len(text) <= 800:
                    texts.append(text)
    return texts[:limit]


def cpu_threads() -> int:
    """Cores this process may run on (ONNX Runtime's intra-op thread count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads would spin for a while after each run, taking cores from everything else.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxEncoder:
    """Embeds texts with an exported model on ONNX Runtime's CPU provider.

    Texts are tokenised exactly as sentence-transformers does (special tokens, truncation at the
    model's ``max_seq_length``), sorted by token count, and batched so that each batch holds at
    most ``4 * batch_size`` texts and ``TOKENS_PER_TEXT * batch_size`` tokens (padding included):
    short snippets share a batch, long ones get small batches whose activations stay in the CPU
    caches, and sorting keeps padding small.
    """

    def __init__(
        self, folder: Path, *, threads: int, batch_size: int = 32, meta: dict | None = None
    ):
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.meta = meta or json.loads((self.folder / "meta.json").read_text())
        self.threads = threads
        self.batch_size = batch_size
        self.dimension = self.meta["dimension"]
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.meta["max_seq_length"])
        self.session = _session(self.folder / "model.onnx", threads)

    def encode(
        self, texts: list[str], progress: Callable[[int], object] | None = None
    ) -> np.ndarray:
        """(n, dimension) float32 embeddings of ``texts``, as the model's own pipeline gives."""
        out = np.empty((len(texts), self.dimension), np.float32)
        if not texts:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=True)]
        lengths = np.fromiter(map(len, ids), np.int64, len(ids))
        order = np.argsort(-lengths, kind="stable")
        budget = self.batch_size * TOKENS_PER_TEXT
        start = 0
        while start < len(order):
            width = int(lengths[order[start]])
            batch = order[start : start + max(1, min(self.batch_size * 4, budget // width))]
            input_ids = np.full((len(batch), width), self.meta["pad_token_id"], np.int64)
            mask = np.zeros((len(batch), width), np.int64)
            for row, i in enumerate(batch):
                input_ids[row, : lengths[i]] = ids[i]
                mask[row, : lengths[i]] = 1
            feeds = {"input_ids": input_ids, "attention_mask": mask}
            out[batch] = self.session.run(None, feeds)[0]
            start += len(batch)
            if progress is not None:
                progress(len(batch))
        return out

    def check(self, texts: list[str], expected: np.ndarray) -> dict[str, float]:
        """Mean and min cosine similarity of this model's embeddings of ``texts`` to ``expected``."""
        got = self.encode(texts)
        cos = (got * expected).sum(1) / (
            np.linalg.norm(got, axis=1) * np.linalg.norm(expected, axis=1) + 1e-12
        )
        return {
            "calibration_mean_cosine": float(cos.mean()),
            "calibration_min_cosine": float(cos.min()),
        }
