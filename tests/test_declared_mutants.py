"""Mutants of a declared design: every check that stands in for a paper's claim as a declared deviation's
alternative can fail too.

The kill matrix (test_mutants.py) judges mutants against the papers with nothing declared, so it cannot see a
broken alternative: the paper's claim already fails for the reference there. Here the reference's declarations
stay in force, and a mutant that breaks the declared alternative must turn the reference's DEVIATES-OK into a
DEVIATES ("declared deviation not honoured"), through the deterministic witness alone. Mutant modules list these
as DECLARED_MUTANTS (with EXPECTED_DECLARED_MUTANTS and EXPECTED_DECLARED_KILLS), and paper-faithful classes that
must make a declaration STALE as STALE_DECLARATIONS, (variant, class, claim).
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.mutants
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Status, Verdict

MODULES = [m for m in (importlib.import_module(f"tests.mutants.{i.name}") for i in pkgutil.iter_modules(
    tests.mutants.__path__) if i.name != "base") if hasattr(m, "DECLARED_MUTANTS")]
DECLARED = tuple(m for module in MODULES for m in module.DECLARED_MUTANTS)
STALE = tuple(s for module in MODULES for s in getattr(module, "STALE_DECLARATIONS", ()))


def _binding(variant: str, cls: type, name: str) -> ReferenceBinding:
    """The reference binding, declarations included, with one module class swapped."""
    return ReferenceBinding({**ReferenceBinding().classes, variant: cls}, name=name)


@pytest.fixture(scope="module")
def declared_matrix():
    """mutant name -> claim -> result, judged with the reference's declarations."""
    matrix = {}
    for mutant in DECLARED:
        runner = Runner({"mutant": _binding(mutant.variant, mutant.cls, f"mutant {mutant.name}")}, profile=WITNESS)
        matrix[mutant.name] = {c: runner.run("mutant", mutant.variant, c) for c in mutant.killed_by + mutant.survives}
    return matrix


@pytest.mark.parametrize("variant", sorted({m.variant for m in DECLARED}))
def test_reference_honours_every_targeted_declaration(variant):
    runner = Runner({"reference": ReferenceBinding()}, profile=WITNESS)
    for claim in sorted({c for m in DECLARED if m.variant == variant for c in m.killed_by}):
        result = runner.run("reference", variant, claim)
        assert result.verdict is Verdict.DEVIATES_OK, result.summary()


@pytest.mark.parametrize("mutant", DECLARED, ids=lambda m: m.name)
def test_declared_mutant(mutant, declared_matrix):
    results = declared_matrix[mutant.name]
    for claim in mutant.killed_by:
        r = results[claim]
        assert r.verdict is Verdict.DEVIATES and not r.known_bug, f"{mutant.name} not killed by {claim}: {r.summary()}"
        assert r.alternative is not None and r.alternative.status is Status.FAILS, \
            f"{mutant.name} killed by {claim}, but not through the declared alternative: {r.reason}"
    for claim in mutant.survives:
        assert results[claim].verdict is Verdict.MATCHES, f"{mutant.name} should survive {claim}: " \
                                                          f"{results[claim].summary()}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_declared_kill_matrix_ran_in_full(module, declared_matrix):
    mutants = module.DECLARED_MUTANTS
    assert len(mutants) == module.EXPECTED_DECLARED_MUTANTS and all(m.name in declared_matrix for m in mutants)
    kills = sum(r.verdict is Verdict.DEVIATES for m in mutants for c, r in declared_matrix[m.name].items()
                if c in m.killed_by)
    assert kills == module.EXPECTED_DECLARED_KILLS == sum(len(m.killed_by) for m in mutants)


@pytest.mark.parametrize("entry", STALE, ids=lambda e: f"{e[0]}-{e[1].__name__}")
def test_a_paper_faithful_variant_makes_the_declaration_stale(entry):
    variant, cls, claim = entry
    result = Runner({"x": _binding(variant, cls, "paper-faithful")}, profile=WITNESS).run("x", variant, claim)
    assert result.verdict is Verdict.STALE, result.summary()
