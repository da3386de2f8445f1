"""The example database: pools by wave, seeded choices, persistence across runs."""

from __future__ import annotations

import json

from pipeline.generation.example_database import ExampleCase, ExampleDatabase
from pipeline.tasks import all_tasks, get_task


def case(row_id: str, wave: int, good: bool, rank: int = 0, task: str = "repair") -> ExampleCase:
    return ExampleCase(
        id=row_id, task=task, good=good, language="go", code=f"// {row_id}", task_name="t",
        instruction="Fix this Go code.", information="code", solution="fixed",
        analysis="" if good else "fix_is_correct: no, it is not fixed.", wave=wave, rank=rank,
    )  # fmt: skip


def ids(chosen):
    return [c.id for c in chosen[0]], [c.id for c in chosen[1]]


def all_ids(chosen) -> list[str]:
    return [c.id for c in chosen[0] + chosen[1]]


def test_pools_start_from_the_seed_cases():
    db = ExampleDatabase(all_tasks())
    sizes = db.pool_sizes()
    assert sizes == {name: {"good": 2, "bad": 2} for name in all_tasks()}
    good, bad = db.choose("row", "repair", wave=0, k=5, seed=1)
    assert sorted(c.id for c in good) == ["seed:repair:0", "seed:repair:1"]
    assert sorted(c.id for c in bad) == ["seed:repair:2", "seed:repair:3"]
    assert (
        bad[0].analysis
        == next(
            c for c in get_task("repair").seed_cases if c.analysis and c.code == bad[0].code
        ).analysis
    )


def test_a_case_is_visible_two_waves_after_its_own():
    db = ExampleDatabase(all_tasks())
    db.add(case("w0", wave=0, good=True))
    db.add(case("w1", wave=1, good=False))
    seen = {wave: all_ids(db.choose(f"r{wave}", "repair", wave, k=10, seed=1)) for wave in range(4)}
    assert "w0" not in seen[1] and "w0" in seen[2]
    assert "w1" not in seen[2] and "w1" in seen[3]
    assert "w0" not in all_ids(db.choose("other-task", "generation", 5, k=10, seed=1))


def test_choice_depends_on_seed_and_row_id_not_on_insertion_order():
    cases = [case(f"c{i}", wave=i % 3, good=i % 2 == 0, rank=i) for i in range(12)]
    a, b = ExampleDatabase(all_tasks()), ExampleDatabase(all_tasks())
    for c in cases:
        a.add(c)
    for c in reversed(cases):
        b.add(c)
    for row in ("x", "y", "z"):
        assert ids(a.choose(row, "repair", 5, k=2, seed=3)) == ids(
            b.choose(row, "repair", 5, k=2, seed=3)
        )
    picks = {
        ids(ExampleDatabase(all_tasks()).choose(f"row{i}", "repair", 0, k=1, seed=3))[0][0]
        for i in range(20)
    }
    assert picks == {"seed:repair:0", "seed:repair:1"}  # both good seeds get used


def test_cases_and_choices_persist_and_a_resumed_row_gets_its_old_examples(tmp_path):
    path = tmp_path / "examples.sqlite"
    db = ExampleDatabase(all_tasks(), path)
    db.add(case("w0", wave=0, good=True))
    first = ids(db.choose("late-row", "repair", wave=2, k=3, seed=9))
    db.set_meta("settings", '{"seed": 9}')
    db.close()

    again = ExampleDatabase(all_tasks(), path)
    assert again.pool_sizes()["repair"] == {"good": 3, "bad": 2}
    for i in range(5):  # the pool grows; the remembered choice stays
        again.add(case(f"more{i}", wave=0, good=True, rank=i + 1))
    assert ids(again.choose("late-row", "repair", wave=2, k=3, seed=9)) == first
    assert again.get_meta("settings") == '{"seed": 9}'
    exported = tmp_path / "examples.jsonl"
    assert again.export_jsonl(exported) == 16 + 6
    last = json.loads(exported.read_text().splitlines()[-1])
    assert (last["id"], last["wave"], last["good"]) == ("more4", 0, True)


def test_adding_the_same_case_twice_keeps_one_entry():
    db = ExampleDatabase(all_tasks())
    db.add(case("dup", wave=0, good=False))
    db.add(case("dup", wave=0, good=False))
    assert db.pool_sizes()["repair"] == {"good": 2, "bad": 3}


def test_a_remembered_choice_is_only_reused_for_the_same_task_and_wave(tmp_path):
    path = tmp_path / "examples.sqlite"
    db = ExampleDatabase(all_tasks(), path)
    db.add(case("w0", wave=0, good=True))
    as_repair = all_ids(db.choose("row", "repair", wave=2, k=3, seed=1))
    db.close()

    again = ExampleDatabase(all_tasks(), path)
    # The same row given another task (another mix or seed) gets that task's cases.
    as_generation = all_ids(again.choose("row", "generation", wave=2, k=3, seed=1))
    assert as_generation and all(i.startswith("seed:generation:") for i in as_generation)
    # In an earlier wave (another wave size) it sees only what that wave may see.
    assert "w0" not in all_ids(again.choose("row", "repair", wave=1, k=3, seed=1))
    assert all_ids(again.choose("row", "repair", wave=2, k=3, seed=1)) == as_repair


def test_export_leaves_out_cases_of_rows_the_dataset_no_longer_holds(tmp_path):
    db = ExampleDatabase(all_tasks())
    db.add(case("kept", wave=0, good=True))
    db.add(case("dropped", wave=5, good=True, rank=1))
    assert db.export_jsonl(tmp_path / "x.jsonl", row_ids={"kept"}) == 16 + 1
    assert "dropped" not in (tmp_path / "x.jsonl").read_text()
