"""K14 regulariser: the term the implementation adds to the training loss is the paper's (HRA Eq. 6's
λ‖I − UᵀU‖²_F, AdaLoRA's γ(‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F)), weight included.

Read from the implementation (the binding's `regularizer`, e.g. PEFT's AdaLoRA loss term from a forward pass that
returns a loss) at a random non-degenerate state, where the factors are far from orthogonal, and compared with the
variant's `regularizer` formula computed in float64 from the realised state: |R_impl − R_paper| ≤ 2(n+2)·eps·scale,
scale = the formula on absolute values, n = the longest inner product (d_in or d_out). An implementation that adds no
such term has its cell N/A with that reason (the paper's λ = 0 variant); a value of the wrong form is a DEVIATES, with
the ratio to the paper's value reported.
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, build_randomized, run_property
from fidelity.impls.base import NotProvided
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure


class Regularizer(Check):
    kind = "regularizer"
    topic = "regularizer"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        if spec.regularizer is None:
            raise RuntimeError(f"variant {spec.name} states no regularizer formula (VariantSpec.regularizer)")
        if subject.build(subject.adapt(spec.witness))[0].regularizer is None:  # decided before hypothesis runs
            raise NotProvided(f"{subject.binding.label} adds no regularisation term for {spec.name}")

        def prop(case, record):
            config, layer, weight, _, state = build_randomized(subject, case)
            value = float(layer.regularizer().detach().to(torch.float64))
            paper, scale = spec.regularizer(state, config)
            paper, scale = float(paper), float(scale)
            tol = float(fwd_tolerance(case.torch_dtype, max(case.d_in, case.d_out) + case.r,
                                      torch.tensor(scale, dtype=torch.float64)))
            measured = {"implementation": value, "paper": paper, "ratio": value / paper if paper else float("nan"),
                        "tolerance": tol}
            if paper <= 10 * tol:
                raise RuntimeError(f"non-vacuity guard: the paper's regulariser is {paper:.3g} at this random state, "
                                   f"not far above the rounding {tol:.3g} [{case}]")
            if not (abs(value - paper) <= tol):
                raise Violation(f"the regularisation term added to the loss is {figure(value, tol, 4)}, the paper's "
                                f"formula gives {figure(paper, tol, 4)} (ratio {figure(value / paper, tol / paper)}; "
                                f"tolerance {tol:.2g}) [{case}]", measured)
            record.add(case, abs(value - paper) / tol, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"the loss term equals the paper's regulariser at random trainable values in all "
            f"{rec.examples} examples (witness value "
            f"{figure(rec.first_measured.get('paper', float('nan')), rec.first_measured.get('tolerance', 0.0), 6)})"
            f"{rec.worst_clause()}",
        )
