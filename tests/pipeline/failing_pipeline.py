"""A real distilabel pipeline whose step fails; run as a script by test_run_failures.py.

    python failing_pipeline.py OUTPUT_DIR KIND FAILURE [-v]

KIND is the failing step's kind (generator, normal, global; `load`: the global step's own
`load`); FAILURE is `user` (a UserError),
`bug` (a RuntimeError) or `kill` (the step's process is killed by SIGKILL). The script runs the
pipeline as `wavecoder generate` does (`run_pipeline` under `run_command`) and exits with the
command's status.
"""

import os
import signal
import sys
from pathlib import Path

from distilabel.pipeline import Pipeline
from distilabel.steps import GeneratorStep, GlobalStep, KeepColumns, Step, StepInput

from pipeline.failures import ReportsFailures
from pipeline.running import run_pipeline
from wavecoder.cli import run_command
from wavecoder.errors import UserError

FAILURE = sys.argv[3] if len(sys.argv) > 3 else "user"


def fail() -> None:
    if FAILURE == "user":
        raise UserError("the corpus folder /x holds no source file; give a folder with code")
    if FAILURE == "bug":
        raise RuntimeError("an invariant broke")
    os.kill(os.getpid(), signal.SIGKILL)


class Numbers(ReportsFailures, GeneratorStep):
    fail_here: bool = False

    @property
    def outputs(self):
        return ["n"]

    def process(self, offset: int = 0):
        yield [{"n": i} for i in range(10)], False
        if self.fail_here:
            fail()
        yield [{"n": i} for i in range(10, 20)], True


class Double(ReportsFailures, Step):
    fail_here: bool = False

    @property
    def inputs(self):
        return ["n"]

    @property
    def outputs(self):
        return ["n"]

    def process(self, inputs: StepInput):
        if self.fail_here:
            fail()
        yield [{"n": row["n"] * 2} for row in inputs]


class Total(ReportsFailures, GlobalStep):
    fail_here: bool = False
    fail_loading: bool = False

    def load(self) -> None:
        super().load()
        if self.fail_loading:  # after the base class loaded: the subclass's own code fails
            fail()

    @property
    def inputs(self):
        return ["n"]

    @property
    def outputs(self):
        return ["n"]

    def process(self, inputs: StepInput):
        if self.fail_here:
            fail()
        yield [{"n": sum(row["n"] for row in inputs)}]


def main() -> int:
    out, kind = Path(sys.argv[1]), sys.argv[2]
    with Pipeline(name="failing", cache_dir=out / ".wavecoder" / "distilabel") as pipeline:
        numbers = Numbers(name="numbers", fail_here=kind == "generator", batch_size=10)
        double = Double(name="double", fail_here=kind == "normal", input_batch_size=10)
        total = Total(name="total", fail_here=kind == "global", fail_loading=kind == "load")
        keep = KeepColumns(name="keep", columns=["n"])
        numbers >> double >> total >> keep

    def call() -> int:
        distiset = run_pipeline(pipeline, out, where="Nothing was lost.")
        print("rows:", list(distiset["default"]["train"]["n"]))
        return 0

    return run_command("generate", call, verbose="-v" in sys.argv)


if __name__ == "__main__":
    sys.exit(main())
