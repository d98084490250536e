"""K12 low-rank form: the measured update has rank ≤ the paper's bound (r by default; LoHa's r², say).

The rank is measured, not read: the update is the probe's W_eff minus the variant's unscaled part (W for
LoRA), at a random state where only the low-rank term is non-zero; its (r+1)-th singular value must be below
the probe's rounding bound (non-vacuity: σ_1 must be far above the bound, so the random state moved it).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from fidelity.cases import LayerCase
from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, realised_state,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure, plotted


class LowRank(Check):
    kind = "low_rank"
    topic = "trainable"

    def __init__(self, bound: Callable[[LayerCase], int] | None = None, text: str = "", options: dict | None = None):
        super().__init__(options)
        # the claim's rank bound as a function of the case, and how the paper writes it; None: the variant's rank
        self.bound, self.text = bound, text

    def __repr__(self) -> str:
        extra = [f"bound={self.text!r}"] if self.bound is not None else []
        return f"LowRank({', '.join(extra + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        vacuous = []  # examples where the bound is at least min(d_out, d_in): every matrix satisfies it
        plot = {}  # the witness's σ_i/σ_1 of the measured update (None: below the rounding bound), for the figure

        def prop(case, record):
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)  # the roles' shapes are validated here
            state = randomize(subject, case, layer, weight, config)
            set_state(layer, spec.isolate_scaled(state))
            state = realised_state(layer)
            rank = getattr(case, spec.rank_field) if self.bound is None else self.bound(case)
            w_ref, w_abs = spec.effective_weight(state, config)
            delta, _ = spec.scaled_delta(state, config)
            b64 = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            w_eff, _ = effective_weight(layer, case)
            sv = torch.linalg.svdvals(w_eff - (w_ref - delta))
            bound = float(torch.linalg.matrix_norm(
                2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b64)))
            excess = float(sv[rank]) if rank < len(sv) else 0.0
            if record.runs == 1 and float(sv[0]) > 0:
                top = float(sv[0])
                plot.update(rank=rank, bound=plotted(bound / top, 1),
                            sigma=[plotted(float(s) / top, 2) if float(s) > bound else None
                                   for s in sv[:min(len(sv), rank + 4)]])
            measured = {"sigma_1": float(sv[0]), "sigma_rank_plus_1": excess, "rounding_bound": bound}
            if not (excess <= bound):
                raise Violation(f"the update has rank > {rank}: σ_{rank + 1} = {figure(excess, bound)} exceeds the "
                                f"rounding bound {figure(bound, bound * 1e-6)} [{case}]", measured)
            if float(sv[0]) <= 10 * bound:
                raise RuntimeError(f"non-vacuity guard: σ_1 = {float(sv[0]):.3g} is not far above the "
                                   f"rounding bound {bound:.3g}: the random state did not move the update [{case}]")
            record.add(case, excess / bound if bound else 0.0, measured)
            if rank >= min(case.d_in, case.d_out):
                vacuous.append(str(case))

        evidence = run_property(
            prop, profile, subject,
            observation=lambda rec: f"the measured update has σ_(rank+1) below the rounding bound while σ_1 is far "
            f"above it in all {rec.examples} examples{rec.worst_clause('worst σ_(rank+1)/bound')}"
            + (" (vacuous in every example: the rank bound is at least min(d_out, d_in); the claim needs smaller ranks)"
               if len(vacuous) == rec.examples else f" ({len(vacuous)} of them vacuous: rank bound ≥ min(d_out, d_in))"
               if vacuous else ""),
        )
        evidence.figure = plot
        return evidence
