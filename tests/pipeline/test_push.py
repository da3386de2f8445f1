"""`wavecoder push`: what is uploaded, the checks made before the Hub is contacted, and clear
errors. Folders are written by the real dataset writer; a guard on the socket layer records any
network attempt (none leaves this machine: the guard refuses every connection)."""

from __future__ import annotations

import socket

import pytest
from generation_fixtures import judged_records as records

from pipeline.generation.writer import write_dataset_folder
from pipeline.push import files_to_upload, guess_repo_type, plan_push, push_folder
from pipeline.tasks import all_tasks
from wavecoder.cli import main
from wavecoder.errors import UserError

SHARD = "train-00000-of-00001.parquet"

# The card's figures that rows without a judgement still have (cards/plots.py): pushed with it.
PLOTS = ("plots/lengths.png", "plots/task_mix.png")


def write_folder(folder, accepted: int, rejected: int):
    write_dataset_folder(
        records("accepted", accepted) + records("rejected", rejected),
        folder,
        tasks=list(all_tasks()),
    )
    (folder / "summary.json").write_text(f'{{"accepted": {accepted}}}')
    # Run state that must stay local.
    (folder / ".wavecoder" / "distilabel").mkdir(parents=True, exist_ok=True)
    (folder / ".wavecoder" / "responses.sqlite").write_bytes(b"x")
    (folder / "dry_run").mkdir()
    (folder / "dry_run" / "generator_prompts.jsonl").write_text("{}\n")
    return folder


@pytest.fixture
def dataset_folder(tmp_path):
    return write_folder(tmp_path / "codeocean", accepted=3, rejected=2)


@pytest.fixture
def empty_folder(tmp_path):
    return write_folder(tmp_path / "nothing-accepted", accepted=0, rejected=4)


@pytest.fixture
def network(monkeypatch):
    """Every connection or name lookup attempted, each refused."""
    attempts = []

    def refuse_connect(self, address):
        attempts.append(address)
        raise ConnectionRefusedError(f"test guard: no network ({address})")

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(f"test guard: no name lookup ({host})")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    return attempts


@pytest.fixture
def no_token(monkeypatch, tmp_path):
    """No token anywhere: no HF_TOKEN, and an empty Hugging Face home."""
    from huggingface_hub import constants

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "hf-home"
    home.mkdir()
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))


@pytest.fixture
def reachable_hub(monkeypatch):
    """Hub calls go to the network (refused by the guard) instead of stopping at offline mode."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def sizes(folder, paths):
    return {path: (folder / path).stat().st_size for path in paths}


def test_files_to_upload_leave_run_state_behind(dataset_folder):
    # Run state, and what upload_folder never sends (a git checkout, the Hub's own cache).
    for left_out in (".wavecoder/lock", "dry_run/p.txt", ".git/HEAD", ".cache/huggingface/x"):
        (dataset_folder / left_out).parent.mkdir(parents=True, exist_ok=True)
        (dataset_folder / left_out).write_text("x")
    assert files_to_upload(dataset_folder) == [
        "README.md",
        f"data/{SHARD}",
        f"generation/{SHARD}",
        *PLOTS,
        f"rejected/{SHARD}",
        "summary.json",
    ]


def test_guess_repo_type(dataset_folder, tmp_path):
    assert guess_repo_type(dataset_folder) == "dataset"
    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "adapter_config.json").write_text("{}")
    assert guess_repo_type(model) == "model"


def test_dry_run_lists_every_file_and_sends_nothing(
    dataset_folder, network, no_token, reachable_hub, capsys
):
    code = main(["push", str(dataset_folder), "--repo-id", "me/codeocean", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert network == []
    size = sizes(dataset_folder, ["README.md", f"data/{SHARD}", f"generation/{SHARD}", *PLOTS,
                                  f"rejected/{SHARD}", "summary.json"])  # fmt: skip
    width = max(len(f"{n:,}") for n in size.values())
    assert out.splitlines() == [
        f"dry run: would upload {dataset_folder} to the public dataset repository me/codeocean "
        "(nothing sent)",
        "rows: default 3, rejected 2",
        *(f"  {n:>{width},} B  {path}" for path, n in size.items()),
        f"7 files, {sum(size.values()):,} B in total",
    ]


def test_dry_run_of_a_model_folder(tmp_path, network, no_token, capsys):
    model = tmp_path / "ckpt"
    model.mkdir()
    (model / "README.md").write_text("# model\n")
    (model / "config.json").write_text('{"model_type": "llama"}')
    (model / ".wavecoder").mkdir()
    (model / ".wavecoder" / "state").write_text("x")
    code = main(["push", str(model), "--repo-id", "me/m", "--private", "--dry-run"])
    assert code == 0 and network == []
    assert capsys.readouterr().out.splitlines() == [
        f"dry run: would upload {model} to the private model repository me/m (nothing sent)",
        "   8 B  README.md",
        "  23 B  config.json",
        "2 files, 31 B in total",
    ]


def test_a_missing_token_stops_the_push_before_any_network(
    dataset_folder, network, no_token, reachable_hub, capsys
):
    code = main(["push", str(dataset_folder), "--repo-id", "me/codeocean"])
    err = capsys.readouterr().err
    assert code == 2
    assert network == []
    assert err == (
        "wavecoder push: error: no Hugging Face token: run `hf auth login` or set HF_TOKEN "
        "(a write token); `wavecoder push --dry-run` lists what would be uploaded without one\n"
    )


def test_with_a_token_the_push_reaches_for_the_hub(
    dataset_folder, network, monkeypatch, reachable_hub
):
    # The counterpart of the test above: the same call with a token does try the network (so
    # the guard sees network use), and a refused connection is a UserError.
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    with pytest.raises(UserError, match=r"^cannot reach the Hub or upload to me/codeocean \("):
        push_folder(dataset_folder, repo_id="me/codeocean")
    # The client looks the endpoint up (and may retry); every attempt was refused.
    assert network and set(network) == {"127.0.0.1"}


def test_a_dataset_with_no_accepted_row_is_refused_unless_allowed(
    empty_folder, network, no_token, capsys
):
    refused = (
        f"{empty_folder} has 0 accepted rows in its `default` config (data/*.parquet; rejected 4): "
        "nothing to train on, and `load_dataset` cannot load it (the `rejected` config says why "
        "each case failed); pass --allow-empty to push it anyway"
    )
    with pytest.raises(UserError) as error:
        push_folder(empty_folder, repo_id="me/x")
    assert str(error.value) == refused
    assert main(["push", str(empty_folder), "--repo-id", "me/x", "--dry-run"]) == 2
    assert capsys.readouterr().err == f"wavecoder push: error: {refused}\n"

    plan = plan_push(empty_folder, repo_id="me/x", allow_empty=True)
    assert plan.rows == {"default": 0, "rejected": 4}
    assert [path for path, _ in plan.files] == [
        "README.md",
        f"data/{SHARD}",
        *PLOTS,
        f"rejected/{SHARD}",
        "summary.json",
    ]
    # Allowed, the push goes on to the next check: the token.
    with pytest.raises(UserError, match=r"^no Hugging Face token"):
        push_folder(empty_folder, repo_id="me/x", allow_empty=True)
    assert network == []


def test_push_errors(dataset_folder, tmp_path):
    with pytest.raises(UserError, match="ORG/NAME"):
        push_folder(dataset_folder, repo_id="codeocean")
    with pytest.raises(UserError, match="not a folder"):
        push_folder(tmp_path / "missing", repo_id="me/x")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("# card\n")
    with pytest.raises(UserError, match="no parquet"):
        push_folder(empty, repo_id="me/x")
    (empty / "rejected").mkdir()
    (empty / "rejected" / SHARD).write_bytes((dataset_folder / "rejected" / SHARD).read_bytes())
    with pytest.raises(UserError, match=r"has no `default` config \(data/\*\.parquet"):
        push_folder(empty, repo_id="me/x")
    (empty / "data").mkdir()
    (empty / "data" / SHARD).write_bytes(b"PAR1")
    with pytest.raises(UserError, match=r"data/train-00000-of-00001\.parquet is not a readable"):
        push_folder(empty, repo_id="me/x")
    (empty / "README.md").unlink()
    with pytest.raises(UserError, match=r"no README\.md"):
        push_folder(empty, repo_id="me/x")
