"""Generation: a tiny random transformers model and a scripted OpenAI-compatible endpoint, end to
end through `wavecoder evaluate --model` (generate, post-process, execute, score)."""

from __future__ import annotations

import json

import pytest
from scripted_server import Reply, ScriptedServer
from tiny_models import bpe_tokenizer, tiny_llama

from evaluation.benchmarks import get_benchmark
from evaluation.generation import GenerationConfig, TransformersGenerator
from evaluation.prompts import ALPACA, format_prompt
from wavecoder.cli import main
from wavecoder.errors import UserError

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A randomly initialised 2-layer Llama with a byte-level BPE tokenizer trained here, which
    adds BOS like most code models' tokenizers."""
    problems = get_benchmark("humaneval").load()
    corpus = [p.prompt + p.data["canonical_solution"] for p in problems.values()]
    tokenizer = bpe_tokenizer(
        corpus, vocab_size=400, unk_token="<unk>", add_bos=True, chat_template=CHAT_TEMPLATE
    )
    return tiny_llama(tmp_path_factory.mktemp("tiny-model"), tokenizer, max_positions=2048)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("template", ["alpaca", "chat", "plain"])
def test_transformers_model_end_to_end(tiny_model, tmp_path, sandbox, template):
    out = tmp_path / "out"
    code = main(
        [
            "evaluate",
            "--benchmark",
            "humaneval",
            "--model",
            str(tiny_model),
            "--limit",
            "3",
            "--max-new-tokens",
            "12",
            "--template",
            template,
            "--output",
            str(out),
            "--batch-size",
            "2",
        ]
    )
    assert code == 0
    samples = read_jsonl(out / "samples.jsonl")
    assert [s["task_id"] for s in samples] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    problems = get_benchmark("humaneval").load()
    for sample in samples:
        assert set(sample) >= {"task_id", "completion", "raw_generation", "prompt"}
        prompt = problems[sample["task_id"]].prompt
        if template == "alpaca":
            assert sample["prompt"].startswith(ALPACA.split("{instruction}")[0])
        elif template == "chat":
            assert sample["prompt"].startswith("<|user|>Write a solution")
            assert sample["prompt"].endswith("<|assistant|>")
        else:
            assert sample["prompt"] == prompt
    results = read_jsonl(out / "results.jsonl")
    assert [r["task_id"] for r in results] == [s["task_id"] for s in samples]
    # A random model's output never solves a task: scored, as failures, not crashed on.
    assert not any(r["passed"] for r in results)
    assert all(r["result"].startswith(("failed", "timed out")) for r in results)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass@1"] == 0.0 and summary["n_samples"] == 3
    assert summary["generation"]["template"] == template
    assert summary["generation"]["max_new_tokens"] == 12


@pytest.mark.slow
def test_transformers_explain_runs_both_stages(tiny_model, tmp_path, sandbox, humanevalpack_dir):
    out = tmp_path / "out"
    code = main(
        [
            "evaluate",
            "--benchmark",
            "humanevalexplain",
            "--model",
            str(tiny_model),
            "--dataset",
            str(humanevalpack_dir),
            "--max-new-tokens",
            "8",
            "--output",
            str(out),
            "--n-samples",
            "2",
            "--temperature",
            "0.8",
        ]
    )
    assert code == 0
    samples = read_jsonl(out / "samples.jsonl")
    assert [s["task_id"] for s in samples] == ["Python/0", "Python/0", "Python/2", "Python/2"]
    for sample in samples:
        assert "description" in sample and "raw_description" in sample
        assert "Write functional code in Python according to the description." in sample["prompt"]
        assert sample["completion"].startswith(sample["prompt"].rsplit("### Response:\n", 1)[1])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_samples"] == 4 and summary["pass@1"] == 0.0


def scripted(reply) -> ScriptedServer:
    """The scripted server, answering `reply(prompt or messages)` to each request."""
    return ScriptedServer(lambda r: Reply(content=reply(r.body.get("prompt", r.messages))))


def received(server: ScriptedServer) -> list[tuple[str, dict]]:
    """(path, body) of every request the server received."""
    return [(call["path"], call["body"]) for call in server.calls()]


def _canonical_reply(problems):
    def reply(prompt):
        text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
        for problem in problems.values():
            if problem.prompt.strip() in text:
                code = problem.prompt + problem.data["canonical_solution"]
                return f"Here is the solution:\n```python\n{code}```\nIt works."
        return "I do not know."

    return reply


@pytest.mark.parametrize("template", ["alpaca", "chat"])
def test_openai_endpoint_end_to_end(tmp_path, sandbox, template):
    problems = get_benchmark("humaneval").load()
    out = tmp_path / "out"
    with scripted(_canonical_reply(problems)) as server:
        code = main(
            [
                "evaluate",
                "--benchmark",
                "humaneval",
                "--model",
                "wavecoder-test",
                "--base-url",
                server.base_url,
                "--api-key",
                "sk-test",
                "--limit",
                "4",
                "--template",
                template,
                "--output",
                str(out),
            ]
        )
        requests = received(server)
    assert code == 0
    assert len(requests) == 4
    path, body = requests[0]
    assert body["model"] == "wavecoder-test"
    assert body["max_tokens"] == 512 and body["temperature"] == 0.0 and body["n"] == 1
    instruction = get_benchmark("humaneval").request(problems["HumanEval/0"]).instruction
    if template == "alpaca":
        assert path == "/v1/completions"
        assert sorted(b["prompt"] for _, b in requests)[0] in {
            ALPACA.format(instruction=get_benchmark("humaneval").request(p).instruction)
            for p in problems.values()
        }
        assert any(b["prompt"] == ALPACA.format(instruction=instruction) for _, b in requests)
    else:
        assert path == "/v1/chat/completions"
        assert any(b["messages"] == [{"role": "user", "content": instruction}] for _, b in requests)
    samples = read_jsonl(out / "samples.jsonl")
    assert samples[0]["raw_generation"].startswith("Here is the solution:")
    assert (
        samples[0]["completion"]
        == problems["HumanEval/0"].prompt + problems["HumanEval/0"].data["canonical_solution"]
    )
    results = read_jsonl(out / "results.jsonl")
    assert [r["passed"] for r in results] == [True] * 4
    assert json.loads((out / "summary.json").read_text())["pass@1"] == 1.0


def test_unreachable_endpoint_is_a_user_error(tmp_path, sandbox, capsys):
    code = main(
        [
            "evaluate",
            "--benchmark",
            "humaneval",
            "--model",
            "m",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--limit",
            "1",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "cannot reach http://127.0.0.1:9/v1" in capsys.readouterr().err


def test_bos_is_added_once(tiny_model):
    generator = TransformersGenerator(str(tiny_model), device="cpu")
    tokenizer = generator.tokenizer
    bos = tokenizer.bos_token_id
    for template in ("alpaca", "plain"):
        ids = generator.encode(["def f():"], template)["input_ids"][0].tolist()
        assert ids[0] == bos and ids[1] != bos, template
    # A chat template that writes BOS itself: the tokenizer must not add a second one.
    tokenizer.chat_template = "{{ bos_token }}" + CHAT_TEMPLATE
    text = format_prompt("chat", "Write f.", tokenizer=tokenizer)
    ids = generator.encode([text], "chat")["input_ids"][0].tolist()
    assert ids[0] == bos and ids[1] != bos
    tokenizer.chat_template = CHAT_TEMPLATE
    text = format_prompt("chat", "Write f.", tokenizer=tokenizer)
    assert generator.encode([text], "chat")["input_ids"][0].tolist()[0] == bos


def test_transformers_batches_never_mix_stop_sequences(tiny_model, humanevalpack_dir, monkeypatch):
    benchmark = get_benchmark("humanevalfix")
    problems = []
    for language in ("python", "js"):
        problems += benchmark.load(language, str(humanevalpack_dir)).values()
    generator = TransformersGenerator(str(tiny_model), device="cpu")
    calls = []
    original = generator.model.generate

    def generate(**kwargs):
        calls.append((kwargs["input_ids"].shape[0], tuple(kwargs["stop_strings"])))
        return original(**kwargs)

    monkeypatch.setattr(generator.model, "generate", generate)
    requests = [benchmark.request(p) for p in problems]
    config = GenerationConfig(template="plain", max_new_tokens=2, batch_size=8)
    results = generator.generate(requests, config)
    assert len(results) == 4 and all(len(r) == 1 for r in results)
    # Results stay in request order: each prompt ends with its own language's declaration.
    for problem, (generation,) in zip(problems, results, strict=True):
        assert generation.prompt.endswith(benchmark.prompt_base(problem).rstrip())
    python_stops = (*requests[0].stops, "\n### Instruction", "\n### Response", "\n### Input")
    js_stops = (*requests[2].stops, "\n### Instruction", "\n### Response", "\n### Input")
    assert sorted(calls) == sorted([(2, python_stops), (2, js_stops)])


def test_chat_template_without_one_is_a_user_error():
    class NoChatTemplate:
        chat_template = None

    with pytest.raises(UserError, match="--template alpaca"):
        format_prompt("chat", "Write f.", tokenizer=NoChatTemplate())


def test_openai_gets_at_most_four_stops_and_the_rest_cut_locally(tmp_path, sandbox):
    problems = get_benchmark("humaneval").load()
    out = tmp_path / "out"
    # "\nprint" is the fifth Python stop: the server is not told, the client cuts there.
    with scripted(lambda prompt: "    return 1\nprint(1)\n") as server:
        code = main(
            [
                "evaluate",
                "--benchmark",
                "humaneval",
                "--model",
                "m",
                "--base-url",
                server.base_url,
                "--template",
                "plain",
                "--limit",
                "1",
                "--output",
                str(out),
            ]
        )
        requests = received(server)
    assert code == 0
    (_, body), *_ = requests
    assert body["stop"] == ["\nclass", "\ndef", "\n#", "\n@"]
    (sample,) = read_jsonl(out / "samples.jsonl")
    assert sample["prompt"] == problems["HumanEval/0"].prompt
    assert sample["raw_generation"] == "    return 1"
