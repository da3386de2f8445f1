import gzip
import json

import pytest

from evaluation.benchmarks import get_benchmark
from evaluation.samples import read_samples, write_jsonl
from evaluation.scoring import match_task_ids
from wavecoder.errors import UserError


def write(path, text):
    path.write_text(text)
    return path


def test_reads_rows_and_keeps_extra_keys(tmp_path):
    path = write(
        tmp_path / "s.jsonl",
        '{"task_id": "HumanEval/0", "completion": "    pass\\n", "raw_generation": "x"}\n\n'
        '{"task_id": "HumanEval/1", "completion": ""}\n',
    )
    rows = read_samples(path)
    assert [r["task_id"] for r in rows] == ["HumanEval/0", "HumanEval/1"]
    assert rows[0]["raw_generation"] == "x"
    assert [r["_line"] for r in rows] == [1, 3]
    out = write_jsonl(tmp_path / "out.jsonl", rows)
    assert "_line" not in json.loads(out.read_text().splitlines()[0])


def test_reads_gzipped_samples(tmp_path):
    path = tmp_path / "s.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('{"task_id": "HumanEval/0", "completion": "x"}\n')
    assert read_samples(path)[0]["completion"] == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": \n', ":2: not valid JSON"),
        ('["HumanEval/0", "x"]\n', ":1: each line must be a JSON object"),
        ('{"completion": "x"}\n', ':1: missing "task_id"'),
        ('{"task_id": "HumanEval/0"}\n', ':1: missing "completion"'),
        ('{"task_id": "HumanEval/0", "completion": 3}\n', ':1: "completion" must be a string'),
        ("\n\n", "holds no samples"),
    ],
)
def test_malformed_samples_name_the_line(tmp_path, text, message):
    path = write(tmp_path / "bad.jsonl", text)
    with pytest.raises(UserError, match=message.replace("[", r"\[")):
        read_samples(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_samples(tmp_path / "nope.jsonl")


def test_unknown_task_id_names_the_line_and_the_id_format(tmp_path):
    benchmark = get_benchmark("humaneval")
    problems = benchmark.load()
    rows = read_samples(
        write(
            tmp_path / "s.jsonl",
            '{"task_id": "HumanEval/0", "completion": ""}\n{"task_id": "HumanEval/999", "completion": ""}\n',
        )
    )
    with pytest.raises(UserError, match=r"line 2: unknown task_id 'HumanEval/999'.*'HumanEval/0'"):
        match_task_ids(benchmark, problems, rows)


def test_mbpp_accepts_bare_task_numbers(mbpp_path):
    benchmark = get_benchmark("mbpp")
    problems = benchmark.load(source=str(mbpp_path))
    rows = [{"task_id": 11, "completion": ""}, {"task_id": "12", "completion": ""}]
    match_task_ids(benchmark, problems, rows)
    assert [r["task_id"] for r in rows] == ["Mbpp/11", "Mbpp/12"]
