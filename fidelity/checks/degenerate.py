"""K26 degenerate configuration: a documented degenerate case of a variant measured against the sibling it is said to
degenerate to (history C.23: "b = 1 degenerates to antipasto"), at random trained values, for what it is.

Both variants are built by the same implementation on the same base layer; the variant at a random non-degenerate
state (claim-kinds.md §1.4) with each regime's `fix` applied (e.g. the sign of coeff·M), the sibling with the mapped
trainables `sibling_state(state, config)`. The claim states the difference of their outputs exactly:
`difference(state, config)`, a (d_out, d_in) float64 matrix D from the realised tensors — zero where the two agree —
and the check measures

    f_variant(x) − f_sibling(x) = x Dᵀ     within T-fwd of both sides, 2(n+2)·eps·(scale_variant + scale_sibling),

on a random batch and on the rows of Vh as stored (so that every subspace coordinate is driven at full size). In a
regime stated to differ, x Dᵀ must exceed DECISIVE × that bound (otherwise the regime's fix is too small to tell the two
apart, a defect of the claim, reported as an error): the two then provably differ, by the stated amount. In a regime
stated to agree, D is zero and the check is an equality. A binding that does not provide the sibling makes the cell
N/A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, reference_output,
                                  run_property, set_state)
from fidelity.impls.base import NotProvided
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, noisy, ratio

DECISIVE = 100.0  # a stated difference must stand this far above the rounding bound


@dataclass(frozen=True)
class Regime:
    """A part of the state space: `fix(state, config, generator)` overrides trainables to put the state there;
    `differs` says whether the claim's difference is non-zero there."""

    text: str
    fix: Callable
    differs: bool


class Degenerate(Check):
    kind = "degenerate"
    topic = "forward"

    def __init__(self, sibling: str, sibling_state: Callable, difference: Callable, difference_text: str,
                 regimes: tuple[Regime, ...], options: dict | None = None):
        super().__init__(options)
        self.sibling = sibling  # the other variant's name
        self.sibling_state = sibling_state  # (state, config) -> the sibling's trainables
        self.difference, self.difference_text = difference, difference_text  # (state, config) -> D (d_out, d_in)
        self.regimes = tuple(regimes)

    def __repr__(self) -> str:
        return f"Degenerate({self.sibling}, difference {self.difference_text}" \
               f"{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        from fidelity.variants import get_variant

        spec, other = subject.variant, get_variant(self.sibling)
        why_not = subject.binding.provides(other.name, {})
        if why_not:
            raise NotProvided(f"the sibling {other.name} is not provided: {why_not}")
        twin_subject = Subject(subject.binding, other, {})
        seen = {"differs": 0, "agrees": 0}

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            twin_config = twin_subject.config(case)
            twin, _, _ = twin_subject.build(case, twin_config)
            x = torch.cat([inputs(case), layer.read("basis_in").detach().to(case.torch_dtype)])
            x64, b64 = x.to(torch.float64), bias64(bias, case)
            gen = case.generator(stream=11)
            worst, measured = 0.0, {}
            for regime in self.regimes:
                fixed = {**state, **regime.fix(state, config, gen)}
                set_state(layer, {k: fixed[k] for k in layer.roles})
                set_state(twin, self.sibling_state(fixed, config))
                here = {**fixed, **{k: layer.read(k).detach().to(torch.float64) for k in layer.roles}}
                there = {**{k: twin.read(k).detach().to(torch.float64) for k in {**twin.roles, **twin.buffers}},
                         "weight": twin.weight.detach().to(torch.float64)}
                with torch.no_grad():
                    y = layer(x).to(torch.float64)
                    gap = y - twin(x).to(torch.float64)
                _, abs_here, _, _ = reference_output(spec, here, config, x64, b64)
                _, abs_there, _, _ = reference_output(other, there, twin_config, x64, b64)
                n = max(spec.inner_length(case), other.inner_length(case))
                tol = fwd_tolerance(case.torch_dtype, n, abs_here + abs_there)
                stated = x64 @ self.difference(here, config).T
                m = margin(gap - stated, tol)
                size = margin(stated, tol)
                key = regime.text
                measured.update({f"margin[{key}]": m, f"difference/bound[{key}]": size,
                                 f"max_difference[{key}]": float(stated.abs().max()), f"bound[{key}]": float(tol.max()),
                                 f"relative_difference[{key}]": float(stated.abs().max() / y.abs().max())})
                if m > 1.0:
                    got, want = float(gap.abs().max()), float(stated.abs().max())
                    raise Violation(f"where {regime.text}, {spec.name} − {other.name} is not {self.difference_text}: "
                                    f"the outputs differ by up to {figure(got, float(tol.max()))} where "
                                    f"{figure(want, float(tol.max()))} is stated ({ratio(m)}× the rounding bound) "
                                    f"[{case}]", measured)
                if regime.differs and not size > DECISIVE:
                    raise RuntimeError(f"non-vacuity: where {regime.text} the stated difference is only {size:.3g}× "
                                       f"the rounding bound; the regime cannot show the two apart [{case}]")
                if not regime.differs and size > 0:
                    raise RuntimeError(f"the claim says the two agree where {regime.text}, but its difference is "
                                       f"not zero there [{case}]")
                seen["differs" if regime.differs else "agrees"] += 1
                worst = max(worst, m)
            record.add(case, worst, measured)

        def observation(rec):
            first = rec.first_measured

            def size(r):
                most, bound, rel = (first.get(f"{k}[{r.text}]", 0.0) for k in ("max_difference", "bound",
                                                                                "relative_difference"))
                percent = figure(100 * rel, 100 * rel * bound / most if most else 1.0, digits=2)
                return (f"{r.text}: the outputs differ by up to {figure(most, bound)} ({percent} % of the largest "
                        f"output), " + noisy(f"{first.get(f'difference/bound[{r.text}]', 0.0):.3g}×",
                                             f"more than {DECISIVE:g}×") + " the rounding bound")

            sizes = [size(r) for r in self.regimes if r.differs]
            agree = [r.text for r in self.regimes if not r.differs]
            return (f"at random trained values {spec.name}{' with ' + str(self.options) if self.options else ''} minus "
                    f"{other.name} (the same implementation, trainables mapped) equals {self.difference_text} within "
                    f"2(n+2)·eps·(both scales) in all {rec.examples} examples{rec.worst_clause()}: equal where "
                    f"{' and where '.join(agree) or '—'}; different where "
                    f"{' and where '.join(r.text for r in self.regimes if r.differs) or '—'} (witness "
                    f"{'; '.join(sizes)})")

        return run_property(prop, profile, subject, observation=observation)
