"""The ecosystem's plumbing: every place that names the bound libraries names the same ones, each has its recorded
file, and an environment that fails to build is reported by the installer's own first error line."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from fidelity.impls import ECOSYSTEM
from fidelity.recorded import RECORDED_DIR

REPO = Path(__file__).resolve().parents[1]


def _noxfile():
    pytest.importorskip("nox", reason="nox is in the `ecosystem` extra (make test installs it)")
    spec = importlib.util.spec_from_file_location("noxfile", REPO / "noxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_place_names_the_same_libraries():
    makefile = re.search(r"^ECOSYSTEM := (.*)$", (REPO / "Makefile").read_text(), re.MULTILINE).group(1).split()
    workflow = re.search(r"library: \[(.*)\]", (REPO / ".github/workflows/ecosystem.yml").read_text()).group(1)
    assert list(_noxfile().LIBRARIES) == list(ECOSYSTEM) == makefile == [w.strip() for w in workflow.split(",")]


def test_every_library_has_its_recorded_cells_committed():
    assert sorted(p.stem for p in RECORDED_DIR.glob("*.json")) == sorted(ECOSYSTEM)


@pytest.mark.parametrize("output, line", [
    ("error: No solution found when resolving dependencies\n  cause: Because there is no version of loralib==9.9.9 "
     "and you require loralib==9.9.9, we can conclude that your requirements are unsatisfiable.\n",
     "error: No solution found when resolving dependencies (cause: Because there is no version of loralib==9.9.9 and "
     "you require loralib==9.9.9, we can conclude that your requirements are unsatisfiable.)"),
    ("Resolved 3 packages\nerror: Failed to fetch: `https://pypi.org/simple/torch/`\n",
     "error: Failed to fetch: `https://pypi.org/simple/torch/`"),
    ("something odd\nlast words\n", "last words"),
    ("", "the installer failed without a message"),
])
def test_the_installers_first_error_line(output, line):
    assert _noxfile()._first_error(output) == line
