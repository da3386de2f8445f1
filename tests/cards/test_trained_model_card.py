"""The model card: Hub metadata, hyperparameters read from a real (tiny) SFTTrainer run, full and
LoRA variants, the loss plot, the inference snippet, and the `wavecoder evaluate` round trip."""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest
import yaml
from huggingface_hub import ModelCard
from tiny_models import BYTE_ALPHABET_SIZE, bpe_tokenizer, tiny_llama

from cards import model_card
from cards.hyperparameters import training_hyperparameters
from cards.model_card import (
    describe_hardware,
    plot_training_loss,
    render_model_card,
    write_model_card,
)
from evaluation.benchmarks import get_benchmark
from evaluation.model_card import eval_results, update_model_card
from training.formatting import alpaca_prompt, prepare_tokenizer, prompt_completion

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BASE = "deepseek-ai/deepseek-coder-6.7b-base"
ROWS = [
    {"instruction": "Write a function that adds two numbers.", "input": "",
     "output": "def add(a, b):\n    return a + b"},
    {"instruction": "Fix the bug in this function.", "input": "def neg(x):\n    return x",
     "output": "def neg(x):\n    return -x"},
    {"instruction": "Summarize this function.", "input": "def sq(x):\n    return x * x",
     "output": "It squares x."},
    {"instruction": "Translate this Python function to Go.", "input": "def one():\n    return 1",
     "output": "func One() int { return 1 }"},
]  # fmt: skip
LINEAGE = {
    "name": "me/codeocean",
    "revision": "0123abcd",
    "configs": ["default"],
    "drop_tasks": ["translation"],
    "rows_per_task": {"generation": 3, "repair": 1},
    "generator_model": "gpt-4o-mini",
    "discriminator_model": "gpt-4o",
    "embedding_model": "sentence-transformers/all-roberta-large-v1",
    "k": 5000,
    "corpus": {"source": "hub:code-search-net/code_search_net", "languages": ["python", "go"]},
}


def train_tiny(folder, peft_config=None):
    """Two optimizer steps of SFTTrainer on a 2-layer Llama (hidden 32) saved in `folder/base`,
    with the Alpaca prompt as its chat template; returns the trainer."""
    from datasets import Dataset
    from transformers import LlamaForCausalLM
    from trl import SFTConfig, SFTTrainer

    # No merges (every byte one token): a vocab of only the specials and the bytes.
    byte_tokenizer = bpe_tokenizer([], vocab_size=3 + BYTE_ALPHABET_SIZE, pad_token="<pad>")
    tokenizer = prepare_tokenizer(byte_tokenizer, "alpaca")
    base = tiny_llama(folder / "base", tokenizer, heads=2)
    args = SFTConfig(
        output_dir=str(folder / "out"), max_steps=2, per_device_train_batch_size=2,
        gradient_accumulation_steps=2, learning_rate=1e-3, lr_scheduler_type="cosine",
        warmup_steps=0.5, optim="adamw_torch", weight_decay=0.01, max_length=512, seed=7,
        bf16=False, use_cpu=True, report_to=[], logging_steps=1,
        save_strategy="no",
    )  # fmt: skip
    trainer = SFTTrainer(
        model=LlamaForCausalLM.from_pretrained(base),
        args=args,
        train_dataset=Dataset.from_list([prompt_completion(r, "alpaca") for r in ROWS]),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train()
    trainer.save_model(args.output_dir)
    tokenizer.save_pretrained(args.output_dir)
    return trainer


@pytest.fixture(scope="module")
def full_trainer(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def lora_trainer(tmp_path_factory):
    from peft import LoraConfig

    lora = LoraConfig(
        r=4, lora_alpha=8, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
        task_type="CAUSAL_LM",
    )  # fmt: skip
    return train_tiny(tmp_path_factory.mktemp("lora"), lora)


def card_kwargs(trainer, **overrides):
    kwargs = dict(
        model_name="wavecoder-tiny",
        base_model=BASE,
        dataset=LINEAGE,
        hyperparameters=training_hyperparameters(trainer),
        hardware={"accelerator": "CPU", "devices": 0, "cpu_cores": 2, "torch": "2.13.0"},
        wall_time_s=3725.0,
        prompt_format="alpaca",
        adapter=hasattr(trainer.model, "peft_config"),
        license="apache-2.0",
        repo_id="me/wavecoder-tiny",
        train_rows=4,
        truncated_rows=1,
    )
    kwargs.update(overrides)
    return kwargs


def test_hyperparameters_are_read_from_the_trainer_as_run(full_trainer):
    hp = training_hyperparameters(full_trainer)
    assert hp["learning_rate"] == 1e-3 and hp["lr_scheduler_type"] == "cosine"
    # A warmup ratio of 0.5 over 2 steps is 1 step.
    assert hp["warmup_steps"] == 1 and hp["warmup_ratio"] == 0.5
    assert hp["optim"] == "adamw_torch" and hp["weight_decay"] == 0.01
    assert hp["per_device_train_batch_size"] == 2 and hp["gradient_accumulation_steps"] == 2
    assert hp["world_size"] == 1 and hp["global_batch_size"] == 4
    assert hp["max_steps"] == 2 and hp["global_step"] == 2 and hp["epoch"] == 2.0
    assert hp["max_length"] == 512 and hp["packing"] is False and hp["seed"] == 7
    assert hp["completion_only_loss"] is True  # TRL's default for prompt-completion rows
    assert hp["precision"] == "fp32" and hp["model_dtype"] == "float32"
    # TRL's SFTConfig turns gradient checkpointing on unless told otherwise.
    assert hp["gradient_checkpointing"] is True and hp["distributed"] is None
    total = sum(p.numel() for p in full_trainer.model.parameters())
    assert hp["parameters"] == hp["trainable_parameters"] == total
    assert not any(key.startswith("lora") for key in hp)


def test_sharding_is_read_from_the_accelerator(full_trainer):
    def sharded(**plugins):
        state = SimpleNamespace(**{"fsdp_plugin": None, "deepspeed_plugin": None, **plugins})
        fake = SimpleNamespace(accelerator=SimpleNamespace(state=state))
        fake.args, fake.state, fake.model = (
            full_trainer.args,
            full_trainer.state,
            full_trainer.model,
        )
        return training_hyperparameters(fake)

    fsdp1 = sharded(fsdp_plugin=SimpleNamespace(fsdp_version=1))
    # A process holds only shards under FSDP1, so no parameter count is reported.
    assert fsdp1["distributed"] == "FSDP1" and "parameters" not in fsdp1
    fsdp2 = sharded(fsdp_plugin=SimpleNamespace(fsdp_version=2))
    assert fsdp2["distributed"] == "FSDP2" and fsdp2["parameters"] > 0
    zero3 = sharded(deepspeed_plugin=SimpleNamespace(zero_stage=3))
    assert zero3["distributed"] == "DeepSpeed ZeRO-3"


def test_lora_hyperparameters_name_the_adapter(lora_trainer):
    hp = training_hyperparameters(lora_trainer)
    assert (hp["lora_r"], hp["lora_alpha"], hp["lora_dropout"]) == (4, 8, 0.05)
    assert hp["lora_target_modules"] == ["q_proj", "v_proj"] and hp["load_in_4bit"] is False
    # 2 layers x (q_proj + v_proj) x r=4 x (32 in + 32 out).
    assert hp["trainable_parameters"] == 2 * 2 * 4 * (32 + 32)
    assert hp["parameters"] > hp["trainable_parameters"]


def test_full_card_replaces_trls_and_names_model_data_and_run(full_trainer, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("---\nlibrary_name: transformers\n---\n# Model Card for x\n")
    history = full_trainer.state.log_history
    readme = write_model_card(out, **card_kwargs(full_trainer), log_history=history)
    assert readme == out / "README.md"
    card = ModelCard.load(readme)
    data = card.data.to_dict()
    assert data["base_model"] == BASE and data["datasets"] == ["me/codeocean"]
    assert data["library_name"] == "transformers" and data["pipeline_tag"] == "text-generation"
    assert data["license"] == "apache-2.0" and data["model_name"] == "wavecoder-tiny"
    assert data["tags"] == ["code", "wavecoder", "trl", "sft"]
    text = card.text
    assert "Model Card for x" not in text
    assert (out / "training_loss.png").read_bytes()[:8] == PNG_MAGIC
    assert "![Training loss](training_loss.png)" in text
    # This run's values beside the paper's.
    assert "| learning rate | 0.001 | 5e-05 |" in text
    assert "| global batch (rows per optimizer step) | 4 | 512 |" in text
    assert "| warmup steps | 1 | 15 |" in text
    assert "| loss on the response only | yes |  |" in text
    losses = [e["loss"] for e in history if "loss" in e]
    assert f"Final training loss: {losses[-1]:.4f}." in text
    for line in (
        "| dataset | [`me/codeocean`](https://huggingface.co/datasets/me/codeocean) |",
        "| revision | `0123abcd` |",
        "| dropped tasks | translation |",
        "| generator | `gpt-4o-mini` |",
        "| discriminator | `gpt-4o` |",
        "| embedding model | `sentence-transformers/all-roberta-large-v1` |",
        "| KCenterGreedy k | 5000 |",
        "| corpus | `hub:code-search-net/code_search_net` (python, go) |",
        "| generation | 3 |",
        "1 of 4 training rows were longer than the max length\n(512 tokens)",
        "Wall time: 1 h 02 min.",
        "Hardware: CPU, 2 CPU cores, torch 2.13.0.",
        'pipeline("text-generation", model="me/wavecoder-tiny"',
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
        "https://arxiv.org/abs/2312.14187",
        "journal={arXiv preprint arXiv:2312.14187}",
    ):
        assert line in text, line
    assert "AutoPeftModelForCausalLM" not in text and "LoRA r" not in text


def test_adapter_card_is_a_peft_card_with_lora_settings(lora_trainer, tmp_path):
    kwargs = card_kwargs(lora_trainer, merged_repo_id="me/wavecoder-tiny-merged")
    readme = write_model_card(tmp_path, **kwargs, log_history=lora_trainer.state.log_history)
    card = ModelCard.load(readme)
    assert card.data.library_name == "peft" and card.data.base_model == BASE
    assert card.data.tags == ["code", "wavecoder", "trl", "sft", "lora", "peft"]
    assert "| LoRA r | 4 | 8 |" in card.text and "| LoRA alpha | 8 |  |" in card.text
    assert "| LoRA target modules | `q_proj`, `v_proj` |  |" in card.text
    assert "| learning rate | 0.001 | 0.0001 |" in card.text
    assert 'AutoPeftModelForCausalLM.from_pretrained("me/wavecoder-tiny"' in card.text
    assert (
        "[`me/wavecoder-tiny-merged`](https://huggingface.co/me/wavecoder-tiny-merged)" in card.text
    )
    assert "--model me/wavecoder-tiny-merged --template alpaca" in card.text


def test_merged_card_says_the_model_was_trained_as_lora(lora_trainer):
    text = render_model_card(
        **card_kwargs(lora_trainer, adapter=False, loss_plot=None, final_loss=None)
    )
    assert "library_name: transformers" in text
    assert "as a LoRA adapter, then merged into the base weights" in text


def test_local_dataset_and_base_stay_out_of_the_metadata(full_trainer, tmp_path):
    lineage = {"name": str(tmp_path), "revision": None}  # every other key unknown
    kwargs = card_kwargs(
        full_trainer, dataset=lineage, base_model=str(tmp_path), license=None, repo_id=None,
        wall_time_s=None, truncated_rows=0, prompt_format="chat", loss_plot=None, final_loss=None,
    )  # fmt: skip
    text = render_model_card(**kwargs)
    card = ModelCard(text)
    assert card.data.datasets is None and card.data.base_model is None
    assert card.data.license is None
    assert f"`{tmp_path}` (a local folder, so not in the card's `datasets` metadata)" in text
    assert "| generator | unknown |" in text and "| KCenterGreedy k | unknown |" in text
    assert "No training row was longer than the max length (512 tokens)." in text
    assert "Wall time: not recorded." in text and "![Training loss]" not in text
    assert 'model="path/to/wavecoder-tiny"' in text and "### Instruction:" not in text


def test_loss_plot_needs_a_logged_loss(tmp_path):
    assert plot_training_loss([{"train_runtime": 1.0, "step": 2}], tmp_path / "a.png") is None
    assert not (tmp_path / "a.png").exists()
    history = [{"loss": 2.0, "step": 1}, {"loss": 1.5, "step": 2}, {"eval_loss": 1.7, "step": 2}]
    path = plot_training_loss(history, tmp_path / "sub" / "b.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_a_run_without_loss_links_no_plot_and_removes_a_stale_one(full_trainer, tmp_path):
    (tmp_path / "training_loss.png").write_bytes(PNG_MAGIC)
    kwargs = card_kwargs(full_trainer)
    readme = write_model_card(tmp_path, **kwargs, log_history=[{"train_runtime": 1.0}])
    assert not (tmp_path / "training_loss.png").exists()
    assert (
        "![Training loss]" not in readme.read_text()
        and "Final training loss" not in readme.read_text()
    )


def test_evaluate_fills_the_model_index_and_the_scores_table(full_trainer, tmp_path):
    readme = write_model_card(tmp_path, **card_kwargs(full_trainer), log_history=[])
    humaneval = eval_results(get_benchmark("humaneval"), {"language": "python", "pass@1": 0.5})
    pack = {"pass@1": 0.3, "languages_scored": ["python"], "languages": {"python": {"pass@1": 0.3}}}
    update_model_card(readme, humaneval + eval_results(get_benchmark("humanevalfix"), pack))
    # A re-run replaces its entry in both places.
    better = eval_results(get_benchmark("humaneval"), {"language": "python", "pass@1": 0.625})
    update_model_card(readme, better, model_name="ignored: the card names its model")

    card = ModelCard.load(readme)
    assert card.data.base_model == BASE and card.data.datasets == ["me/codeocean"]
    scores = {(r.dataset_type, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert scores == {
        ("openai_humaneval", "pass@1"): 62.5,
        ("bigcode/humanevalpack", "pass@1"): 30.0,
    }
    front = yaml.safe_load(readme.read_text().split("---")[1])
    (index,) = front["model-index"]
    assert index["name"] == "wavecoder-tiny"
    for entry in index["results"]:
        assert entry["task"]["type"] == "text-generation"
        assert entry["dataset"]["type"] and entry["dataset"]["name"]
        assert entry["metrics"][0]["type"] == "pass@1"
    table = card.text.split(model_card.SCORES_START)[1].split(model_card.SCORES_END)[0]
    rows = re.findall(r"^\| (.+) \| (pass@1) \| ([\d.]+) \|$", table, flags=re.M)
    assert rows == [("HumanEval", "pass@1", "62.5"), ("HumanEvalFix (Python)", "pass@1", "30.0")]
    assert "Not evaluated yet" not in card.text
    assert "| learning rate | 0.001 | 5e-05 |" in card.text  # the body is kept


def _snippet(text: str, repo: str, local) -> str:
    code = re.search(r"```python\n(.*?)```", text, flags=re.S).group(1)
    return code.replace(repo, str(local)).replace("max_new_tokens=512", "max_new_tokens=4")


def test_the_cards_inference_code_runs_and_gives_the_training_prompt(full_trainer):
    text = render_model_card(**card_kwargs(full_trainer, loss_plot=None, final_loss=None))
    namespace = {}
    exec(_snippet(text, "me/wavecoder-tiny", full_trainer.args.output_dir), namespace)
    messages = namespace["messages"]
    prompt = namespace["generator"].tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    assert prompt == alpaca_prompt(messages[0]["content"], messages[0]["input"])
    assert namespace["reply"][0]["generated_text"][-1]["role"] == "assistant"


def test_the_adapter_cards_inference_code_loads_base_and_adapter(lora_trainer):
    text = render_model_card(**card_kwargs(lora_trainer, loss_plot=None, final_loss=None))
    namespace = {}
    exec(_snippet(text, "me/wavecoder-tiny", lora_trainer.args.output_dir), namespace)
    assert type(namespace["model"]).__name__ == "PeftModelForCausalLM"
    assert namespace["reply"][0]["generated_text"][-1]["role"] == "assistant"


def test_describe_hardware_on_cpu_and_on_cuda(monkeypatch):
    import torch

    cpu = describe_hardware()
    assert cpu["cpu_cores"] == os.cpu_count() and cpu["torch"] == torch.__version__
    if not torch.cuda.is_available():
        assert (cpu["accelerator"], cpu["devices"]) in (("CPU", 0), ("Apple MPS", 1))
    props = SimpleNamespace(total_memory=80 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.version, "hip", None)
    gpu = describe_hardware()
    assert gpu["accelerator"] == "2 x NVIDIA H100 80GB HBM3 (80 GiB)"
    assert gpu["devices"] == 2 and gpu["cuda"] == "12.4" and "rocm" not in gpu
