"""Every alternative property a declaration of PEFT or of a bound library stands on can fail.

A declared deviation is DEVIATES-OK only while its alternative property holds, so that property is a check like any
other and needs an implementation it kills. For each deviation a binding declares (PEFT, and the libraries of
fidelity.impls.ECOSYSTEM, whose adapter modules import without the library), the alternative runs (under
the witness profile, in the claim's option cell with the alternative's own options on top, as the runner runs it)
against a reference class that breaks it — the paper-faithful reference where the alternative states PEFT's own
choice, a mutant otherwise, named in the adapter module's ALTERNATIVE_FAILS_FOR beside its DECLARATIONS — and must
fail. A declaration no row covers fails the coverage test.
"""

from __future__ import annotations

import importlib

import pytest

from fidelity.checks.base import Subject
from fidelity.impls import ECOSYSTEM
from fidelity.impls.peft import PeftBinding, adapters
from fidelity.impls.reference import ReferenceBinding, reference_classes
from fidelity.profiles import WITNESS
from fidelity.runner import run_check
from fidelity.variants import get_variant
from fidelity.verdicts import Status

REFERENCE = reference_classes()


def _library(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


BINDINGS = {"peft": (PeftBinding(), adapters()),
            **{name: (b := _library(spec), b.adapters()) for name, spec in ECOSYSTEM.items()}}


def _fails_for() -> dict[tuple[str, str, str], type]:
    """(binding, variant, claim) -> the class the declared alternative property must fail for, from each adapter
    module's ALTERNATIVE_FAILS_FOR (kept next to the declarations it serves)."""
    table = {}
    for impl, (_, modules) in BINDINGS.items():
        for variant, adapter in modules.items():
            for claim, target in getattr(adapter, "ALTERNATIVE_FAILS_FOR", {}).items():
                if target == "reference":
                    table[(impl, variant, claim)] = REFERENCE[variant]
                else:
                    module, _, name = target.partition(":")
                    table[(impl, variant, claim)] = getattr(importlib.import_module(module), name)
    return table


FAILS_FOR = _fails_for()
DEVIATIONS = [(impl, d) for impl, (binding, _) in BINDINGS.items() for d in binding.declarations
              if d.alternative is not None]


def test_every_deviation_has_an_implementation_its_alternative_must_fail_for():
    declared = {(impl, d.variant, d.claim) for impl, d in DEVIATIONS}
    assert declared == set(FAILS_FOR), f"uncovered: {sorted(declared - set(FAILS_FOR))}; stale rows: " \
                                       f"{sorted(set(FAILS_FOR) - declared)}"


@pytest.mark.parametrize("impl,declaration", DEVIATIONS, ids=[f"{i}-{d.claim}" for i, d in DEVIATIONS])
def test_the_alternative_property_can_fail(impl, declaration):
    spec = get_variant(declaration.variant)
    cls = FAILS_FOR[(impl, declaration.variant, declaration.claim)]
    binding = ReferenceBinding({**REFERENCE, declaration.variant: cls}, name=f"breaks {declaration.claim}")
    options = {**spec.claims[declaration.claim].options, **declaration.alternative.options}
    run = run_check(declaration.alternative, Subject(binding, spec, options), WITNESS)
    assert run.status is Status.FAILS, f"{declaration.alternative!r} did not fail for {cls.__name__}: " \
                                       f"{run.status.value} {run.evidence.observation if run.evidence else run.error}"
