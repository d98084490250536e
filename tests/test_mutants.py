"""The kill matrix: every check can fail. Each mutant must be killed by the claims it targets, through the
deterministic witness alone, and must survive the claims it leaves intact."""

from __future__ import annotations

import pytest

from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Verdict
import importlib
import pkgutil

import tests.mutants
from tests.mutants import MUTANTS, antipasto_dplr

# Each mutant module states how many mutants and kills it holds; the gate checks the matrix ran all of them.
MODULES = [importlib.import_module(f"tests.mutants.{i.name}") for i in pkgutil.iter_modules(tests.mutants.__path__)
           if i.name != "base"]


def _mutant_binding(mutant) -> ReferenceBinding:
    binding = ReferenceBinding({**ReferenceBinding().classes, mutant.variant: mutant.cls}, name=f"mutant {mutant.name}")
    binding.declarations = ()  # a mutant is judged against the paper, with nothing declared
    return binding


@pytest.fixture(scope="module")
def kill_matrix() -> dict[str, dict[str, Verdict]]:
    """mutant name -> claim -> result, for every claim a mutant targets or must survive."""
    names = [m.name for m in MUTANTS]
    assert len(set(names)) == len(names), f"mutant names must be unique: {sorted(n for n in names if names.count(n) > 1)}"
    matrix = {}
    for mutant in MUTANTS:
        runner = Runner({"mutant": _mutant_binding(mutant)}, profile=WITNESS)
        matrix[mutant.name] = {c: runner.run("mutant", mutant.variant, c) for c in mutant.killed_by + mutant.survives}
    return matrix


@pytest.mark.parametrize("variant", sorted({m.variant for m in MUTANTS}))
def test_reference_matches_every_targeted_claim_under_the_witness(variant):
    binding = ReferenceBinding()
    binding.declarations = ()
    runner = Runner({"reference": binding}, profile=WITNESS)
    for claim in sorted({c for m in MUTANTS if m.variant == variant for c in m.killed_by + m.survives}):
        result = runner.run("reference", variant, claim)
        assert result.verdict is Verdict.MATCHES, result.summary()


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant(mutant, kill_matrix):
    results = kill_matrix[mutant.name]
    for claim in mutant.killed_by:
        assert results[claim].verdict is Verdict.DEVIATES, f"{mutant.name} not killed by {claim}: " \
                                                             f"{results[claim].summary()}"
    for claim in mutant.survives:
        assert results[claim].verdict is Verdict.MATCHES, f"{mutant.name} should survive {claim}: " \
                                                            f"{results[claim].summary()}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_kill_matrix_ran_in_full(module, kill_matrix):
    """The gate asserts that it ran: every mutant of the module and every targeted kill, as many as it states."""
    mutants = module.MUTANTS
    assert len(mutants) == module.EXPECTED_MUTANTS and all(m.name in kill_matrix for m in mutants)
    kills = sum(r.verdict is Verdict.DEVIATES for m in mutants for c, r in kill_matrix[m.name].items()
                if c in m.killed_by)
    assert kills == module.EXPECTED_KILLS == sum(len(m.killed_by) for m in mutants)


def test_a_declaration_that_no_longer_applies_is_stale():
    cls, claim = antipasto_dplr.STALE_DECLARATION
    binding = ReferenceBinding({**ReferenceBinding().classes, "antipasto_dplr": cls}, name="paper-faithful A")
    result = Runner({"x": binding}, profile=WITNESS).run("x", "antipasto_dplr", claim)
    assert result.verdict is Verdict.STALE, result.summary()
