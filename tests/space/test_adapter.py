"""A local PEFT adapter folder (adapter_config.json, as a LoRA run writes it) tried in the Space:
`ChatModel.load` loads its base model (safetensors only, no remote code) with the adapter on top.
The adapter is made here on the tiny model of space_fixtures.py: a rank-1 LoRA on the output layer
that swaps the model's two words, so the adapted model answers what the base model would not."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from space_fixtures import tiny_model

from space.chat import ChatModel, stream
from space.prompts import format_prompt
from space.try_model import MODELS, generate_replies, load_models, start_turn
from wavecoder.errors import UserError

WORDS = ("wave", "coder")


def make_adapter(base_folder, adapter_folder, *, with_tokenizer: bool):
    """A LoRA adapter on `lm_head` adding 2x the hidden dimension 0 to "coder" and subtracting it
    from "wave": the base head scores them +h0 and -h0, the adapted one -h0 and +h0."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    ids = [tokenizer.convert_tokens_to_ids("Ġ" + word) for word in WORDS]
    config = LoraConfig(r=1, lora_alpha=1, lora_dropout=0.0, target_modules=["lm_head"])
    model = get_peft_model(LlamaForCausalLM.from_pretrained(base_folder), config)
    with torch.no_grad():
        lora = model.base_model.model.lm_head
        lora.lora_A["default"].weight.zero_()
        lora.lora_A["default"].weight[0, 0] = 1.0
        lora.lora_B["default"].weight.zero_()
        lora.lora_B["default"].weight[ids[0], 0] = -2.0
        lora.lora_B["default"].weight[ids[1], 0] = 2.0
    model.save_pretrained(adapter_folder)
    if with_tokenizer:
        tokenizer.save_pretrained(adapter_folder)
    return adapter_folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapter")
    base = tiny_model(root / "base", words=WORDS)
    return base, make_adapter(base, root / "lora", with_tokenizer=False)


def reply(chat_model: ChatModel, tokens: int = 8) -> list[str]:
    prompt = format_prompt("Add two numbers.", "", style="alpaca", tokenizer=chat_model.tokenizer)
    return list(stream(chat_model, prompt, max_new_tokens=tokens, temperature=0))[-1].split()


def test_an_adapter_folder_loads_its_base_with_the_adapter(folders):
    from peft import PeftModel

    base_folder, adapter_folder = folders
    assert json.loads((adapter_folder / "adapter_config.json").read_text())[
        "base_model_name_or_path"] == str(base_folder)  # fmt: skip
    assert not (adapter_folder / "config.json").exists()  # an adapter alone, no model
    adapted = ChatModel.load(str(adapter_folder))
    assert isinstance(adapted.model, PeftModel) and adapted.model.training is False
    assert adapted.name == str(adapter_folder)
    plain = ChatModel.load(str(base_folder))
    swap = {"wave": "coder", "coder": "wave"}
    base_words, adapted_words = reply(plain), reply(adapted)
    assert set(base_words) <= set(WORDS) and len(adapted_words) == 8
    assert adapted_words == [swap[w] for w in base_words]  # the adapter is applied


def test_an_adapter_in_the_try_tab_answers_beside_its_base(folders):
    base_folder, adapter_folder = folders
    names = load_models(str(adapter_folder), str(base_folder))
    try:
        history = start_turn(names, [], "Add two numbers.", "", "alpaca", 6)
        adapted, base = (
            r.split() for r in list(generate_replies(names, history, "alpaca", 6, 0.0))[-1]
        )
        assert adapted == [{"wave": "coder", "coder": "wave"}[w] for w in base]
    finally:
        for name in names:
            MODELS.pop(name, None)


def test_the_adapters_own_tokenizer_is_used_when_it_has_one(folders, tmp_path):
    base_folder, _ = folders
    adapter = make_adapter(base_folder, tmp_path / "lora-tok", with_tokenizer=True)
    (adapter / "tokenizer_config.json").write_text(json.dumps(
        {**json.loads((adapter / "tokenizer_config.json").read_text()),
         "model_max_length": 123}))  # fmt: skip
    assert ChatModel.load(str(adapter)).tokenizer.model_max_length == 123


def test_an_adapter_whose_base_is_missing_is_one_message(folders, tmp_path):
    _, adapter_folder = folders
    broken = shutil.copytree(adapter_folder, tmp_path / "orphan")
    config = json.loads((broken / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "no-such-base")
    (broken / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"cannot load the model .*orphan.*no-such-base"):
        ChatModel.load(str(broken))
