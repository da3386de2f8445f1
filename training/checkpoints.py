"""Resuming a killed run: `--resume_from_checkpoint true` finds the last `checkpoint-N` of the
output folder (a path names one), so a run restarted with the same command continues where its
last save left it: same optimizer state, scheduler step and data order.

`--resume_from_checkpoint hub` continues from the `last-checkpoint` folder that `hub_strategy:
checkpoint` pushed to `hub_model_id` at every save: how a new HF Job picks up after one that died
(its disk is gone), losing at most one save interval."""

from __future__ import annotations

from pathlib import Path

from wavecoder.errors import UserError

YES = ("true", "yes", "1", "last")
HUB = "hub"
HUB_CHECKPOINT = "last-checkpoint"  # where transformers' `hub_strategy: checkpoint` pushes
# Where it is downloaded to: the Trainer's pushes skip `_*`, so an old downloaded checkpoint is
# never pushed back over the newer one the resumed run saves.
HUB_DOWNLOAD_DIR = "_from_hub"


def resume_checkpoint(training_args) -> str | None:
    """The checkpoint folder to resume from, or None to start afresh."""
    from transformers.trainer_utils import get_last_checkpoint

    value = training_args.resume_from_checkpoint
    if value is None or str(value).lower() in ("false", "no", "0", ""):
        return None
    if str(value).lower() == HUB:
        return hub_checkpoint(training_args)
    if str(value).lower() in YES:
        out = Path(training_args.output_dir)
        last = get_last_checkpoint(str(out)) if out.is_dir() else None
        if last is None:
            raise UserError(
                f"--resume_from_checkpoint: {out} holds no checkpoint-N folder yet (the run saves "
                "every `save_steps`); start without it, or name a checkpoint folder"
            )
        return last
    if not Path(value).is_dir():
        raise UserError(f"--resume_from_checkpoint: no checkpoint folder {value}")
    return str(value)


def hub_checkpoint(training_args) -> str:
    """Download `hub_model_id`'s `last-checkpoint` into the output folder; its path."""
    from huggingface_hub import snapshot_download

    repo_id = training_args.hub_model_id
    if not repo_id:
        raise UserError("--resume_from_checkpoint hub needs --hub_model_id (the repo pushed to)")
    out = Path(training_args.output_dir) / HUB_DOWNLOAD_DIR
    try:
        snapshot_download(
            repo_id, allow_patterns=[f"{HUB_CHECKPOINT}/*"], local_dir=str(out),
            token=training_args.hub_token, revision=getattr(training_args, "hub_revision", None),
        )  # fmt: skip
    except Exception as exc:  # unreachable, missing repo, no access
        from huggingface_hub.errors import RepositoryNotFoundError

        reason = (
            "no such repo, or your token cannot read it"
            if isinstance(exc, RepositoryNotFoundError)
            else " ".join(str(exc).split())  # one line: the Hub's errors span several
        )
        raise UserError(f"cannot download {repo_id}/{HUB_CHECKPOINT}: {reason}") from None
    if not (out / HUB_CHECKPOINT / "trainer_state.json").is_file():
        raise UserError(
            f"{repo_id} has no {HUB_CHECKPOINT}/ yet (a run with push_to_hub and `hub_strategy: "
            "checkpoint` pushes one at each save); start without --resume_from_checkpoint"
        )
    return str(out / HUB_CHECKPOINT)
