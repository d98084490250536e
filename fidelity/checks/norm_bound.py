"""K14 boundedness: a norm of the measured update never exceeds the paper's bound (DeLoRA Eq. 6-7: ‖∆W‖ ≤ λ‖W‖).

The update ∆W = W_eff − W comes from the probe (claim-kinds.md §1.3) at random non-degenerate states, so the bound is
checked on what the forward pass does, not on the implementation's own formula. `measure(∆W, state, W, config)` is a
norm of the update and `bound(state, W, config)` the paper's right-hand side. The probe's rounding error E (elementwise
at most the T-fwd bound of W_eff) moves a norm by at most measure(E), so the pass condition is
measure(∆W) ≤ bound · (1 + 2(n+2)·eps) + measure(T-fwd bound). Where `aligned` gives a state at which the paper's bound
is attained (e.g. all of DeLoRA's rank-one terms pointing the same way), the check also reports measure/bound there:
1 shows the bound is tight and the check measures the paper's quantity.

With `from_base=True` the update is measured against the live base weight the adapter adds to (read back from the
module) instead of the original W: for an init that rewrites the base (DeLoRA's Eq. 9 subtracts a frozen copy of the
initial update from W), the paper bounds the adapter's own term W_eff − W_res, not the distance to the original W.
For adapters that leave the base alone the two are the same.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, effective_weight,
                                  realised_state, run_property, set_state)
from fidelity.numerics import eps, fwd_k, fwd_tolerance
from fidelity.stable import figure


class NormBound(Check):
    kind = "norm_bound"
    topic = "forward"

    def __init__(self, measure: Callable, bound: Callable, text: str, aligned: Callable | None = None,
                 options: dict | None = None, from_base: bool = False):
        super().__init__(options)
        self.measure, self.bound, self.text, self.aligned = measure, bound, text, aligned
        self.from_base = from_base  # measure W_eff − (live base weight) rather than W_eff − (original W)

    def __repr__(self) -> str:
        return f"NormBound({self.text!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def ratio(case, config, layer, weight, bias) -> tuple[float, float]:
            """(measure / bound, allowed ratio) at the layer's current state."""
            state = realised_state(layer)
            w64 = weight.to(torch.float64)
            w_eff, _ = effective_weight(layer, case)
            _, w_abs = spec.effective_weight(state, config)
            b_abs = bias64(bias, case).abs()
            rounding = 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs[:, None])
            update = w_eff - (state["weight"] if self.from_base else w64)
            q, b = self.measure(update, state, w64, config), self.bound(state, w64, config)
            allowed = 1 + fwd_k(spec.inner_length(case)) * eps(case.torch_dtype) + \
                self.measure(rounding, state, w64, config) / b
            return q / b, allowed

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            q, allowed = ratio(case, config, layer, weight, bias)
            measured = {"measure_over_bound": q, "allowed": allowed}
            if not (q <= allowed):
                raise Violation(f"{self.text} fails: the measured norm is {figure(q, allowed - 1, 6)}× the bound "
                                f"(allowed {allowed:.6g} with rounding) [{case}]", measured)
            if self.aligned is not None:
                set_state(layer, self.aligned(case, state, weight.to(torch.float64), config))
                q_aligned, allowed = ratio(case, config, layer, weight, bias)
                measured["aligned_measure_over_bound"] = q_aligned
                if not (q_aligned <= allowed):
                    raise Violation(f"{self.text} fails at the aligned state: the measured norm is "
                                    f"{figure(q_aligned, allowed - 1, 6)}× the bound [{case}]", measured)
            record.add(case, q, measured)

        def observation(rec) -> str:
            tight = rec.first_measured.get("aligned_measure_over_bound")
            slack = rec.first_measured.get("allowed", 1.0) - 1
            tight_text = f"; at the aligned state where the paper's bound is attained the ratio is " \
                         f"{figure(tight, slack, 6)} on the witness" if tight is not None else ""
            return (f"{self.text} holds for the update measured through the forward pass at random trainable values "
                    f"in all {rec.examples} examples{rec.worst_clause('largest measured/bound', '.3g')}{tight_text}")

        return run_property(prop, profile, subject, observation=observation)
