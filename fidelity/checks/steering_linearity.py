"""K07 steering linearity: the steered update is linear in the steering coefficient, as the paper's S + α∆S is.

AntiPaSTO (Eq. 4) steers the singular values additively, W'(α) = U (S + α∆S) R_v(α) Vᵀ + W_res. Without the
rotation (R_v = I) the update ΔW(α) = W'(α) − W'(0) = α U ∆S Vᵀ is linear in α: steering is antisymmetric,
ΔW(−α) = −ΔW(α) (α = ±1 steer in opposite directions by the same amount), and homogeneous, ΔW(2α) = 2 ΔW(α).

The check needs no mapping from an implementation's trainables to ∆S: the same random trained values are set
into layers built at coefficients 0, α, −α and 2α, and their effective weights are measured by the probe
W_effᵀ = f(I) − f(0) (claim-kinds.md §1.3). Tolerance: the sum of the probes' elementwise T-fwd bounds,
2·2(n+2)·eps·scale each. Non-vacuity: ΔW(α) far above its bound.
"""

from __future__ import annotations

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, realised_state,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio

# (label, multiple of the drawn coefficient α)
POINTS = (("zero", 0.0), ("minus", -1.0), ("double", 2.0))


class SteeringLinearity(Check):
    kind = "steering_linearity"
    topic = "forward"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def probe(layer, case, config, bias):
            """(W_eff from the forward pass, its elementwise rounding bound)."""
            w_eff, _ = effective_weight(layer, case)
            _, w_abs = spec.effective_weight(realised_state(layer), config)
            b_abs = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            return w_eff, 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs)

        def prop(case, record):
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)
            trained = {k: v for k, v in randomize(subject, case, layer, weight, config).items() if k in layer.roles}
            w, t = {}, {}
            w["plus"], t["plus"] = probe(layer, case, config, bias)
            for label, factor in POINTS:
                point = case.with_(coeff=factor * case.coeff)
                point_config = subject.config(point)
                point_layer, _, _ = subject.build(point, point_config)
                set_state(point_layer, trained)
                w[label], t[label] = probe(point_layer, point, point_config, bias)
            update = w["plus"] - w["zero"]
            antisymmetry = w["plus"] + w["minus"] - 2 * w["zero"]  # ΔW(α) + ΔW(−α)
            homogeneity = w["double"] - 2 * w["plus"] + w["zero"]  # ΔW(2α) − 2 ΔW(α)
            m_anti = margin(antisymmetry, t["plus"] + t["minus"] + 2 * t["zero"])
            m_hom = margin(homogeneity, t["double"] + 2 * t["plus"] + t["zero"])
            size = float(update.abs().max())
            measured = {"max_abs_update": size, "max_abs_antisymmetry": float(antisymmetry.abs().max()),
                        "max_abs_homogeneity": float(homogeneity.abs().max()),
                        "margin_antisymmetry": m_anti, "margin_homogeneity": m_hom}
            if size <= 10 * float((t["plus"] + t["zero"]).max()):
                raise RuntimeError(f"non-vacuity guard: the update ΔW(α) = {size:.3g} is not far above its rounding "
                                   f"bound [{case}]")
            if max(m_anti, m_hom) > 1.0:
                noise = float((t["double"] + 2 * t["plus"] + t["zero"]).max())
                raise Violation(
                    f"the update is not linear in the coefficient α = {case.coeff:g}: ΔW(α) + ΔW(−α) is up to "
                    f"{figure(measured['max_abs_antisymmetry'], noise)} ({ratio(m_anti)}× its rounding bound) and "
                    f"ΔW(2α) − 2ΔW(α) up to {figure(measured['max_abs_homogeneity'], noise)} ({ratio(m_hom)}×), "
                    f"against ΔW(α) up to {figure(size, noise)}, "
                    f"at random trained values [{case}]", measured)
            record.add(case, max(m_anti, m_hom), measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"at random trained values ΔW(−α) = −ΔW(α) and ΔW(2α) = 2ΔW(α) within the "
            f"probes' rounding bounds in all {rec.examples} examples{rec.worst_clause()}",
        )
