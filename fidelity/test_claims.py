"""The verification itself: one pytest id per (implementation, variant, claim) cell.

MATCHES and DEVIATES-OK pass; DEVIATES fails with the measured numbers and the falsifying example; a declared
known bug is a strict xfail (it fails as STALE once upstream fixes it); N/A skips with its reason; ERROR and
STALE fail. FIDELITY_VARIANTS=dora,hra (comma-separated) restricts the cells to those variants. The libraries that run
in their own environments (noxfile.py) are verified there: `nox -s NAME` runs their cells and fails the same way.
"""

from __future__ import annotations

import os

import pytest

from fidelity.runner import Runner
from fidelity.stable import exact
from fidelity.verdicts import Verdict

_RUNNER = Runner()
_ONLY = {v for v in os.environ.get("FIDELITY_VARIANTS", "").split(",") if v}  # validated in conftest.py
# An implementation recorded in its own environment (fidelity/recorded.py) is verified there, by `nox -s NAME`
_LIVE = {name for name, binding in _RUNNER.bindings.items() if not hasattr(binding, "replay")}
_CELLS = [cell for cell in _RUNNER.cells() if cell[0] in _LIVE and (not _ONLY or cell[1] in _ONLY)]


@pytest.mark.parametrize("cell", _CELLS, ids=lambda cell: "-".join(cell))
def test_claim(cell):
    result = _RUNNER.run(*cell)
    if result.verdict is Verdict.NA:
        pytest.skip(f"N/A: {result.run.error}")
    if result.verdict is Verdict.DEVIATES and result.known_bug:
        pytest.xfail(f"known bug: {result.reason}: {exact(result.evidence.observation) if result.evidence else ''}")
    if result.verdict in (Verdict.MATCHES, Verdict.DEVIATES_OK):
        return
    lines = [result.summary()]
    if result.reason:
        lines.append(result.reason)
    if result.evidence is not None:
        lines.append(f"measured: {result.evidence.measured}")
        if result.evidence.falsifying:
            lines.append(exact(result.evidence.falsifying))
    if result.run.traceback:
        lines.append(result.run.traceback)
    pytest.fail("\n".join(lines), pytrace=False)


@pytest.mark.parametrize("impl", sorted(_LIVE))
def test_declarations_match_cells(impl):
    """Every declaration an implementation makes (in its code or its declarations file) matches a cell: an expectation
    that matches nothing is an error, never silence."""
    from fidelity.impls.declarations_file import problems

    found = problems(_RUNNER.bindings[impl])
    if found:
        pytest.fail("\n".join(found), pytrace=False)
