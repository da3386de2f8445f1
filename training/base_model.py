"""Facts about the base model that the card repeats: its licence, from its own card."""

from __future__ import annotations

from pathlib import Path


def base_model_license(name_or_path: str) -> str | None:
    """The `license` of the base model's card (local README.md, else the Hub's; None when the
    card is unreachable or has none)."""
    from huggingface_hub import ModelCard

    try:
        local = Path(name_or_path) / "README.md"
        card = ModelCard.load(local) if local.is_file() else ModelCard.load(name_or_path)
    except Exception:  # offline, gated or no card: the card says the licence is unknown
        return None
    return getattr(card.data, "license", None)
