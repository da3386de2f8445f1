"""What a finished run leaves behind: the model (or adapter) with the tokenizer whose chat
template reproduces the training prompt, a generation config that stops at the end of a response,
our model card with its loss plot, optionally the merged model, and the Hub upload of all of it.

TRL's `push_to_hub` would replace the card with its generic one, so the folder is uploaded with
`HfApi.upload_folder` once the card is written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from training.checkpoints import HUB_DOWNLOAD_DIR

MERGED_DIR = "merged"
TRAINER_STATE = "trainer_state.json"
# Left out of the upload: intermediate checkpoints (pushed separately by `hub_strategy`), logs, and
# the `last-checkpoint` a `--resume_from_checkpoint hub` run downloaded (older than the one the
# Trainer pushed since).
NOT_UPLOADED = ["checkpoint-*", "checkpoint-*/**", "runs/**", MERGED_DIR, f"{MERGED_DIR}/**",
                "_*", f"{HUB_DOWNLOAD_DIR}/**"]  # fmt: skip


def end_of_response_ids(tokenizer) -> list[int]:
    """The EOS id, plus the token the chat template puts after an assistant turn when it is
    another special token (e.g. ChatML's `<|im_end|>`), so `generate()` stops there too."""
    ids = [tokenizer.eos_token_id]
    marker = "WAVECODER_END_OF_RESPONSE"
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": "x"}, {"role": "assistant", "content": marker}],
            tokenize=False,
        )
    except Exception:  # a template that needs other roles: the EOS alone
        return ids
    after = text.split(marker, 1)[-1]
    following = tokenizer(after, add_special_tokens=False)["input_ids"][:1]
    if following and following[0] in tokenizer.all_special_ids and following[0] not in ids:
        ids.append(following[0])
    return ids


def set_generation_eos(model, tokenizer) -> None:
    """Make the model's generation config stop at the end of a response and pad with pad_token."""
    config = model.generation_config
    ids = end_of_response_ids(tokenizer)
    config.eos_token_id = ids[0] if len(ids) == 1 else ids
    config.pad_token_id = tokenizer.pad_token_id


def finish_run(
    trainer,
    tokenizer,
    *,
    script_args,
    training_args,
    model_args,
    lineage: dict[str, Any],
    started: float,
    train_rows: int,
    truncated_rows: int,
    license: str | None,
) -> Path:
    """Save, card, merge and push on the main process; every process must call it (a sharded
    model is gathered by `save_model`). Returns the output folder."""
    from cards.hyperparameters import training_hyperparameters
    from cards.model_card import describe_hardware, write_model_card

    out = Path(training_args.output_dir)
    adapter = hasattr(trainer.model, "peft_config")
    set_generation_eos(trainer.model, tokenizer)
    # `_internal_call`: with push_to_hub, a user's save_model also pushes TRL's card and the folder.
    trainer.save_model(str(out), _internal_call=True)
    if not trainer.accelerator.is_main_process:
        return out
    tokenizer.save_pretrained(out)
    trainer.model.generation_config.save_pretrained(out)
    # The whole loss curve, as checkpoints keep it (a run without saves would keep none).
    trainer.state.save_to_json(str(out / TRAINER_STATE))
    repo_id = (
        (trainer.hub_model_id or training_args.hub_model_id) if training_args.push_to_hub else None
    )
    merged_repo = f"{repo_id}-merged" if repo_id and adapter and script_args.merge_adapter else None
    history = trainer.state.log_history
    losses = [entry["loss"] for entry in history if "loss" in entry]
    card = {
        "model_name": Path(repo_id or out.resolve().name).name,
        "base_model": model_args.model_name_or_path,
        "dataset": lineage,
        "hyperparameters": training_hyperparameters(trainer),
        "hardware": describe_hardware(),
        "wall_time_s": round(time.monotonic() - started, 1),
        "prompt_format": script_args.prompt_format,
        "license": license,
        "repo_id": repo_id,
        "train_rows": train_rows,
        "truncated_rows": truncated_rows,
        "final_loss": losses[-1] if losses else None,
    }
    write_model_card(out, **card, adapter=adapter, merged_repo_id=merged_repo, log_history=history)
    if adapter and script_args.merge_adapter:
        merged = merge_adapter(out, model_args, tokenizer)
        merged_card = {**card, "repo_id": merged_repo, "model_name": f"{card['model_name']}-merged"}
        write_model_card(merged, **merged_card, adapter=False, log_history=history)
    if repo_id:
        push(out, repo_id, merged_repo, training_args)
    return out


def merge_adapter(adapter_dir: Path, model_args, tokenizer) -> Path:
    """The adapter merged into the base model loaded in 16 bits (merging into a 4-bit base would
    round the weights), written to `adapter_dir/merged`."""
    import torch
    from peft import AutoPeftModelForCausalLM

    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir), dtype=dtype)
    merged = model.merge_and_unload()
    target = adapter_dir / MERGED_DIR
    merged.save_pretrained(target)
    tokenizer.save_pretrained(target)
    set_generation_eos(merged, tokenizer)
    merged.generation_config.save_pretrained(target)
    return target


def push(out: Path, repo_id: str, merged_repo: str | None, training_args) -> None:
    """Upload the folder (and the merged model) with the Trainer's own Hub settings: its token,
    privacy and revision, so the final model lands where its checkpoints went."""
    from huggingface_hub import HfApi
    from huggingface_hub.constants import ENDPOINT

    api = HfApi(token=training_args.hub_token)
    private = bool(training_args.hub_private_repo)
    revision = getattr(training_args, "hub_revision", None)
    for repo, folder, ignore, what in (
        (repo_id, out, NOT_UPLOADED, "final model and card"),
        *([(merged_repo, out / MERGED_DIR, None, "merged model and card")] if merged_repo else []),
    ):
        api.create_repo(repo, exist_ok=True, private=private)
        if revision:
            api.create_branch(repo, branch=revision, exist_ok=True)
        api.upload_folder(
            repo_id=repo, folder_path=str(folder), ignore_patterns=ignore, revision=revision,
            commit_message=f"wavecoder train: {what}",
        )  # fmt: skip
        print(f"pushed the {what} to {ENDPOINT}/{repo}")
