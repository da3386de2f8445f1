"""Shared fixtures of the training tests: a CodeOcean folder and a tiny local model."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def codeocean_dir(tmp_path_factory):
    from training_fixtures import write_codeocean

    return write_codeocean(tmp_path_factory.mktemp("codeocean"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    from training_fixtures import corpus_texts, tiny_llama

    return tiny_llama(tmp_path_factory.mktemp("tiny-llama"), corpus_texts())
