"""Fixtures for the evaluation tests: the real bwrap sandbox and the local benchmark copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.sandbox import Sandbox, find_bwrap

FIXTURES = Path(__file__).parent / "fixtures"
HUMANEVALPACK = FIXTURES / "humanevalpack"
MBPP = FIXTURES / "mbpp.jsonl"


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    """The real bubblewrap sandbox; the test skips (with the fix) where bwrap is missing."""
    if find_bwrap() is None:
        pytest.skip("bubblewrap is not installed: apt-get install bubblewrap (scripts/setup.sh)")
    return Sandbox()


@pytest.fixture
def mbpp_path() -> Path:
    """A 4-row MBPP test-split copy (task ids 11, 12, 14, 17) in the Hub's schema."""
    return MBPP


@pytest.fixture
def humanevalpack_dir() -> Path:
    """HumanEvalPack tasks 0 and 2 in six languages, laid out like bigcode/humanevalpack."""
    return HUMANEVALPACK
