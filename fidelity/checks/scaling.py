"""K07 scaling law, measured through the forward pass, never by reading a `scaling` attribute.

At a random state the realised scale is the least-squares fit ŝ = ⟨Δy, z⟩ / ⟨z, z⟩ of the output change
Δy = y' − y against the unscaled update z = x Mᵀ (M = ΔW / s from the variant's formula). It is measured at
(α, r), at (2α, r) with the same factors, and at a padded rank r' > r holding the same product (zero rows of A,
zero columns of B), and each must equal the claimed law. The tolerance on ŝ is ‖tol(Δy)‖₂ / ‖z‖₂ with the
elementwise T-fwd bound of both forward passes.
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, float64_roles, randomize, run_property,
                                  set_roles)
from fidelity.numerics import fwd_tolerance


class Scaling(Check):
    kind = "scaling"
    topic = "scaling"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def measure(case, config, layer, weight, bias, roles):
            """Return (ŝ, its tolerance) for this layer in its current state."""
            x = inputs(case)
            with torch.no_grad():
                dy = layer(x).to(torch.float64) - layer.base_forward(x).to(torch.float64)
            x64, w64 = x.to(torch.float64), weight.to(torch.float64)
            b_abs = bias.abs().to(torch.float64) if bias is not None else 0.0
            s_claimed = spec.scaling(config)
            unscaled = spec.delta_weight(roles, config) / s_claimed
            z = x64 @ unscaled.T
            base_scale = x64.abs() @ w64.abs().T + b_abs
            adapted_scale = base_scale + x64.abs() @ spec.delta_weight_abs(roles, config).T
            n = spec.inner_length(case)
            tol_dy = fwd_tolerance(case.torch_dtype, n, adapted_scale) + fwd_tolerance(case.torch_dtype, n, base_scale)
            zz = float((z * z).sum())
            if zz == 0.0:
                raise RuntimeError(f"non-vacuity guard: the unscaled update is zero on this input [{case}]")
            s_hat = float((dy * z).sum()) / zz
            return s_hat, float(tol_dy.norm()) / zz**0.5, s_claimed

        def prop(case, record):
            measured, worst = {}, 0.0
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)
            roles = randomize(subject, case, layer, weight, config)
            points = [("", case, roles)]
            points.append(("2alpha_", case.with_(alpha=2 * case.alpha), roles))
            if spec.pad_rank is not None:
                extra = 1 + case.seed % 4
                points.append((f"r+{extra}_", case.with_(r=case.r + extra), spec.pad_rank(roles, case.r + extra)))
            for label, point_case, point_roles in points:
                point_config = subject.config(point_case)
                if label:
                    layer, weight, bias = subject.build(point_case, point_config)
                    set_roles(layer, point_roles)
                realised = float64_roles(layer)
                s_hat, tol, s_claimed = measure(point_case, point_config, layer, weight, bias, realised)
                measured[f"{label}s_measured"] = s_hat
                measured[f"{label}s_claimed"] = s_claimed
                m = abs(s_hat - s_claimed) / tol if tol else float("inf")
                worst = max(worst, m)
                if m > 1.0:
                    raise Violation(
                        f"measured scale {s_hat:.6g} ≠ claimed {s_claimed:.6g} at alpha={point_case.alpha:g}, "
                        f"r={point_case.r} (tolerance {tol:.2g}) [{point_case}]",
                        measured,
                    )
            record.add(case, worst, measured)

        return run_property(
            prop,
            profile,
            observation=lambda rec: f"scale measured from the output change equals the claimed law at (α, r), "
            f"(2α, r) and a zero-padded rank r' > r in all {rec.examples} examples; worst margin {rec.worst:.2g} "
            f"(witness α=16, r=8: measured {rec.first_measured.get('s_measured', float('nan')):.6g})",
        )
