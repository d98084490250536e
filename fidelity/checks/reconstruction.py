"""K08 reconstruction and residual: W_res + U diag(S) Vh = W at init, and the residual is the tail.

Read back the live residual W_res and the frozen factors; with σ = svdvals(W) of the original weight:
‖W_res + U diag(S) Vh − W‖_max, ‖U_rᵀ W_res‖_max, ‖W_res Vh_rᵀ‖_max and |σ(W_res) − σ_(r+1…)| must each be
within T-decomp, 4 max(d_in, d_out) · eps · σ_1(W). An adapter that keeps the identity but crops the wrong
triplets (an at-init-invisible bug) fails here.
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import eps


class Reconstruction(Check):
    kind = "reconstruction"
    topic = "init"

    def run(self, subject: Subject, profile) -> Evidence:
        def prop(case, record):
            layer, weight, _ = subject.build(case)
            state = realised_state(layer)
            w = weight.to(torch.float64)
            w_res, u, s, vh = state["weight"], state["basis_out"], state["singular"], state["basis_in"]
            sigma = torch.linalg.svdvals(w)
            tol = 4 * max(case.d_in, case.d_out) * eps(case.torch_dtype) * float(sigma[0])
            tail = torch.linalg.svdvals(w_res)[: len(sigma) - case.r]
            errors = {
                "reconstruction": float((w_res + (u * s) @ vh - w).abs().max()),
                "U_res": float((u.T @ w_res).abs().max()),
                "res_Vh": float((w_res @ vh.T).abs().max()),
                "tail_singular_values": float((tail - sigma[case.r:]).abs().max()) if len(tail) else 0.0,
            }
            measured = {**errors, "tolerance": tol}
            bad = {k: v for k, v in errors.items() if v > tol}
            if bad:
                raise Violation("the residual is not the tail of the SVD: " + ", ".join(
                    f"{k} error {v:.3g}" for k, v in bad.items()) + f" > {tol:.3g} = 4·max(d)·eps·σ_1 [{case}]",
                    measured)
            record.add(case, max(errors.values()) / tol, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"W_res + U diag(S) Vh = W, U_rᵀ W_res = 0, W_res Vh_rᵀ = 0 and σ(W_res) = "
            f"σ_(r+1…)(W) within 4·max(d)·eps·σ_1 in all {rec.examples} examples (worst margin {rec.worst:.2g})",
        )
