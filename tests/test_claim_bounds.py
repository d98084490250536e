"""Checks take claim-specific bounds (issue 11): LowRank's rank bound is the claim's, not always the variant's r."""

from __future__ import annotations

from fidelity.checks import LowRank
from fidelity.checks.base import Subject
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.runner import run_check
from fidelity.variants import get_variant


def _run(check):
    return run_check(check, Subject(ReferenceBinding(), get_variant("lora")), WITNESS)


def test_a_rank_bound_below_the_update_rank_fails():
    run = _run(LowRank(bound=lambda case: case.r - 1, text="r − 1"))  # the reference's update has rank exactly r
    assert not run.evidence.passed and "the update has rank > 7" in run.evidence.observation


def test_a_bound_that_every_matrix_meets_is_called_vacuous():
    run = _run(LowRank(bound=lambda case: case.d_in * case.d_out, text="d_in·d_out"))
    assert run.evidence.passed and "(vacuous in every example" in run.evidence.observation
    assert "vacuous" not in _run(LowRank()).evidence.observation  # the witness alone: r = 8 < min(24, 32)


def test_a_convention_claim_runs_only_for_implementations_that_follow_the_convention():
    """VeRA's paper names no generator: drawing A and B another way from the same seed is the paper (vera.seeded
    holds), and PEFT's staging (vera.seeded-a) is N/A for such a library — DEVIATES only if it claimed PEFT's."""
    from fidelity.runner import Runner
    from fidelity.verdicts import Verdict
    from tests.mutants.vera import Float64Draw

    class Claims(Float64Draw):
        CONVENTIONS = ("peft-prng",)

    for cls, expected in ((Float64Draw, Verdict.NA), (Claims, Verdict.DEVIATES)):
        binding = ReferenceBinding({**ReferenceBinding().classes, "vera": cls}, name="x")
        binding.declarations = ()
        runner = Runner({"x": binding}, profile=WITNESS)
        assert runner.run("x", "vera", "vera.seeded").verdict is Verdict.MATCHES
        assert runner.run("x", "vera", "vera.seeded-a").verdict is expected


def test_a_role_in_the_wrong_shape_is_deviates_naming_it_in_every_claim_never_error():
    """IA3's gain handed over as stored, (d_out, 1), without a view: every claim that builds the layer says which role
    has which shape against the paper's; none is an ERROR (the identity check once raised a matmul shape error)."""
    from fidelity.impls.roles import RoleView
    from fidelity.runner import Runner
    from fidelity.verdicts import Verdict

    class RawGain(ReferenceBinding):
        def build(self, variant, weight, bias, config, calibration=None):
            layer = super().build(variant, weight, bias, config, calibration)
            layer.roles = {"gain": RoleView(layer.module.ia3_l)}  # the (d_out, 1) storage, no view
            return layer

    runner = Runner({"raw": RawGain(name="raw")}, profile=WITNESS)
    for claim in get_variant("ia3").claims:
        result = runner.run("raw", "ia3", claim)
        if claim == "ia3.citation":
            continue
        assert result.verdict is Verdict.DEVIATES, result.summary()
        assert "'gain' has shape (40, 1)" in result.evidence.observation and "l ∈ R^d_out" in result.evidence.observation
