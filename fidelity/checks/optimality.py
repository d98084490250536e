"""K20 optimality: the adapter's initial term is the best rank-r approximation of W (Eckart–Young).

Read back the initial term T from the variant spec (`initial_term`: s B A for PiSSA) at init. With σ from an independent
float64 SVD of the original W, T must have rank ≤ r (σ_(r+1)(T) ≤ tolerance) and reach the Eckart–Young minimum, ‖W −
T‖_F = (Σ_{i>r} σ_i²)^{1/2}; since no rank-r matrix does better, equality certifies optimality. Tolerance: T-decomp in
the Frobenius norm, k_d · eps · σ_1 · √min(d_in, d_out), k_d = 4 max(d_in, d_out) + 128 (fidelity/numerics.py; the
rounding E of a backward-stable SVD has ‖E‖₂ ≤ k_d eps σ_1 and rank ≤ min(d)). Non-vacuity: the next-best SVD crop
(σ_(r+1) kept in place of σ_r) must miss the minimum by more than 10× the tolerance, so a crop of the wrong triplets, or
of the right ones at the wrong scale, cannot pass.

With `weighting=` a calibration `Reading` (CorDA's W C, ASVD's W S) the minimum is the weighted one,
‖(W − T) M‖_F = (Σ_{i>r} σ_i(W M)²)^{1/2}: see `weighted_optimality` in fidelity/checks/calibration_statistic.py.
"""

from __future__ import annotations

import math

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import decomp_k, eps
from fidelity.stable import figure


class Optimality(Check):
    kind = "optimality"
    topic = "init"

    def __init__(self, weighting=None, options: dict | None = None):
        super().__init__(options)
        # A calibration `Reading` (fidelity/checks/calibration_statistic.py): the minimum is then the weighted one,
        # ‖(W − T) M‖_F = (Σ_{i>r} σ_i(W M)²)^{1/2}, for whitening inits (CorDA's W C, ASVD's W S).
        self.weighting = weighting
        if weighting is not None:
            self.topic = "calibration"  # the review cites where the statistic and its decomposition are computed

    def __repr__(self) -> str:
        return f"Optimality(weighting={self.weighting.text})" if self.weighting else super().__repr__()

    def run(self, subject: Subject, profile) -> Evidence:
        if self.weighting is not None:
            from fidelity.checks.calibration_statistic import weighted_optimality

            return weighted_optimality(self.weighting, subject, profile)
        spec = subject.variant

        def prop(case, record):
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            w = weight.to(torch.float64)
            term = spec.initial_term(realised_state(layer), config)
            sigma = torch.linalg.svdvals(w)
            r = case.r
            tol = decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * float(sigma[0]) * math.sqrt(len(sigma))
            optimum = float(sigma[r:].norm())
            next_best = math.sqrt(max(optimum**2 - float(sigma[r]) ** 2 + float(sigma[r - 1]) ** 2, 0.0)) \
                if r < len(sigma) else optimum
            error = float((w - term).norm())
            rank_excess = float(torch.linalg.svdvals(term)[r]) if r < len(sigma) else 0.0
            measured = {"approximation_error": error, "eckart_young_minimum": optimum, "excess": error - optimum,
                        "sigma_r_plus_1_of_term": rank_excess, "tolerance": tol}
            if r < len(sigma) and next_best - optimum <= 10 * tol:
                raise RuntimeError(f"non-vacuity: the next-best SVD crop is only {next_best - optimum:.3g} worse than "
                                   f"the optimum; the check cannot tell them apart [{case}]")
            if not (rank_excess <= tol):
                raise Violation(f"the initial term has rank > r: σ_(r+1) = {figure(rank_excess, tol)} > {tol:.3g} "
                                f"[{case}]", measured)
            if not (abs(error - optimum) <= tol):
                raise Violation(f"‖W − initial term‖_F = {figure(error, tol, 6)}, the Eckart–Young minimum is "
                                f"{figure(optimum, tol, 6)} (excess {figure(error - optimum, tol)} > {tol:.3g} = "
                                f"k_d·eps·σ_1·√min(d), k_d = 4·max(d) + 128) [{case}]", measured)
            record.add(case, max(abs(error - optimum), rank_excess) / tol, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"the initial term has rank ≤ r and ‖W − term‖_F equals the Eckart–Young minimum "
            f"(Σ_(i>r) σ_i²)^½ within k_d·eps·σ_1·√min(d), k_d = 4·max(d) + 128, in all {rec.examples} examples"
            f"{rec.worst_clause()}",
        )
