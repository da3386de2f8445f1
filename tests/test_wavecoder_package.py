"""`import wavecoder` works, stays light, and offers the public names; the command lives there."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points, version

import numpy as np

import wavecoder


def test_import_wavecoder_is_light_and_lazy():
    code = (
        "import sys, wavecoder; "
        "print(sorted(m for m in ('distilabel', 'torch', 'numba', 'datasets') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_names_resolve_to_their_definitions():
    from pipeline.recipe import load_recipe
    from pipeline.selection import kcenter_greedy

    assert wavecoder.kcenter_greedy is kcenter_greedy
    assert wavecoder.load_recipe is load_recipe
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.1, 0.0]], dtype=np.float32)
    assert list(wavecoder.kcenter_greedy(points, 2, first=0)) == [0, 1]
    assert set(wavecoder.__all__) >= {"UserError", "StepFailed", "kcenter_greedy", "__version__"}


def test_the_console_script_is_wavecoder_cli_and_the_version_matches():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "wavecoder"]
    assert script.value == "wavecoder.cli:main"
    assert wavecoder.__version__ == version("wavecoder")
    done = subprocess.run(
        [sys.executable, "-m", "wavecoder", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"wavecoder {wavecoder.__version__}")
