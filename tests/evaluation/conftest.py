"""Fixtures for the evaluation tests: the real bwrap sandbox, the local benchmark copies, and
`require_toolchain`, which every test running a language's programs calls first."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.languages import LANGUAGES, Toolchain, ToolchainMissing
from evaluation.sandbox import Sandbox, find_bwrap
from evaluation.toolchains import REQUIRE_ENV, toolchains_required

FIXTURES = Path(__file__).parent / "fixtures"
HUMANEVALPACK = FIXTURES / "humanevalpack"
MBPP = FIXTURES / "mbpp.jsonl"


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    """The real bubblewrap sandbox; the test skips (with the fix) where bwrap is missing, or fails
    where every toolchain is required (see `toolchain_or_skip`)."""
    if find_bwrap() is None:
        reason = "bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)"
        if toolchains_required():
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 or CI=true)", pytrace=False)
        pytest.skip(reason)
    return Sandbox()


def toolchain_or_skip(language: str) -> Toolchain:
    """`language`'s toolchain; else the test skips with the probe's reason (what is missing and
    how to install it), or fails where every toolchain is required (CI=true, or
    WAVECODER_REQUIRE_TOOLCHAINS=1: see `evaluation.toolchains.toolchains_required`)."""
    try:
        return LANGUAGES[language].toolchain()
    except ToolchainMissing as exc:
        reason = f"{LANGUAGES[language].display}: {exc}"
    if toolchains_required():
        pytest.fail(
            f"{reason} (every toolchain is required here: {REQUIRE_ENV}=1 or CI=true)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture
def require_toolchain():
    """`require_toolchain(language)`: see `toolchain_or_skip`."""
    return toolchain_or_skip


@pytest.fixture
def mbpp_path() -> Path:
    """A 4-row MBPP test-split copy (task ids 11, 12, 14, 17) in the Hub's schema."""
    return MBPP


@pytest.fixture
def humanevalpack_dir() -> Path:
    """HumanEvalPack tasks 0 and 2 in six languages, laid out like bigcode/humanevalpack."""
    return HUMANEVALPACK
