"""Resuming a killed run: `--resume_from_checkpoint true` finds the last `checkpoint-N` of the
output folder (a path names one), so a run restarted with the same command continues where its
last save left it: same optimizer state, scheduler step and data order."""

from __future__ import annotations

from pathlib import Path

from wavecoder.errors import UserError

YES = ("true", "yes", "1", "last")


def resume_checkpoint(training_args) -> str | None:
    """The checkpoint folder to resume from, or None to start afresh."""
    from transformers.trainer_utils import get_last_checkpoint

    value = training_args.resume_from_checkpoint
    if value is None or str(value).lower() in ("false", "no", "0", ""):
        return None
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
