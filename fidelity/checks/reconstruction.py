"""K08 reconstruction and residual: W_res + (initial term) = W at init, and the residual is the tail.

Read back the live residual W_res and the adapter's initial term from the variant spec (`initial_term`: U diag(S) Vh for
the frozen-SVD-basis variants, s B A for PiSSA); with U_r, σ, Vh_r from an independent float64 SVD of the original
weight, ‖W_res + term − W‖_max and |σ(W_res) − σ_(r+1…)| must be within T-decomp, k_d · eps · max(σ_1(W), ‖term‖₂), k_d
= 4 max(d_in, d_out) + 128 (fidelity/numerics.py; W_res = W − term is rounded at the larger of the two scales: an
initial term that is not pre-divided by s, OLoRA's s Q_r R_r, can exceed W); and ‖U_rᵀ W_res‖_max, ‖W_res Vh_rᵀ‖_max
within T-decomp · (1 + 2 σ_(r+1) / gap_r) + 2(r+2)·eps·‖|W| + |term|‖_F: a backward-stable SVD computes the exact SVD of
W + E, ‖E‖ ≤ T-decomp, whose top-r subspace is within ‖E‖ / gap_r of the true one (Davis–Kahan); the implementation's
SVD and the check's each tilt theirs, and the tilt meets the tail's σ_(r+1); forming W_res = W − term rounds each entry
at the scale of |W| + |term|, which the projection sums. (With one tilt and no rounding term the bound held torch's own
SVD to 0.6 of it on a 7 × 4 layer, and exceeded it on a 4 × 4 one in a thorough soak; with both, the worst of 3000
random gapped layers per dtype is 0.31 of it.) An adapter that keeps the identity but crops the wrong triplets, or crops
them at the wrong scale (an at-init-invisible bug), fails here. With `tail=False` only the reconstruction is checked
(inits whose residual is not an SVD tail, e.g. OLoRA's QR).
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import decomp_k, eps
from fidelity.stable import figure


class Reconstruction(Check):
    kind = "reconstruction"
    topic = "init"

    def __init__(self, tail: bool = True, options: dict | None = None):
        super().__init__(options)
        self.tail = tail  # also check that the residual is the tail of W's SVD

    def __repr__(self) -> str:
        return "Reconstruction()" if self.tail else "Reconstruction(tail=False)"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            state = realised_state(layer)
            w = weight.to(torch.float64)
            w_res = state["weight"]
            u, sigma, vh = torch.linalg.svd(w, full_matrices=False)  # independent of the implementation's own SVD
            term = spec.initial_term(state, config)
            scale = max(float(sigma[0]), float(torch.linalg.matrix_norm(term, ord=2)))
            tol = decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * scale
            errors = {"reconstruction": float((w_res + term - w).abs().max())}
            tolerances = {"reconstruction": tol}
            if self.tail:
                r = case.r
                gap = float(sigma[r - 1] - sigma[r]) if r < len(sigma) else float("inf")
                forming = 2 * (r + 2) * eps(case.torch_dtype) * float(torch.linalg.matrix_norm(w.abs() + term.abs()))
                tilt = 1 + (2 * float(sigma[r]) / gap if r < len(sigma) else 0.0)
                tol_sub = tol * tilt + forming if gap > 0 else float("inf")
                tail = torch.linalg.svdvals(w_res)[: len(sigma) - r]
                errors.update({
                    "U_res": float((u[:, :r].T @ w_res).abs().max()),
                    "res_Vh": float((w_res @ vh[:r].T).abs().max()),
                    "tail_singular_values": float((tail - sigma[r:]).abs().max()) if len(tail) else 0.0,
                })
                tolerances.update({"U_res": tol_sub, "res_Vh": tol_sub, "tail_singular_values": tol})
            measured = {**errors, "tolerance": tol, **({"tolerance_subspace": tolerances["U_res"]} if self.tail else {})}
            bad = {k: v for k, v in errors.items() if v > tolerances[k]}
            if bad:
                what = "the residual is not the tail of the SVD" if self.tail else "W_res + initial term ≠ W"
                raise Violation(what + ": " + ", ".join(
                    f"{k} error {figure(v, tolerances[k])} > {tolerances[k]:.3g}" for k, v in bad.items())
                    + f" (k_d·eps·max(σ_1, ‖term‖₂), k_d = 4·max(d) + 128"
                    f"{', ×(1 + 2σ_(r+1)/gap) + 2(r+2)·eps·‖|W| + |term|‖_F for the subspaces' if self.tail else ''})"
                    f" [{case}]",
                    measured)
            record.add(case, max(errors[k] / tolerances[k] for k in errors), measured)

        if self.tail:
            text = "W_res + initial term = W and σ(W_res) = σ_(r+1…)(W) within k_d·eps·max(σ_1, ‖term‖₂), " \
                   "k_d = 4·max(d) + 128, and " \
                   "U_rᵀ W_res = 0, W_res Vh_rᵀ = 0 (U_r, Vh_r from an independent SVD of W) within that ×(1 + " \
                   "2σ_(r+1)/gap) + 2(r+2)·eps·‖|W| + |term|‖_F"
        else:
            text = "W_res + initial term = W within k_d·eps·max(σ_1, ‖term‖₂), k_d = 4·max(d) + 128"
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"{text} in all {rec.examples} examples{rec.worst_clause()}",
        )
