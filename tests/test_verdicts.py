"""The verdict rules, as a table (unit), and end to end through the runner with declared deviations and bugs."""

from __future__ import annotations

import pytest

from fidelity.checks import InitDistribution
from fidelity.impls.base import Declaration
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Status, Verdict, decide
from tests.mutants.lora import AKaimingUniform, AKaimingUniformWrongBound, BRandn

DEVIATION = Declaration(claim="lora.gaussian-a", kind="deviation", rationale="follows the reference code",
                        alternative=InitDistribution(role="down", family="kaiming_uniform"),
                        preserves=("lora.zero-init",))
BUG = Declaration(claim="lora.identity-at-init", kind="known_bug", rationale="B drawn non-zero",
                  link="https://example.invalid/issue/1")
# a characterised accident: a known bug with an exact alternative property that must hold
CHARACTERISED = Declaration(claim="lora.gaussian-a", kind="known_bug", rationale="A drawn Kaiming-uniform by accident",
                            link="https://example.invalid/issue/2",
                            alternative=InitDistribution(role="down", family="kaiming_uniform"))
M, F, H = Verdict.MATCHES, Status.FAILS, Status.HOLDS


@pytest.mark.parametrize("status, declaration, alternative, preserved, verdict, known", [
    (Status.NOT_APPLICABLE, None, None, {}, Verdict.NA, False),
    (Status.NOT_APPLICABLE, DEVIATION, None, {}, Verdict.NA, False),
    (Status.ERROR, DEVIATION, None, {}, Verdict.ERROR, False),
    (H, None, None, {}, Verdict.MATCHES, False),
    (H, DEVIATION, None, {}, Verdict.STALE, False),
    (H, BUG, None, {}, Verdict.STALE, False),
    (F, DEVIATION, H, {"lora.zero-init": M}, Verdict.DEVIATES_OK, False),
    (F, DEVIATION, F, {"lora.zero-init": M}, Verdict.DEVIATES, False),
    (F, DEVIATION, Status.ERROR, {"lora.zero-init": M}, Verdict.DEVIATES, False),
    (F, DEVIATION, H, {"lora.zero-init": Verdict.DEVIATES}, Verdict.DEVIATES, False),
    (F, DEVIATION, H, {}, Verdict.DEVIATES, False),
    (F, BUG, None, {}, Verdict.DEVIATES, True),
    (F, CHARACTERISED, H, {}, Verdict.DEVIATES, True),
    (F, CHARACTERISED, F, {}, Verdict.DEVIATES, False),
    (H, CHARACTERISED, None, {}, Verdict.STALE, False),
    (F, None, None, {}, Verdict.DEVIATES, False),
])
def test_rules(status, declaration, alternative, preserved, verdict, known):
    decision = decide(status, declaration, alternative, preserved)
    assert (decision.verdict, decision.known_bug) == (verdict, known)


SIGNED = Declaration(claim="lora.identity-at-init", kind="known_bug", rationale="B drawn non-zero",
                     link="https://example.invalid/issue/1", signature=r"differs from the base output")


@pytest.mark.parametrize("observation, known", [
    ("at init the adapted output differs from the base output by up to 0.3", True),
    ("output dtype torch.float32 differs from the base's torch.float64", False),
])
def test_a_known_bug_excuses_only_its_own_failure(observation, known):
    decision = decide(F, SIGNED, None, {}, observation=observation)
    assert decision.verdict is Verdict.DEVIATES and decision.known_bug is known
    assert known or "not the way the declared known bug does" in decision.reason


def test_a_deviation_must_name_its_alternative_and_a_bug_its_link():
    with pytest.raises(ValueError, match="alternative"):
        Declaration(claim="x.y", kind="deviation", rationale="r")
    with pytest.raises(ValueError, match="link"):
        Declaration(claim="x.y", kind="known_bug", rationale="r")


class _Declaring(ReferenceBinding):
    def __init__(self, cls, declarations):
        super().__init__({"lora": cls}, name="declaring")
        self.declarations = declarations


def _verdict(cls, declarations, claim):
    return Runner({"x": _Declaring(cls, declarations)}, profile=WITNESS).run("x", "lora", claim)


def test_declared_deviation_with_its_alternative_holding_is_deviates_ok():
    result = _verdict(AKaimingUniform, (DEVIATION,), "lora.gaussian-a")
    assert result.verdict is Verdict.DEVIATES_OK and result.alternative.status is Status.HOLDS


def test_declared_deviation_whose_alternative_fails_is_deviates():
    result = _verdict(AKaimingUniformWrongBound, (DEVIATION,), "lora.gaussian-a")
    assert result.verdict is Verdict.DEVIATES and "alternative" in result.reason


def test_declaration_on_a_claim_that_holds_is_stale():
    assert _verdict(ReferenceBinding().classes["lora"], (DEVIATION,), "lora.gaussian-a").verdict is Verdict.STALE


def test_known_bug_is_deviates_known():
    result = _verdict(BRandn, (BUG,), "lora.identity-at-init")
    assert result.verdict is Verdict.DEVIATES and result.known_bug


class _Raising(ReferenceBinding):
    def build(self, variant, weight, bias, config, calibration=None):
        raise RuntimeError("the implementation exploded")


def test_an_implementation_that_raises_is_an_error_cell_not_a_crash():
    result = Runner({"x": _Raising()}, profile=WITNESS).run("x", "lora", "lora.forward")
    assert result.verdict is Verdict.ERROR and "the implementation exploded" in result.run.error


class _Missing(ReferenceBinding):
    def unavailable(self):
        return "not installed; pip install it"


def test_an_unavailable_implementation_is_na_with_the_hint():
    result = Runner({"x": _Missing()}, profile=WITNESS).run("x", "lora", "lora.forward")
    assert result.verdict is Verdict.NA and "pip install" in result.run.error


@pytest.mark.parametrize("alternative_observation, known", [
    ("at init the adapted output differs from the base output by up to 0.3", True),
    ("trainable roles and shapes differ", False),
])
def test_a_known_bug_inside_a_declared_deviation(alternative_observation, known):
    """A deliberate departure whose alternative property fails the way a declared known bug does is that known bug."""
    decision = decide(F, DEVIATION, F, {"lora.zero-init": M}, observation="not Gaussian", bug=SIGNED,
                      alternative_observation=alternative_observation)
    assert decision.verdict is Verdict.DEVIATES and decision.known_bug is known


def test_a_fixed_known_bug_inside_a_deviation_is_stale():
    decision = decide(F, DEVIATION, H, {"lora.zero-init": M}, observation="not Gaussian", bug=SIGNED)
    assert decision.verdict is Verdict.STALE and "no longer applies" in decision.reason


def test_a_known_bug_characterised_by_an_exact_alternative_end_to_end():
    """Kaiming-uniform A declared as a known bug with its exact characterisation: known while the alternative holds;
    a different failure of the same claim (the wrong Kaiming bound) is undeclared."""
    for cls, known in ((AKaimingUniform, True), (AKaimingUniformWrongBound, False)):
        binding = ReferenceBinding({**ReferenceBinding().classes, "lora": cls}, name="x")
        binding.declarations = (CHARACTERISED,)
        result = Runner({"x": binding}, profile=WITNESS).run("x", "lora", "lora.gaussian-a")
        assert result.verdict is Verdict.DEVIATES and result.known_bug is known, result.reason
        assert result.alternative is not None
