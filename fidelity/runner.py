"""Runs (implementation, variant, claim) cells and returns their results, with verdicts decided.

The runner is the only place that joins implementations, variant specs, checks and paper records.
Results are memoised per runner, because a DEVIATES-OK needs the verdicts of the claims it preserves.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field

import torch

from fidelity.checks.base import Evidence, Subject, Violation
from fidelity.impls import all_bindings
from fidelity.impls.base import Binding, Declaration, NotProvided, SourceRef
from fidelity.papers.records import Claim, load_paper
from fidelity.profiles import Profile, current_profile
from fidelity.stable import exact
from fidelity.variants import all_variants, get_variant
from fidelity.variants.base import VariantSpec
from fidelity.verdicts import Status, Verdict, decide

# The suite's matrices are tiny: torch's intra-op threads only contend with each other (one small SVD measured
# 4.4 s with 2 threads against 0.06 s with 1 on a loaded 2-core machine). FIDELITY_THREADS overrides.
torch.set_num_threads(int(os.environ.get("FIDELITY_THREADS", "1")))


@dataclass
class CheckRun:
    status: Status
    evidence: Evidence | None = None
    error: str = ""  # one line: the exception's type and message (ERROR), or the reason (N/A)
    traceback: str = ""  # the last frames of an ERROR's traceback, for test failures (never committed)


@dataclass
class CellResult:
    impl: str
    impl_label: str
    variant: str
    claim: Claim
    check: str
    run: CheckRun
    verdict: Verdict
    known_bug: bool = False
    reason: str = ""
    declaration: Declaration | None = None
    alternative: CheckRun | None = None
    sources: list[SourceRef] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def test_id(self) -> str:
        return f"{self.impl}-{self.variant}-{self.claim.id}"

    @property
    def evidence(self) -> Evidence | None:
        return self.run.evidence

    def summary(self) -> str:
        """One line for progress output and test failures, with the exact numbers (fidelity.stable)."""
        ev, alt = self.run.evidence, self.alternative
        detail = exact(ev.observation) if ev else self.run.error
        known = " (known bug)" if self.known_bug else ""
        examples = f"{ev.examples} ex, " if ev else ""
        if alt is not None and alt.evidence is not None:
            examples += f"alternative {alt.evidence.examples} ex, "
        return f"{self.test_id}: {self.verdict.value}{known} [{examples}{self.seconds:.1f}s] {detail}"


def describe(exc: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def run_check(check, subject: Subject, profile: Profile) -> CheckRun:
    """Run one check on one subject; classify N/A, failure (Violation) and error (anything else)."""
    failure = subject.binding.broken()
    if failure:
        try:  # a variant or option the implementation does not provide stays N/A while it is broken
            why_not = subject.binding.provides(subject.variant.name, check.options)
        except Exception:
            why_not = None
        return CheckRun(Status.NOT_APPLICABLE, error=why_not) if why_not else CheckRun(Status.ERROR, error=failure)
    why_not = subject.binding.unavailable() or subject.binding.provides(subject.variant.name, check.options)
    if why_not:
        return CheckRun(Status.NOT_APPLICABLE, error=why_not)
    if check.convention and check.convention not in subject.binding.conventions(subject.variant.name):
        return CheckRun(Status.NOT_APPLICABLE, error=f"a convention claim ({check.convention}), not the paper's: this "
                        "implementation does not follow that convention (its conventions() do not name it)")
    try:
        evidence = check.run(subject, profile)
        evidence.observation += subject.substitution_note()
    except Violation as v:
        evidence = Evidence(passed=False, observation=str(v), measured=v.measured, examples=1,
                            token=getattr(v, "token", ""), figure=getattr(v, "figure", {}))
    except NotProvided as exc:  # a capability the check needs that the binding lacks (e.g. a multi-layer model)
        return CheckRun(Status.NOT_APPLICABLE, error=str(exc))
    except BaseException as exc:  # an implementation or a check that raises is an ERROR, never a crash
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return CheckRun(Status.ERROR, error=describe(exc),
                        traceback="".join(traceback.format_exception(exc, limit=-6)))
    return CheckRun(Status.HOLDS if evidence.passed else Status.FAILS, evidence)


def absence(binding: Binding, spec: VariantSpec) -> str | None:
    """Why `binding` provides no cell of the variant — it refuses every claim's options — or None when it provides at
    least one. An implementation that provides only an option (rsLoRA without plain LoRA) is present: its other
    cells are N/A. One that cannot run here (not installed, failed to load) is present where its binding says it
    provides the variant (a binding answers that without its library), and everywhere when it cannot tell: its cells
    say why."""
    try:
        refused = [binding.provides(spec.name, check.options) for check in spec.claims.values()]
    except Exception:  # a binding that cannot answer is present: its cells say what is wrong
        return None
    if any(why is None for why in refused):
        return None
    return binding.provides(spec.name, {}) or refused[0]


class Runner:
    """Runs cells for a set of bindings under one hypothesis profile."""

    def __init__(self, bindings: dict[str, Binding] | None = None, profile: Profile | None = None):
        self.bindings = bindings if bindings is not None else all_bindings()
        self.profile = profile or current_profile()
        self._results: dict[tuple[str, str, str], CellResult] = {}

    def cells(self, variant: str | None = None) -> list[tuple[str, str, str]]:
        """Every (implementation, variant, claim id), in a stable order."""
        variants = [get_variant(variant)] if variant else list(all_variants().values())
        return [(impl, spec.name, claim_id) for spec in variants for impl in self.bindings for claim_id in spec.claims]

    def claim(self, spec: VariantSpec, claim_id: str) -> Claim:
        for paper_id in spec.papers:
            paper = load_paper(paper_id)
            if any(c.id == claim_id for c in paper.claims):
                return paper.claim(claim_id)
        raise LookupError(f"variant {spec.name} names claim {claim_id!r}, which no paper record of "
                          f"{', '.join(spec.papers)} holds; add it to the paper's TOML")

    def results(self, variant: str | None = None) -> list[CellResult]:
        """Every cell run so far (of one variant, when given)."""
        return [r for (_, v, _), r in self._results.items() if variant is None or v == variant]

    def run(self, impl: str, variant: str, claim_id: str) -> CellResult:
        key = (impl, variant, claim_id)
        if key not in self._results:
            self._results[key] = self._run(impl, variant, claim_id)
        return self._results[key]

    def _run(self, impl: str, variant: str, claim_id: str) -> CellResult:
        start = time.perf_counter()
        binding, spec = self.bindings[impl], get_variant(variant)
        claim, check = self.claim(spec, claim_id), spec.claims[claim_id]
        if hasattr(binding, "replay"):  # cells run in the implementation's own environment (fidelity/recorded.py)
            return binding.replay(variant, claim)
        if check.kind != claim.kind:
            raise LookupError(f"claim {claim_id} is of kind {claim.kind!r} but {spec.name} tests it with "
                              f"a {check.kind!r} check")
        run = run_check(check, Subject(binding, spec, check.options), self.profile)
        # at most one deviation and one known bug per (claim, variant): a deliberate departure may hold a known bug
        deviation = binding.declaration(claim_id, variant, "deviation")
        bug = binding.declaration(claim_id, variant, "known_bug")
        alternative, preserved = None, {}
        # a deviation's alternative property, or a known bug's exact characterisation (a float32-rounded constant,
        # say: neither on purpose nor unexplained)
        characterised = deviation if deviation is not None else bug if bug is not None and bug.alternative else None
        if run.status is Status.FAILS and characterised is not None:
            # in the claim's option cell, with the alternative's own options on top (e.g. RoAd's other pair layout)
            options = {**check.options, **characterised.alternative.options}
            alternative = run_check(characterised.alternative, Subject(binding, spec, options), self.profile)
            preserved = {c: self.run(impl, variant, c).verdict for c in characterised.preserves}
        decision = decide(run.status, deviation or bug, alternative.status if alternative else None, preserved,
                          observation=exact(run.evidence.observation) if run.evidence else "",
                          bug=bug if deviation is not None else None,
                          alternative_observation=exact(alternative.evidence.observation)
                          if alternative is not None and alternative.evidence else "")
        declaration = bug if decision.known_bug else (deviation or bug)
        sources = []
        if run.status is not Status.NOT_APPLICABLE:
            try:
                sources = binding.sources(variant, check.topic)
            except Exception as exc:  # a binding that cannot show its source still gets its verdict
                sources = [SourceRef(f"(source unavailable: {exc})", 0, ())]
        return CellResult(
            impl=impl, impl_label=binding.label, variant=variant, claim=claim, check=repr(check), run=run,
            verdict=decision.verdict, known_bug=decision.known_bug, reason=decision.reason,
            declaration=declaration, alternative=alternative, sources=sources,
            seconds=time.perf_counter() - start,
        )
