"""K12 low-rank form: the factors have the paper's shapes and the measured update ΔW = W_eff − W has rank ≤ r.

The rank is measured, not read: ΔW comes from the effective-weight probe at a random state, and its
(r+1)-th singular value must be below the probe's rounding bound
(non-vacuity: σ_1 must be far above the bound, so the random state really moved ΔW).
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, effective_weight, randomize, run_property
from fidelity.numerics import fwd_tolerance


class LowRank(Check):
    kind = "low_rank"
    topic = "trainable"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)
            shapes = {name: tuple(t.shape) for name, t in layer.roles.items()}
            expected = {r.name: r.shape(case) for r in spec.roles}
            if shapes != expected:
                raise Violation(f"factor shapes {shapes} differ from the paper's {expected} [{case}]")
            roles = randomize(subject, case, layer, weight, config)
            w64 = weight.to(torch.float64)
            b64 = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            w_eff, _ = effective_weight(layer, case)
            sv = torch.linalg.svdvals(w_eff - w64)
            bound = float(torch.linalg.matrix_norm(
                2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case),
                                  w64.abs() + spec.delta_weight_abs(roles, config) + b64)))
            excess = float(sv[case.r]) if case.r < len(sv) else 0.0
            measured = {"sigma_r": float(sv[case.r - 1]), "sigma_r_plus_1": excess, "rounding_bound": bound}
            if excess > bound:
                raise Violation(f"ΔW has rank > r: σ_(r+1) = {excess:.3g} exceeds the rounding bound {bound:.3g} "
                                f"[{case}]", measured)
            if float(sv[0]) <= 100 * bound:
                raise RuntimeError(f"non-vacuity guard: σ_1 = {float(sv[0]):.3g} is not far above the "
                                   f"rounding bound {bound:.3g}: the random state did not move ΔW [{case}]")
            record.add(case, excess / bound if bound else 0.0, measured)

        return run_property(
            prop,
            profile,
            observation=lambda rec: f"factor shapes as in the paper; the measured ΔW has σ_(r+1) below the rounding "
            f"bound while σ_1 is far above it in all {rec.examples} examples (worst σ_(r+1)/bound {rec.worst:.2g})",
        )
