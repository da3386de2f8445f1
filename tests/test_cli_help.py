"""The `wavecoder` command line's help: every flag explained, examples that run, one name per
concept (old spellings kept as aliases), and `--version`."""

from __future__ import annotations

import argparse
import re
import shlex
from importlib.metadata import version

import pytest

from pipeline.recipe import load_recipe
from wavecoder.cli import build_parser, main


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_every_flag_and_command_has_a_help_text():
    parser = build_parser()
    commands = subcommands(parser)
    assert sorted(commands) == ["decontaminate", "evaluate", "generate", "push", "space", "train"]
    (sub_action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [f"command {a.dest}" for a in sub_action._choices_actions if not a.help]
    for name, p in [("wavecoder", parser)] + [(f"wavecoder {n}", p) for n, p in commands.items()]:
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_generate_help_says_where_the_output_goes(capsys):
    text = " ".join(help_of(["generate", "--help"], capsys).split())
    # What the help says is what the shipped recipes do (the output is relative to the cwd).
    assert load_recipe("demo").output == "codeocean-demo"
    assert load_recipe("paper").output == "codeocean"
    assert (
        "output folder, a Hub-ready dataset folder (default: the recipe's `output` in the current "
        "folder: ./codeocean-demo for demo, ./codeocean for paper)" in text
    )


def test_evaluate_help_examples_are_copyable_commands(capsys):
    text = help_of(["evaluate", "--help"], capsys)
    commands, current = [], None
    for line in text.splitlines():
        if current is not None:
            current += " " + line.strip()
        elif line.startswith("    wavecoder "):
            current = line.strip()
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
        else:
            commands.append(current)
            current = None
    assert len(commands) == 2
    # Each example, pasted as one shell command, is a valid command line.
    parsed = [build_parser().parse_args(shlex.split(c)[1:]) for c in commands]
    assert (parsed[0].benchmark, parsed[0].samples, parsed[0].output) == (
        "humaneval",
        "samples.jsonl",
        "out/humaneval",
    )
    assert (
        parsed[1].benchmark,
        parsed[1].language,
        parsed[1].output,
        parsed[1].model,
        parsed[1].model_card,
        parsed[1].push_generations,
    ) == ("humanevalfix", "all", "out/fix", "microsoft/wavecoder-ds-6.7b", "README.md", "ORG/gens")


@pytest.mark.parametrize("flag", ["--num-snippets", "--num-samples"])
def test_generate_num_snippets_and_its_old_name(flag):
    args = build_parser().parse_args(["generate", flag, "7"])
    assert args.num_samples == 7  # the attribute RECIPE_KEYS (pipeline/commands.py) maps


def test_generate_help_names_snippets_and_keeps_the_alias(capsys):
    text = " ".join(help_of(["generate", "--help"], capsys).split())
    assert (
        "--num-snippets K, --num-samples K number of code snippets KCenterGreedy selects (its k; "
        "the recipe's selection.k); --num-samples is the old name" in text
    )


def test_version(capsys):
    assert help_of(["--version"], capsys) == f"wavecoder {version('wavecoder')}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version("wavecoder"))


def test_push_help_lists_dry_run_and_allow_empty(capsys):
    text = " ".join(help_of(["push", "--help"], capsys).split())
    assert (
        "--dry-run check the folder and list every file that would be uploaded, with sizes; send "
        "nothing (no token needed)" in text
    )
    assert (
        "--allow-empty push a dataset whose default config has no accepted row (refused "
        "otherwise)" in text
    )
