"""space/prompts.py and the rest of space/chat.py on the tiny models of chat_fixtures.py: the
Alpaca prompt and chat templates for one turn and for a conversation, several models side by side,
and the ZeroGPU decorator with its duration."""

from __future__ import annotations

import itertools
import math
import sys
import types

import pytest
from chat_fixtures import (
    CODE,
    INSTRUCTION,
    TAGGED_TEMPLATE,
    TEXTS,
    decode,
    generation_threads,
    greedy_ids,
    record_generate,
    stopped_early,
)
from tiny_models import bpe_tokenizer

from space import chat
from space.chat import (
    GPU_BASE_S,
    GPU_MAX_S,
    GPU_S_PER_TOKEN,
    compare,
    format_prompt,
    gpu,
    gpu_seconds,
    stream,
)
from space.prompts import MAX_HISTORY_TURNS, Turn, conversation_prompt, render_messages
from space.try_model import _gpu_duration
from training.formatting import alpaca_prompt
from wavecoder.errors import UserError

# -- Prompt formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("input", [CODE, ""])
def test_alpaca_style_is_the_training_prompt(tuned, input):
    from training.formatting import alpaca_prompt

    assert format_prompt(INSTRUCTION, input, style="alpaca") == alpaca_prompt(INSTRUCTION, input)
    # The tuned model's chat template renders the same prompt from a user message with `input`.
    chat_text = format_prompt(INSTRUCTION, input, style="chat", tokenizer=tuned.tokenizer)
    assert chat_text == alpaca_prompt(INSTRUCTION, input)


def test_chat_style_puts_instruction_and_input_in_one_turn():
    tokenizer = bpe_tokenizer(TEXTS, vocab_size=300, chat_template=TAGGED_TEMPLATE)
    text = format_prompt(INSTRUCTION, CODE, style="chat", tokenizer=tokenizer)
    assert text == f"<|user|>\n{INSTRUCTION}\n\n{CODE}\n<|assistant|>\n"
    no_input = format_prompt(INSTRUCTION, "", style="chat", tokenizer=tokenizer)
    assert no_input == f"<|user|>\n{INSTRUCTION}\n<|assistant|>\n"


def test_chat_style_needs_a_chat_template(base):
    with pytest.raises(UserError, match=r"no chat template.*use the alpaca style"):
        format_prompt(INSTRUCTION, CODE, style="chat", tokenizer=base.tokenizer)
    with pytest.raises(UserError, match="no chat template"):
        next(stream(base, [{"role": "user", "content": "hi"}], max_new_tokens=4, temperature=0))


def test_messages_the_template_rejects_are_refused(tuned):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    with pytest.raises(UserError, match=r"cannot format these messages: .*not system"):
        next(stream(tuned, messages, max_new_tokens=4, temperature=0))


def test_unknown_style_is_refused():
    with pytest.raises(UserError, match="unknown prompt style 'plain': use one of alpaca, chat"):
        format_prompt(INSTRUCTION, CODE, style="plain")


# -- Side by side -------------------------------------------------------------------------------


def test_compare_streams_each_models_own_reply(tuned, base, prompt):
    pairs = list(compare([tuned, base], prompt, max_new_tokens=16, temperature=0))
    assert all(len(pair) == 2 for pair in pairs)
    for before, after in itertools.pairwise(pairs):
        assert after != before
        assert all(a.startswith(b) for a, b in zip(after, before, strict=True))
    expected = tuple(
        list(stream(m, prompt, max_new_tokens=16, temperature=0))[-1] for m in (tuned, base)
    )
    assert pairs[-1] == expected
    assert expected[0] != expected[1]
    assert generation_threads() == []


def test_compare_checks_every_model_before_generating(tuned, base):
    messages = [{"role": "user", "content": INSTRUCTION, "input": CODE}]
    with pytest.raises(UserError, match="no chat template"):
        next(compare([tuned, base], messages, max_new_tokens=8, temperature=0))
    assert generation_threads() == []


def test_closing_compare_stops_both_generations(tuned, base, prompt, monkeypatch):
    tuned_ids, base_ids = record_generate(tuned, monkeypatch), record_generate(base, monkeypatch)
    pairs = compare([tuned, base], prompt, max_new_tokens=400, temperature=0)
    assert any(next(pairs))
    pairs.close()
    assert generation_threads() == []
    assert stopped_early(tuned_ids[0], tuned, 400) and stopped_early(base_ids[0], base, 400)


# -- ZeroGPU ------------------------------------------------------------------------------------


def test_gpu_uses_spaces_gpu_when_spaces_imports(monkeypatch):
    calls = []

    def fake_gpu(task, *, duration):
        calls.append((task.__name__, duration))
        return lambda *args: ("on a GPU", task(*args))

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=fake_gpu))

    @gpu
    def reply(text):
        return text.upper()

    @gpu(duration_s=45)
    def short(text):
        return text

    assert reply("hi") == ("on a GPU", "HI")
    assert short("a") == ("on a GPU", "a")
    assert calls == [("reply", chat.GPU_DURATION_S), ("short", 45)]


def test_gpu_is_the_function_itself_without_spaces(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError

    def reply(text):
        return text.upper()

    assert gpu(reply) is reply
    assert gpu(duration_s=30)(reply) is reply


def test_gpu_with_the_real_spaces_package_off_a_space(tuned, prompt):
    spaces = pytest.importorskip("spaces")
    assert not spaces.config.Config.zero_gpu  # off a Space, spaces.GPU passes calls through

    @gpu
    def reply(text):
        yield from stream(tuned, text, max_new_tokens=6, temperature=0)

    assert list(reply(prompt))[-1] == decode(tuned, greedy_ids(tuned, prompt, 6))


# -- Conversations ------------------------------------------------------------------------------


def turns(n: int) -> list[Turn]:
    """`n` answered turns, then one to answer."""
    done = [Turn(f"Question {i}.", CODE if i % 2 else "", f"Answer {i}.") for i in range(n)]
    return [*done, Turn(INSTRUCTION, CODE)]


def test_an_alpaca_conversation_is_what_the_saved_template_renders(tuned):
    """The paper's prompt over several turns is exactly the tuned model's chat template over the
    same messages: what training saw for a multi-turn row."""
    history = turns(2)
    text = conversation_prompt(history, style="alpaca", tokenizer=tuned.tokenizer)
    messages = conversation_prompt(history, style="chat", tokenizer=tuned.tokenizer)
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert text == render_messages(messages, tuned.tokenizer)
    eos = tuned.tokenizer.eos_token
    assert text == (alpaca_prompt("Question 0.") + "Answer 0." + eos
                    + alpaca_prompt("Question 1.", CODE) + "Answer 1." + eos
                    + alpaca_prompt(INSTRUCTION, CODE))  # fmt: skip
    assert conversation_prompt(turns(0), style="alpaca") == alpaca_prompt(INSTRUCTION, CODE)


def test_a_chat_conversation_goes_through_another_template():
    tokenizer = bpe_tokenizer(TEXTS, vocab_size=300, chat_template=TAGGED_TEMPLATE)
    text = render_messages(conversation_prompt(turns(1), style="chat", tokenizer=tokenizer),
                           tokenizer)  # fmt: skip
    assert text == (f"<|user|>\nQuestion 0.\n<|assistant|>\nAnswer 0.\n"
                    f"<|user|>\n{INSTRUCTION}\n\n{CODE}\n<|assistant|>\n")  # fmt: skip


def test_only_the_latest_turns_are_sent(tuned):
    history = turns(MAX_HISTORY_TURNS + 3)
    text = conversation_prompt(history, style="alpaca", tokenizer=tuned.tokenizer)
    assert "Question 2." not in text and "Answer 2." not in text
    assert "Question 3." in text and text.count("### Instruction:") == MAX_HISTORY_TURNS + 1
    messages = conversation_prompt(history, style="chat", tokenizer=tuned.tokenizer)
    assert len(messages) == 2 * MAX_HISTORY_TURNS + 1
    with pytest.raises(UserError, match="the prompt is empty"):
        conversation_prompt([], style="alpaca")
    with pytest.raises(UserError, match="unknown prompt style 'plain'"):
        conversation_prompt(history, style="plain")


def test_a_conversation_streams_after_the_models_own_replies(tuned):
    first = list(stream(tuned, format_prompt(INSTRUCTION, CODE, style="alpaca"),
                        max_new_tokens=5, temperature=0))[-1]  # fmt: skip
    history = [Turn(INSTRUCTION, CODE, first), Turn("Shorter, please.")]
    text = conversation_prompt(history, style="alpaca", tokenizer=tuned.tokenizer)
    assert first + tuned.tokenizer.eos_token + alpaca_prompt("Shorter, please.") in text
    second = list(stream(tuned, text, max_new_tokens=5, temperature=0))[-1]
    assert second == decode(tuned, greedy_ids(tuned, text, 5))


def test_gpu_time_follows_max_new_tokens_and_models(monkeypatch):
    assert gpu_seconds(1) == GPU_BASE_S + 1
    assert gpu_seconds(256) < gpu_seconds(256, models=2) < gpu_seconds(1024, models=2)
    assert gpu_seconds(1024, models=2) == min(
        GPU_MAX_S, math.ceil(GPU_BASE_S + 1024 * 2 * GPU_S_PER_TOKEN)
    )
    assert gpu_seconds(10**6) == GPU_MAX_S
    # generate_replies asks spaces.GPU for the time of its own call's settings.
    assert _gpu_duration(["a", "b"], [], "alpaca", 300, 0.0) == gpu_seconds(300, models=2)
    assert _gpu_duration(["a"], [], "alpaca", 20, 0.0) == gpu_seconds(20)
    passed = []
    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(
        GPU=lambda task, *, duration: passed.append(duration) or task))  # fmt: skip

    @gpu(duration_s=_gpu_duration)
    def reply(names, history, style, max_new_tokens, temperature):
        return "hi"

    assert passed == [_gpu_duration] and reply(["a"], [], "alpaca", 1, 0.0) == "hi"
