"""K07 scaling law, measured through the forward pass, never by reading a `scaling` attribute.

At a random state where only the scaled term moves, the realised scale is the least-squares fit
ŝ = ⟨Δy, z⟩ / ⟨z, z⟩ of the output change Δy = y' − x (W_eff − D)ᵀ − b against the unscaled term z = x (D/s)ᵀ,
where D is the variant's scaled term and the rest of W_eff is computed in float64 from the realised state.
ŝ is measured at (α, r), at (2α, r) with the same factors, and at a padded rank r' > r holding the same
product; each must equal the claim's law. The tolerance on ŝ is ‖tol(y')‖₂ / ‖z‖₂ with the elementwise
T-fwd bound of the forward pass.

`InitScaling` is K07 for SVD-splitting inits that rewrite the base (PiSSA): how α enters the factors' magnitudes
and the residual at init (see its docstring).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, build_randomized, realised_state, run_property,
                                  set_state)
from fidelity.numerics import decomp_k, eps, fwd_tolerance
from fidelity.stable import figure, plotted


class Scaling(Check):
    kind = "scaling"
    topic = "scaling"

    def __init__(self, law: Callable, law_text: str, options: dict | None = None):
        super().__init__(options)
        self.law, self.law_text = law, law_text  # law(case, config) -> the scale the claim states

    def __repr__(self) -> str:
        return f"Scaling(law={self.law_text}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def measure(case, config, layer, bias) -> tuple[float, float]:
            """(ŝ, its tolerance) for this layer in its current state."""
            state = realised_state(layer)
            x = inputs(case)
            x64 = x.to(torch.float64)
            b64 = bias.to(torch.float64) if bias is not None else 0.0
            w_ref, w_abs = spec.effective_weight(state, config)
            delta, _ = spec.scaled_delta(state, config)
            with torch.no_grad():
                dy = layer(x).to(torch.float64) - x64 @ (w_ref - delta).T - b64
            z = x64 @ (delta / spec.scaling(config)).T
            b_abs = bias.abs().to(torch.float64) if bias is not None else 0.0
            tol = fwd_tolerance(case.torch_dtype, spec.inner_length(case), x64.abs() @ w_abs.T + b_abs)
            zz = float((z * z).sum())
            if zz == 0.0:
                raise RuntimeError(f"non-vacuity guard: the unscaled update is zero on this input [{case}]")
            return float((dy * z).sum()) / zz, float(tol.norm()) / zz**0.5

        plot = []  # the witness's (α, rank, ŝ, claimed) points, for the review's figure

        def prop(case, record):
            measured, worst = {}, 0.0
            config, layer, weight, bias, state = build_randomized(subject, case)
            set_state(layer, spec.isolate_scaled(state))
            trained = {k: v for k, v in realised_state(layer).items() if k in layer.roles}
            points = [("", case, None), ("2alpha_", case.with_(alpha=2 * case.alpha), trained)]
            rank = min(getattr(case, spec.rank_field) + 1 + case.seed % 4, spec.max_rank(case))
            if spec.pad_rank is not None and rank > getattr(case, spec.rank_field):
                points.append(("padded_", case.with_(**{spec.rank_field: rank}), spec.pad_rank(trained, rank)))
            for label, point_case, point_state in points:
                point_config = subject.config(point_case)
                if point_state is not None:
                    layer, _, bias = subject.build(point_case, point_config)
                    set_state(layer, point_state)
                s_hat, tol = measure(point_case, point_config, layer, bias)
                s_claimed = self.law(point_case, point_config)
                measured[f"{label}s_measured"], measured[f"{label}s_claimed"] = s_hat, s_claimed
                measured[f"{label}s_tolerance"] = tol
                if record.runs == 1:
                    plot.append([point_case.alpha, getattr(point_case, spec.rank_field), plotted(s_hat, 4),
                                 plotted(s_claimed, 4)])
                m = abs(s_hat - s_claimed) / tol if tol else float("inf")
                worst = max(worst, m)
                if not (m <= 1.0):
                    raise Violation(f"measured scale {figure(s_hat, tol, 10)} ≠ claimed {self.law_text} = "
                                    f"{s_claimed:.10g} at alpha={point_case.alpha:g}, "
                                    f"{spec.rank_field}={getattr(point_case, spec.rank_field)} (tolerance "
                                    f"{figure(tol, tol * 1e-6, 2)}) [{point_case}]", measured)
            record.add(case, worst, measured)

        evidence = run_property(
            prop, profile, subject,
            observation=lambda rec: f"scale measured from the output change equals {self.law_text} at (α, "
            f"{spec.rank_field}), (2α, {spec.rank_field}) and a zero-padded larger {spec.rank_field} in all "
            f"{rec.examples} examples (witness: measured "
            f"{figure(rec.first_measured.get('s_measured', math.nan), rec.first_measured.get('s_tolerance', 0.0), 6)})"
            f"{rec.worst_clause()}",
        )
        if plot:
            evidence.figure = {"law": self.law_text, "rank_field": spec.rank_field, "points": plot}
        return evidence


class InitScaling(Check):
    """K07 for inits that split W's top-r SVD into the two factors and rewrite the base (PiSSA, CorDA).

    Built at init for α ∈ {r/2, r, 2r} with everything else fixed, an init-scaling law states the factors' magnitudes:
    every Gram matrix of the spec's `factor_grams` (A Aᵀ and Bᵀ B for a symmetric √S split) must equal diag(σ_1…σ_r(W))
    / d(α), d = law(case, config) (σ from an independent float64 SVD of W), within T-decomp k_d · eps · σ_1 / d
    (T-decomp, k_d = 4 max(d_in, d_out) + 128); and the rewritten base W_res must be the same at every α, within twice
    that bound — with the identity at init (its own claim) an unchanged W_res is an unchanged initial update. The
    paper's own magnitudes are d = 1 (√S_r whatever α); PEFT's pre-division by s = α/r gives d = s.
    """

    kind = "scaling"
    topic = "scaling"

    def __init__(self, law: Callable, law_text: str, options: dict | None = None):
        super().__init__(options)
        self.law, self.law_text = law, law_text  # law(case, config) -> d, the divisor of S_r in the factors' Grams

    def __repr__(self) -> str:
        return f"InitScaling(law={self.law_text}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        if spec.factor_grams is None:
            raise RuntimeError(f"variant {spec.name} has no factor_grams hook; InitScaling reads the factors' Gram "
                               f"matrices through it (see fidelity/variants/pissa.py)")

        def prop(case, record):
            measured, worst, first_res = {}, 0.0, None
            for label, alpha in (("half_r", case.r / 2), ("r", float(case.r)), ("2r", 2.0 * case.r)):
                point = case.with_(alpha=alpha)
                config = subject.config(point)
                layer, weight, _ = subject.build(point, config)
                state = realised_state(layer)
                sigma = torch.linalg.svdvals(weight.to(torch.float64))
                tol = decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * float(sigma[0])
                d = self.law(point, config)
                for name, gram in spec.factor_grams(state).items():
                    err = float((gram - torch.diag(sigma[: case.r] / d)).abs().max())
                    measured[f"{label}_{name}_error"] = err
                    worst = max(worst, err / (tol / d))
                    if err > tol / d:
                        raise Violation(f"at alpha={alpha:g} the factors' {name} differs from diag(S_r)/d with d = "
                                        f"{self.law_text} = {d:.6g} by {figure(err, tol / d)} (tolerance "
                                        f"{figure(tol / d, tol * 1e-6 / d)}; measured d from the trace: "
                                        f"{figure(float(sigma[: case.r].sum() / gram.trace()), tol, 6)}) "
                                        f"[{point}]", measured)
                if first_res is None:
                    first_res = state["weight"]
                    continue
                err = float((state["weight"] - first_res).abs().max())
                measured[f"{label}_W_res_change"] = err
                worst = max(worst, err / (2 * tol))
                if not (err <= 2 * tol):
                    raise Violation(f"W_res depends on alpha: at alpha={alpha:g} it differs from its value at alpha="
                                    f"{case.r / 2:g} by {figure(err, tol)} (tolerance {figure(2 * tol, tol * 1e-6)}) "
                                    f"[{point}]", measured)
            record.add(case, worst, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"at α ∈ {{r/2, r, 2r}} the factors' Grams equal diag(S_r)/d with d = "
            f"{self.law_text}, and W_res is the same at every α, within k_d·eps·σ_1 (k_d = 4·max(d) + 128), in all "
            f"{rec.examples} examples{rec.worst_clause()}",
        )
