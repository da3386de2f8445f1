"""`training/sft.py` on a CPU: a tiny Llama-shaped model fine-tuned on a CodeOcean folder written
by our writer, in both prompt formats, with full weights and with LoRA (merged)."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from training.formatting import alpaca_prompt
from training.sft import run
from wavecoder.errors import UserError

CHATML = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def recipe(tmp_path, model, data, **keys) -> str:
    """A CPU recipe as the small one is, with the tiny model and a learning rate that memorises."""
    values = {
        "model_name_or_path": str(model), "dataset_name": str(data), "requires_cuda": False,
        "bf16": False, "learning_rate": 3.0e-3, "lr_scheduler_type": "constant", "max_steps": 40,
        "per_device_train_batch_size": 8, "logging_steps": 2, "save_strategy": "no",
        "report_to": "none", "max_length": 512, "seed": 0, "output_dir": str(tmp_path / "out"),
        **keys,
    }  # fmt: skip
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


def losses(out) -> list[float]:
    state = json.loads((out / "trainer_state.json").read_text())
    return [entry["loss"] for entry in state["log_history"] if "loss" in entry]


@pytest.mark.slow
def test_full_alpaca_run_memorises_saves_its_prompt_and_generates(
    tmp_path, tiny_model, codeocean_dir
):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert run(["--config", recipe(tmp_path, tiny_model, codeocean_dir)]) == 0
    out = tmp_path / "out"
    curve = losses(out)
    assert len(curve) == 20 and curve[-1] < curve[0] / 2, curve
    tokenizer = AutoTokenizer.from_pretrained(out)
    # The saved chat template is the training prompt, both Alpaca variants.
    for instruction, input in (("Fix the bug.", "def f(): return 1"), ("Add two numbers.", "")):
        user = {"role": "user", "content": instruction, "input": input}
        rendered = tokenizer.apply_chat_template([user], tokenize=False, add_generation_prompt=True)
        assert rendered == alpaca_prompt(instruction, input)
    generation = json.loads((out / "generation_config.json").read_text())
    assert generation["eos_token_id"] == tokenizer.eos_token_id
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = tokenizer(
        alpaca_prompt("Write a function that adds two numbers."), return_tensors="pt"
    )
    tokens = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert tokens.shape[1] > prompt["input_ids"].shape[1]
    card = (out / "README.md").read_text()
    assert (
        "training_loss.png" in card and (out / "training_loss.png").read_bytes()[:4] == b"\x89PNG"
    )


@pytest.mark.slow
def test_chat_format_keeps_the_tokenizers_template(tmp_path, tiny_model, codeocean_dir):
    from transformers import AutoTokenizer

    model = tmp_path / "chat-model"
    shutil.copytree(tiny_model, model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(model)
    config = recipe(tmp_path, model, codeocean_dir, prompt_format="chat", max_steps=4)
    assert run(["--config", config]) == 0
    saved = AutoTokenizer.from_pretrained(tmp_path / "out")
    assert saved.chat_template == CHATML
    assert len(losses(tmp_path / "out")) == 2


def test_chat_format_without_a_chat_template_is_a_user_error(tmp_path, tiny_model, codeocean_dir):
    config = recipe(tmp_path, tiny_model, codeocean_dir, prompt_format="chat")
    with pytest.raises(UserError, match="prompt_format: alpaca"):
        run(["--config", config])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_lora_run_saves_an_adapter_and_merges_it(tmp_path, tiny_model, codeocean_dir):
    import torch
    from huggingface_hub import ModelCard
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM

    config = recipe(
        tmp_path,
        tiny_model,
        codeocean_dir,
        use_peft=True,
        lora_r=8,
        lora_alpha=16,
        lora_target_modules=["q_proj", "v_proj"],
        merge_adapter=True,
        max_steps=6,
    )
    assert run(["--config", config]) == 0
    out = tmp_path / "out"
    assert (out / "adapter_config.json").exists() and not (out / "model.safetensors").exists()
    assert ModelCard.load(out / "README.md").data.library_name == "peft"
    merged_dir = out / "merged"
    assert ModelCard.load(merged_dir / "README.md").data.library_name == "transformers"
    ids = torch.tensor([[1, 5, 9, 30, 7]])
    with torch.no_grad():
        adapter = AutoPeftModelForCausalLM.from_pretrained(out)(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(merged_dir)(ids).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_model)(ids).logits
    assert torch.allclose(adapter, merged, atol=1e-4)
    assert not torch.allclose(base, merged, atol=1e-4)  # the adapter learned something


def test_drop_tasks_and_configs_choose_the_rows(tmp_path, codeocean_dir):
    from training.configs import WaveCoderArguments
    from training.data import load_training_rows

    args = WaveCoderArguments(dataset_name=str(codeocean_dir), drop_tasks=["repair"])
    dataset, per_task = load_training_rows(args)
    assert per_task == {"generation": 2, "summarization": 2, "translation": 2}
    assert dataset.column_names == ["prompt", "completion"]
    both = WaveCoderArguments(
        dataset_name=str(codeocean_dir), dataset_configs=["default", "repair"]
    )
    assert load_training_rows(both)[1]["repair"] == 2  # each row once
    with pytest.raises(UserError, match="unknown tasks"):
        load_training_rows(WaveCoderArguments(dataset_name=str(codeocean_dir), drop_tasks=["x"]))
    with pytest.raises(UserError, match="no row to train on"):
        load_training_rows(
            WaveCoderArguments(
                dataset_name=str(codeocean_dir), dataset_configs=["repair"], drop_tasks=["repair"]
            )
        )


def test_truncated_rows_are_counted(tmp_path, tiny_model, codeocean_dir):
    from transformers import AutoTokenizer

    from training.configs import WaveCoderArguments
    from training.data import count_truncated, load_training_rows
    from training.formatting import prepare_tokenizer

    tokenizer = prepare_tokenizer(AutoTokenizer.from_pretrained(tiny_model), "alpaca")
    dataset, _ = load_training_rows(WaveCoderArguments(dataset_name=str(codeocean_dir)))
    lengths = sorted(
        len(tokenizer.apply_chat_template(p + c, tokenize=True, return_dict=True)["input_ids"])
        for p, c in zip(dataset["prompt"], dataset["completion"], strict=True)
    )
    assert count_truncated(dataset, tokenizer, lengths[2]) == sum(n > lengths[2] for n in lengths)
    assert count_truncated(dataset, tokenizer, 4096) == 0


def test_a_folder_is_read_from_its_own_files_not_from_the_datasets_cache(tmp_path, codeocean_dir):
    """Two folders of the same name, or one rewritten: each run trains on the rows there now."""
    from training_fixtures import codeocean_records

    from pipeline.generation.writer import write_dataset_folder
    from training.configs import WaveCoderArguments
    from training.data import load_training_rows

    first, second = tmp_path / "a" / "codeocean", tmp_path / "b" / "codeocean"
    records = codeocean_records()
    write_dataset_folder(records[:3], first, tasks=["generation", "summarization"])
    write_dataset_folder(records[:5], second, tasks=["generation", "summarization", "repair"])
    assert len(load_training_rows(WaveCoderArguments(dataset_name=str(first)))[0]) == 3
    assert len(load_training_rows(WaveCoderArguments(dataset_name=str(second)))[0]) == 5
    write_dataset_folder(records[:1], first, tasks=["generation"])
    assert len(load_training_rows(WaveCoderArguments(dataset_name=str(first)))[0]) == 1
    with pytest.raises(UserError, match="no config 'repair' with rows"):
        load_training_rows(WaveCoderArguments(dataset_name=str(first), dataset_configs=["repair"]))


def test_a_tokenizer_that_adds_bos_trains_on_the_tokens_evaluation_sends(tmp_path, codeocean_dir):
    """DeepSeek-Coder and CodeLlama add BOS when they encode text (as `wavecoder evaluate` does);
    TRL renders the template and adds nothing, so the Alpaca template must write the BOS."""
    from tiny_models import bpe_tokenizer, tiny_llama
    from training_fixtures import corpus_texts
    from trl import SFTConfig, SFTTrainer

    from training.configs import WaveCoderArguments
    from training.data import load_training_rows
    from training.formatting import prepare_tokenizer

    tokenizer = bpe_tokenizer(corpus_texts(), vocab_size=600, pad_token="<pad>", add_bos=True)
    model = tiny_llama(tmp_path / "bos-model", tokenizer)
    prepare_tokenizer(tokenizer, "alpaca")
    dataset, _ = load_training_rows(WaveCoderArguments(dataset_name=str(codeocean_dir)))
    trainer = SFTTrainer(
        model=str(model), processing_class=tokenizer, train_dataset=dataset,
        args=SFTConfig(output_dir=str(tmp_path / "out"), bf16=False, report_to=[], max_length=512),
    )  # fmt: skip
    for source, prepared in zip(dataset, trainer.train_dataset, strict=True):
        user = source["prompt"][0]
        prompt = alpaca_prompt(user["content"], user["input"])
        sent = tokenizer(prompt)["input_ids"]  # as evaluation encodes it: BOS first
        assert sent[0] == tokenizer.bos_token_id and sent.count(tokenizer.bos_token_id) == 1
        assert prepared["input_ids"][: len(sent)] == sent
