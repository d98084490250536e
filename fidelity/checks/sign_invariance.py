"""K11 SVD sign-flip invariance: (U, Vh) → (U D, D Vh), D = diag(±1), with the trainables mapped as the math
requires (the variant's `sign_flip`), leaves the function unchanged (T-fwd, at a random trained state).

Negative control: flipping U alone must change the output by far more than the tolerance, so the check
really sees the basis. A sign convention is free, so this is an equivalence: it must never produce DEVIATES
for a correct implementation (claim-kinds.md §0.3).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, build_randomized, run_property, set_state
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio


class SignInvariance(Check):
    kind = "sign_invariance"
    topic = "forward"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            x = inputs(case)
            with torch.no_grad():
                y = layer(x).to(torch.float64)
            d = torch.where(torch.rand(case.r, generator=case.generator(stream=5)) < 0.5, -1.0, 1.0).double()
            d[0] = -1.0  # at least one pair flips
            flipped = spec.sign_flip(state, d)
            set_state(layer, flipped)
            with torch.no_grad():
                y_flipped = layer(x).to(torch.float64)
            _, w_abs = spec.effective_weight(state, config)
            b_abs = bias.abs().to(torch.float64) if bias is not None else 0.0
            tol = 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case),
                                    x.abs().to(torch.float64) @ w_abs.T + b_abs)
            m = margin(y_flipped - y, tol)
            # negative control: back to the original state, then U flipped alone
            set_state(layer, {**{name: state[name] for name in flipped}, "basis_out": state["basis_out"] * d})
            with torch.no_grad():
                control = float((layer(x).to(torch.float64) - y).abs().max())
            measured = {"max_abs_change": float((y_flipped - y).abs().max()), "margin": m, "control_change": control}
            if m > 1.0:
                raise Violation(f"flipping {int((d < 0).sum())} singular pair(s) with the trainables mapped changed the "
                                f"output by {figure(measured['max_abs_change'], float(tol.max()))} ({ratio(m)}× the "
                                f"tolerance) [{case}]", measured)
            if control <= 10 * float(tol.max()):
                raise RuntimeError(f"negative control: flipping U alone changed the output by only {control:.3g}; the "
                                   f"check cannot see the basis [{case}]")
            record.add(case, m, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"output unchanged under random sign flips of singular pairs (trainables mapped) "
            f"in all {rec.examples} examples{rec.worst_clause()}; flipping U alone changes it "
            f"(witness change {rec.first_measured.get('control_change', float('nan')):.3g})",
        )
