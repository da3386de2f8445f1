"""space/chat.py on two tiny random Llamas (tests/space/chat_fixtures.py): loading without
running the model's code, streaming, cancellation and the bounds on settings and prompts. Prompt
formats, side by side and ZeroGPU: test_chat_prompts.py; LoRA adapters: test_adapter.py."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
import torch
from chat_fixtures import (
    CODE,
    INSTRUCTION,
    decode,
    generation_threads,
    greedy_ids,
    record_generate,
    stopped_early,
)

from space import chat
from space.chat import ChatModel, stream
from training.formatting import ALPACA_CHAT_TEMPLATE
from wavecoder.errors import UserError

# -- Loading ------------------------------------------------------------------------------------


def test_load_gives_an_eval_float32_model_on_cpu(tuned, chat_folders):
    assert tuned.name == str(chat_folders["tuned"])
    assert tuned.model.dtype == torch.float32
    assert tuned.model.device.type == "cpu"
    assert tuned.model.training is False
    assert tuned.tokenizer.chat_template == ALPACA_CHAT_TEMPLATE
    assert tuned.eos_token_ids == [tuned.tokenizer.eos_token_id]
    assert tuned.context_tokens == 512


def test_load_asks_for_bfloat16_on_cuda_when_available(chat_folders, monkeypatch):
    import transformers

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    load, moved_to = transformers.AutoModelForCausalLM.from_pretrained, []

    def loading(*args, **kwargs):
        model = load(*args, **kwargs)
        monkeypatch.setattr(model, "to", lambda device: moved_to.append(device) or model)
        return model

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", loading)
    chat_model = ChatModel.load(str(chat_folders["base"]))
    assert chat_model.model.dtype == torch.bfloat16
    assert moved_to == ["cuda"]


def test_load_passes_trust_remote_code_false_to_every_loader(chat_folders, monkeypatch):
    import transformers

    calls = []
    for name in ("AutoConfig", "AutoTokenizer", "AutoModelForCausalLM"):
        loader = getattr(transformers, name)
        original = loader.from_pretrained

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append((_name, kwargs.get("trust_remote_code", "absent")))
            return _original(*args, **kwargs)

        monkeypatch.setattr(loader, "from_pretrained", spy)
    ChatModel.load(str(chat_folders["base"]))
    # AutoTokenizer reads the config itself too: every call, nested ones included, says False.
    assert {value for _, value in calls} == {False}
    assert {name for name, _ in calls} == {"AutoConfig", "AutoTokenizer", "AutoModelForCausalLM"}


def test_model_needing_remote_code_is_refused_without_running_it(chat_folders, tmp_path):
    folder = shutil.copytree(chat_folders["base"], tmp_path / "custom")
    config = json.loads((folder / "config.json").read_text())
    config |= {
        "model_type": "wavecoder_custom",
        "architectures": ["CustomForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_custom.CustomConfig",
            "AutoModelForCausalLM": "modeling_custom.CustomForCausalLM",
        },
    }
    (folder / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "the model's code ran"
    for module in ("configuration_custom.py", "modeling_custom.py"):
        (folder / module).write_text(f"open({str(marker)!r}, 'w').close()\n")
    with pytest.raises(UserError, match="custom code") as caught:
        ChatModel.load(str(folder))
    assert "trust_remote_code is always off" in str(caught.value)
    assert not marker.exists()


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"no model folder at .*missing"):
        ChatModel.load(str(tmp_path / "missing"))


def test_hub_model_unreachable_offline_is_refused(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match=r"cannot load the model 'nobody/missing-model'.*HF_HUB"):
        ChatModel.load("nobody/missing-model")


# -- Streaming ----------------------------------------------------------------------------------


def test_stream_grows_to_the_greedy_generate_decode(tuned, prompt):
    replies = list(stream(tuned, prompt, max_new_tokens=40, temperature=0))
    assert len(replies) > 1
    for before, after in itertools.pairwise(replies):
        assert after.startswith(before) and len(after) > len(before)
    assert replies[-1] == decode(tuned, greedy_ids(tuned, prompt, 40))


def test_stream_stops_after_max_new_tokens(tuned, prompt):
    ids = greedy_ids(tuned, prompt, 30)
    assert tuned.tokenizer.eos_token_id not in ids[:7]
    replies = list(stream(tuned, prompt, max_new_tokens=7, temperature=0))
    assert replies[-1] == decode(tuned, ids[:7])
    assert replies[-1] != decode(tuned, ids[:8])


def first_fresh_token(ids: list[int], at_least: int) -> tuple[int, int]:
    """(position, id) of the first token at or after `at_least` not seen before it."""
    for position in range(at_least, len(ids)):
        if ids[position] not in ids[:position]:
            return position, ids[position]
    raise AssertionError("every generated token repeats an earlier one")


def emitting(folder: Path, special_id: int, instead_of: int) -> ChatModel:
    """A fresh load of `folder` whose output layer gives `special_id` the logit `instead_of` had
    (and back): greedy decoding then emits `special_id` where it emitted `instead_of`."""
    chat_model = ChatModel.load(str(folder))
    with torch.no_grad():
        weight = chat_model.model.lm_head.weight
        weight[[special_id, instead_of]] = weight[[instead_of, special_id]]
    return chat_model


def test_stream_stops_at_the_tokenizer_eos(base, chat_folders, prompt):
    ids = greedy_ids(base, prompt, 30)
    eos = base.tokenizer.eos_token_id
    position, stop_id = first_fresh_token(ids, 4)
    assert eos not in ids[:position]
    stopping = emitting(chat_folders["base"], eos, instead_of=stop_id)
    replies = list(stream(stopping, prompt, max_new_tokens=30, temperature=0))
    assert replies[-1] == decode(base, ids[:position])


def test_stream_stops_at_a_generation_config_eos_id(tuned, chat_folders, prompt):
    # Like Llama 3's <|eot_id|>: a special token the generation config lists next to EOS.
    ids = greedy_ids(tuned, prompt, 30)
    end_of_turn = tuned.tokenizer.pad_token_id
    position, stop_id = first_fresh_token(ids, 4)
    stopping = emitting(chat_folders["tuned"], end_of_turn, instead_of=stop_id)
    assert list(stream(stopping, prompt, max_new_tokens=30, temperature=0))[-1] != decode(
        tuned, ids[:position]
    )
    eos = tuned.tokenizer.eos_token_id
    stopping.model.generation_config.eos_token_id = [eos, end_of_turn]
    assert stopping.eos_token_ids == [eos, end_of_turn]
    replies = list(stream(stopping, prompt, max_new_tokens=30, temperature=0))
    assert replies[-1] == decode(tuned, ids[:position])


def test_sampling_follows_the_torch_seed(tuned, prompt):
    torch.manual_seed(7)
    first = list(stream(tuned, prompt, max_new_tokens=20, temperature=1.0))[-1]
    torch.manual_seed(7)
    second = list(stream(tuned, prompt, max_new_tokens=20, temperature=1.0))[-1]
    assert first == second
    assert first != decode(tuned, greedy_ids(tuned, prompt, 20))


def test_messages_go_through_the_chat_template(tuned, prompt):
    messages = [{"role": "user", "content": INSTRUCTION, "input": CODE}]
    from_messages = list(stream(tuned, messages, max_new_tokens=12, temperature=0))
    assert from_messages[-1] == list(stream(tuned, prompt, max_new_tokens=12, temperature=0))[-1]


def test_closing_the_stream_stops_generation(tuned, prompt, monkeypatch):
    outputs = record_generate(tuned, monkeypatch)
    replies = stream(tuned, prompt, max_new_tokens=400, temperature=0)
    assert next(replies)
    replies.close()
    assert generation_threads() == []
    assert stopped_early(outputs[0], tuned, 400)


def test_a_generate_error_reaches_the_caller(tuned, prompt, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(tuned.model, "generate", broken)
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        list(stream(tuned, prompt, max_new_tokens=5, temperature=0))
    assert generation_threads() == []


# -- Bounds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_new_tokens", "temperature", "message"),
    [
        (0, 0.0, "max_new_tokens must be a whole number from 1 to 1024, not 0"),
        (1025, 0.0, "max_new_tokens must be a whole number from 1 to 1024, not 1025"),
        (2.5, 0.0, "max_new_tokens must be a whole number from 1 to 1024, not 2.5"),
        (8, -0.1, r"temperature must be from 0 \(greedy\) to 1.5, not -0.1"),
        (8, 1.6, r"temperature must be from 0 \(greedy\) to 1.5, not 1.6"),
    ],
)
def test_settings_out_of_bounds_are_refused(tuned, prompt, max_new_tokens, temperature, message):
    with pytest.raises(UserError, match=message):
        next(stream(tuned, prompt, max_new_tokens=max_new_tokens, temperature=temperature))
    assert generation_threads() == []


@pytest.mark.parametrize("value", [None, "8", float("inf"), float("nan")])
def test_settings_that_are_not_numbers_are_refused(value):
    with pytest.raises(UserError, match="max_new_tokens must be a whole number"):
        chat.check_settings(value, 0.0)
    with pytest.raises(UserError, match="temperature must be from 0"):
        chat.check_settings(8, value)


def test_settings_at_the_bounds_are_accepted():
    assert chat.MAX_NEW_TOKENS_LIMIT == 1024 and chat.MAX_TEMPERATURE == 1.5
    chat.check_settings(1024, 1.5)
    chat.check_settings(1.0, 0)


def test_prompt_over_the_character_limit_is_refused(tuned):
    text = "x = 1\n" * (chat.MAX_INPUT_CHARS // 6 + 1)
    with pytest.raises(UserError, match=r"the prompt is 16002 characters .* at most 16000"):
        next(stream(tuned, text, max_new_tokens=8, temperature=0))


def test_prompt_over_the_token_limit_is_refused(tuned, prompt, monkeypatch):
    tokens = len(tuned.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    monkeypatch.setattr(chat, "MAX_INPUT_TOKENS", tokens - 1)
    with pytest.raises(UserError, match=rf"the prompt is {tokens} tokens .* at most {tokens - 1}"):
        next(stream(tuned, prompt, max_new_tokens=8, temperature=0))
    monkeypatch.setattr(chat, "MAX_INPUT_TOKENS", tokens)
    assert next(stream(tuned, prompt, max_new_tokens=8, temperature=0))


def test_prompt_plus_reply_beyond_the_context_is_refused(tuned, prompt):
    tokens = len(tuned.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    room = 512 - tokens
    with pytest.raises(
        UserError, match=rf"the prompt is {tokens} tokens .* at most {tokens - 1} here .*lower"
    ):
        next(stream(tuned, prompt, max_new_tokens=room + 1, temperature=0))


def test_empty_prompt_is_refused(tuned):
    with pytest.raises(UserError, match="the prompt is empty"):
        next(stream(tuned, "  \n", max_new_tokens=8, temperature=0))
