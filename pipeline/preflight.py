"""Checks made before a pipeline starts, so a bad input fails in a second, not inside a step.

`check_inputs(recipe)` raises a `UserError` naming the fix when the corpus cannot be read (no such
folder, a Hub dataset that is neither cached nor reachable) or the embedding model cannot be had
(an offline package that is missing, a folder without a model, a Hub id that is neither cached
nor on the Hub). Only what is cheap is checked here: an empty folder, or filters that keep
nothing, are found while reading (`LoadCodeCorpus` then names the cause).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.corpus.sources import corpus_folder, hub_dataset_id
from pipeline.embeddings.model_spec import (
    OFFLINE_MODEL,
    hub_offline,
    hub_unreachable,
    resolve_model,
)
from pipeline.recipe import Recipe
from wavecoder.errors import UserError

HUB_TIMEOUT_S = 10.0


def check_inputs(recipe: Recipe) -> None:
    """Raise UserError when the corpus or the embedding model of `recipe` cannot be had."""
    check_corpus(recipe.corpus.source)
    try:
        check_embedding_model(recipe.embeddings.model)
    except UserError as exc:
        cached = cached_vectors(recipe)
        if not cached:
            raise
        # A re-run whose vectors are all cached never loads the model: let it try.
        print(
            f"warning: {str(exc).rstrip('.')}. The embedding cache holds {cached} vectors of "
            "this model, so the "
            "run goes on; it stops if a function is not among them.",
            file=sys.stderr,
        )


def cached_vectors(recipe: Recipe) -> int:
    """How many vectors of the recipe's embedding model the embedding cache holds (0 when the
    cache cannot be opened without the model, e.g. an ONNX export that was never made)."""
    from pipeline.embeddings.embedder import CodeEmbedder, default_cache_dir

    root = Path(recipe.embeddings.cache_dir or default_cache_dir()).expanduser() / "vectors"
    if not root.is_dir() or not any(root.iterdir()):
        return 0  # no vector of any model: do not import torch to name this model's folder
    try:
        cache = CodeEmbedder.from_config(recipe.embeddings, show_progress=False).existing_cache()
    except Exception:  # the model itself would be needed to name the cache
        return 0
    return 0 if cache is None else len(cache)


def check_corpus(source: str) -> None:
    if source == "stdlib":
        return
    if source.startswith("hub:"):
        dataset_id = hub_dataset_id(source)
        if not Path(dataset_id).expanduser().is_dir():  # else a local dataset folder
            check_hub_repo(
                dataset_id, "dataset", "corpus", "or use --corpus stdlib / a local folder"
            )
        return
    corpus_folder(source)


def check_embedding_model(spec: str) -> None:
    resolved = resolve_model(spec)  # offline packages and local folders: UserError if missing
    if spec.startswith("offline:") or Path(resolved).is_dir():
        return
    check_hub_repo(
        hub_model_id(resolved),
        "model",
        "embedding model",
        f"or give a local sentence-transformers folder, or use {OFFLINE_MODEL}",
    )


def hub_model_id(name: str) -> str:
    """The Hub id sentence-transformers loads for `name`: a bare name such as
    `all-MiniLM-L6-v2` lives in the sentence-transformers organisation (except the original
    transformers checkpoints such as `bert-base-uncased`)."""
    if "/" in name:
        return name
    originals = _original_transformer_models()
    if originals is None:  # another sentence-transformers layout: check the name as given
        return name
    return name if name.lower() in originals else f"sentence-transformers/{name}"


def _original_transformer_models() -> frozenset[str] | None:
    """sentence-transformers' ORIGINAL_TRANSFORMER_MODELS, read from its source when it is not
    imported yet: importing it imports torch and transformers (seconds), for one list of names."""
    import ast
    import importlib.util

    module = sys.modules.get("sentence_transformers.util.misc")
    if module is not None and hasattr(module, "ORIGINAL_TRANSFORMER_MODELS"):
        return frozenset(module.ORIGINAL_TRANSFORMER_MODELS)
    try:
        spec = importlib.util.find_spec("sentence_transformers")  # finds; imports nothing
    except (ImportError, ValueError):
        spec = None
    for folder in (spec and spec.submodule_search_locations) or []:
        source = Path(folder) / "util" / "misc.py"
        if not source.is_file():
            continue
        for node in ast.parse(source.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(getattr(t, "id", None) == "ORIGINAL_TRANSFORMER_MODELS" for t in targets):
                try:
                    return frozenset(ast.literal_eval(node.value))
                except ValueError:
                    break
    try:
        from sentence_transformers.util.misc import ORIGINAL_TRANSFORMER_MODELS
    except ImportError:
        try:
            from sentence_transformers.base.model import ORIGINAL_TRANSFORMER_MODELS
        except ImportError:
            return None
    return frozenset(ORIGINAL_TRANSFORMER_MODELS)


def check_hub_repo(repo_id: str, repo_type: str, what: str, alternative: str) -> None:
    """Pass when `repo_id` is in the local Hub cache or the Hub answers that it exists."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UserError(f"{what} {repo_id!r} is not a valid Hub id ({exc}); {alternative}") from exc
    try:
        snapshot_download(repo_id, repo_type=repo_type, local_files_only=True)
        return
    except (LocalEntryNotFoundError, ValueError, OSError):
        pass
    if hub_offline():  # as set now, not when huggingface_hub was imported
        raise UserError(
            f"{what} {repo_id!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is "
            f"set; download it once with network access (`hf download {repo_id}"
            f"{' --repo-type dataset' if repo_type == 'dataset' else ''}`), {alternative}"
        )
    problem = hub_unreachable()  # one short request, no retries
    if problem is not None:
        raise UserError(
            f"cannot reach the Hub for {what} {repo_id!r} ({problem}); check the network, "
            f"{alternative}"
        )
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, timeout=HUB_TIMEOUT_S)
    except GatedRepoError as exc:
        raise UserError(
            f"{what} {repo_id!r} is gated on the Hub: accept its terms on its page and set "
            "HF_TOKEN (or `hf auth login`)"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise UserError(
            f"{what} {repo_id!r} does not exist on the Hub (or is private: set HF_TOKEN); "
            f"check the name, {alternative}"
        ) from exc
    except HfHubHTTPError as exc:
        raise UserError(f"the Hub refused to describe {what} {repo_id!r}: {exc}") from exc
    except Exception as exc:  # the HTTP client's connection errors are not all OSErrors
        raise UserError(
            f"cannot reach the Hub for {what} {repo_id!r} ({type(exc).__name__}: {exc}); check "
            f"the network, {alternative}"
        ) from exc
