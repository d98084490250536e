"""Every alternative property a PEFT declaration stands on can fail.

A declared deviation is DEVIATES-OK only while its alternative property holds, so that property is a check like any
other and needs an implementation it kills. For each deviation the PEFT binding declares, the alternative runs (under
the witness profile, in the claim's option cell with the alternative's own options on top, as the runner runs it)
against a reference class that breaks it — the paper-faithful reference where the alternative states PEFT's own
choice, a mutant otherwise — and must fail. A declaration no row covers fails the coverage test.
"""

from __future__ import annotations

import pytest

from fidelity.checks.base import Subject
from fidelity.impls.peft import PeftBinding
from fidelity.impls.reference import ReferenceBinding, reference_classes
from fidelity.profiles import WITNESS
from fidelity.runner import run_check
from fidelity.variants import get_variant
from fidelity.verdicts import Status
from tests.mutants import corda, eva, hra, pissa

REFERENCE = reference_classes()


class RoadAdjacentOnly(REFERENCE["road"]):
    """RoAd that ignores the layout option and always rotates adjacent pairs (the paper's layout, not PEFT's)."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout="adjacent")


# (variant, claim) -> the class the declared alternative property must fail for
FAILS_FOR = {
    ("adalora", "adalora.scaling"): REFERENCE["adalora"],  # α/r, not the official α/(r + 1e-5)
    ("adalora", "adalora.svd-form"): REFERENCE["adalora"],
    ("adalora", "adalora.svd-form-fixed-budget"): REFERENCE["adalora"],
    ("adalora", "adalora.citation"): REFERENCE["adalora"],  # cites the arXiv id, not the OpenReview page
    ("corda", "corda.calibration-required"): corda.SilentFallback,
    ("corda", "corda.statistic"): REFERENCE["corda"],  # the paper's undamped C
    ("corda", "corda.kpm-statistic"): REFERENCE["corda"],
    ("delora", "delora.no-zero-side"): REFERENCE["delora"],  # the paper's Eq. 9 init draws B at random
    ("delora", "delora.kaiming-b"): REFERENCE["delora"],
    ("delora", "delora.step0-gradient"): REFERENCE["delora"],
    ("eva", "eva.whiten"): eva.WhitenIgnored,
    ("eva", "eva.rho-rank"): eva.Uncentred,
    ("eva", "eva.principal-subspace"): eva.Uncentred,
    ("hra", "hra.even-r"): hra.OddRankAccepted,  # neither refuses nor warns
    ("lora", "lora.gaussian-a"): REFERENCE["lora"],  # the paper's Gaussian A
    ("pissa", "pissa.scaling"): pissa.NoPredivide,
    ("road", "road.rotation"): RoadAdjacentOnly,
    ("road", "road.rotation-road2"): RoadAdjacentOnly,
    ("road", "road.rotation-road4"): RoadAdjacentOnly,
    ("road", "road.bias-rotated"): RoadAdjacentOnly,
}

DEVIATIONS = [d for d in PeftBinding().declarations if d.kind == "deviation"]


def test_every_peft_deviation_has_an_implementation_its_alternative_must_fail_for():
    declared = {(d.variant, d.claim) for d in DEVIATIONS}
    assert declared == set(FAILS_FOR), f"uncovered: {sorted(declared - set(FAILS_FOR))}; stale rows: " \
                                       f"{sorted(set(FAILS_FOR) - declared)}"


@pytest.mark.parametrize("declaration", DEVIATIONS, ids=lambda d: d.claim)
def test_the_alternative_property_can_fail(declaration):
    spec = get_variant(declaration.variant)
    cls = FAILS_FOR[(declaration.variant, declaration.claim)]
    binding = ReferenceBinding({**REFERENCE, declaration.variant: cls}, name=f"breaks {declaration.claim}")
    options = {**spec.claims[declaration.claim].options, **declaration.alternative.options}
    run = run_check(declaration.alternative, Subject(binding, spec, options), WITNESS)
    assert run.status is Status.FAILS, f"{declaration.alternative!r} did not fail for {cls.__name__}: " \
                                       f"{run.status.value} {run.evidence.observation if run.evidence else run.error}"
