"""A CodeOcean folder is what TRL's SFTTrainer trains on, as it stands: given
`load_dataset(DIR, split="train")` with no preprocessing, SFTTrainer takes each row's `prompt` and
`completion`, and its own prepared dataset puts the loss on exactly the response tokens.

Checked against the rows SFTTrainer prepared itself (`trainer.train_dataset`: `input_ids` and
`labels`, -100 where the loss is off), for the paper's Alpaca template and a ChatML-style one.
"""

from __future__ import annotations

import pytest
from training_fixtures import CASES

from training.formatting import ALPACA_CHAT_TEMPLATE, ALPACA_NO_INPUT

# ChatML turns (as Qwen's), except that the assistant turn ends with the EOS token: the tiny
# tokenizer has no `<|im_end|>` token, and the model must learn to stop.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] }}"
    "{%- if message['role'] == 'assistant' %}{{ eos_token }}"
    "{%- else %}{{ '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}"
)
TEMPLATES = {"alpaca": ALPACA_CHAT_TEMPLATE, "chatml": CHATML_TEMPLATE}


def rendered_prompt(template: str, user: str) -> str:
    """What the generation prompt of a one-user-turn chat reads as, in each template."""
    if template == "alpaca":
        # The row's prompt has no `input` key, so the no-input variant, the input inside `user`.
        return ALPACA_NO_INPUT.format(instruction=user)
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def hf_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("hf-cache"))


@pytest.fixture(scope="module")
def train_rows(codeocean_dir, hf_cache):
    from datasets import load_dataset

    return load_dataset(str(codeocean_dir), split="train", cache_dir=hf_cache)


def sft_trainer(model_dir, template: str, dataset, output_dir):
    """SFTTrainer as a user builds it on the folder: the dataset passed as loaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.chat_template = TEMPLATES[template]
    args = SFTConfig(output_dir=str(output_dir), bf16=False, report_to=[], max_length=512)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    return trainer, tokenizer


def chat_ids(tokenizer, turns: list[dict], **kwargs) -> list[int]:
    return tokenizer.apply_chat_template(turns, tokenize=True, return_dict=True, **kwargs)[
        "input_ids"
    ]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_sfttrainer_masks_exactly_the_prompt_of_every_row(
    template, tiny_model, train_rows, tmp_path
):
    trainer, tokenizer = sft_trainer(tiny_model, template, train_rows, tmp_path)
    prepared = trainer.train_dataset
    assert trainer.completion_only_loss is True
    assert prepared.num_rows == train_rows.num_rows == len(CASES)
    source = {row["id"]: row for row in train_rows}
    for row in prepared:
        original = source[row["id"]]
        ids, labels = row["input_ids"], row["labels"]
        prompt_ids = chat_ids(tokenizer, original["prompt"], add_generation_prompt=True)
        n = len(prompt_ids)
        # Masked: exactly the generation prompt's tokens, nothing of the response.
        assert ids[:n] == prompt_ids
        assert labels[:n] == [-100] * n
        assert tokenizer.decode(prompt_ids) == rendered_prompt(
            template, original["prompt"][0]["content"]
        )
        # Trained on: exactly the response and the EOS that ends it.
        assert labels[n:] == ids[n:]
        assert tokenizer.decode(ids[n:]) == original["output"] + tokenizer.eos_token
        # The whole sequence is the `messages` chat: the two forms of a row agree.
        assert ids == chat_ids(tokenizer, original["messages"])
    # The row's other columns ride along in the prepared dataset, and only input_ids, labels
    # and the attention mask reach the model (remove_unused_columns; TRL's collator).
    assert {"messages", "prompt", "completion", "id", "input_ids", "labels"} <= set(
        prepared.column_names
    )
    assert "completion_mask" not in prepared.column_names  # folded into labels
    batch = next(iter(trainer.get_train_dataloader()))
    assert set(batch) == {"input_ids", "attention_mask", "labels"}


def test_with_messages_alone_sfttrainer_would_train_on_the_prompt_too(
    tiny_model, train_rows, tmp_path
):
    """Why the folder carries `prompt` and `completion`: from `messages` alone TRL computes the
    loss on every token, instruction included."""
    only_messages = train_rows.remove_columns(["prompt", "completion"])
    trainer, tokenizer = sft_trainer(tiny_model, "alpaca", only_messages, tmp_path)
    assert trainer.completion_only_loss is False
    source = {row["id"]: row for row in train_rows}
    for row in trainer.train_dataset:
        assert row["input_ids"] == chat_ids(tokenizer, source[row["id"]]["messages"])
        assert row["labels"] == row["input_ids"]
        assert -100 not in row["labels"]


def test_a_task_config_has_the_prompt_completion_pair(codeocean_dir, hf_cache):
    from datasets import load_dataset

    repair = load_dataset(str(codeocean_dir), "repair", split="train", cache_dir=hf_cache)
    expected = [c for c in CASES if c[0] == "repair"]
    assert repair.num_rows == len(expected) == 2
    for row, (_, language, instruction, input, output, _) in zip(repair, expected, strict=True):
        assert (row["task"], row["language"]) == ("repair", language)
        assert row["prompt"] == [{"role": "user", "content": f"{instruction}\n\n{input}"}]
        assert row["completion"] == [{"role": "assistant", "content": output}]
        assert row["messages"] == row["prompt"] + row["completion"]
