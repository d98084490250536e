"""K13 orthogonality and norm preservation: the adapter's transform T is orthogonal, TᵀT = I, so ‖T x‖ = ‖x‖.

Measured, not read: on a square layer whose base weight is the identity (claim-kinds.md §1.2 structured weights) the
probe's effective weight W_eff = f(I) − f(0) *is* the transform, on whichever side of W the adapter acts (HRA's
W R, RoAd's R W). At a random non-degenerate state (with `fix` applied, e.g. RoAd's magnitudes set to 1 where the
paper claims norm preservation), T = W_eff must satisfy |TᵀT − I| ≤ 2(n+2) · eps · (|T|ᵀ|T| + I) elementwise,
n = d + the variant's inner length. Non-vacuity: T must be far from I, so the state really rotates or reflects.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, run_property,
                                  set_state)
from fidelity.numerics import fwd_tolerance, margin


def identity_base(case):
    """The case on a square layer (d_in := d_out, which keeps r ≤ d_out and any grouping of d_out) with W = I."""
    return case.with_(d_in=case.d_out, spectrum="identity")


class Orthogonality(Check):
    kind = "orthogonality"
    topic = "forward"

    def __init__(self, fix: Callable | None = None, fix_text: str = "", options: dict | None = None):
        super().__init__(options)
        self.fix, self.fix_text = fix, fix_text  # fix(state) -> trainables overridden before measuring

    def __repr__(self) -> str:
        fix = f"fix={self.fix_text!r}" if self.fix else ""
        opts = str(self.options) if self.options else ""
        return f"Orthogonality({', '.join(p for p in (fix, opts) if p)})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            case = identity_base(case)
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            state = randomize(subject, case, layer, weight, config)
            if self.fix is not None:
                set_state(layer, self.fix(state))
            t, _ = effective_weight(layer, case)  # (d, d): the transform itself, W being I
            eye = torch.eye(case.d_out, dtype=torch.float64)
            n = case.d_out + spec.inner_length(case)
            tol = fwd_tolerance(case.torch_dtype, n, t.abs().T @ t.abs() + eye)
            m = margin(t.T @ t - eye, tol)
            moved = float((t - eye).abs().max())
            measured = {"max_abs_TtT_minus_I": float((t.T @ t - eye).abs().max()), "margin": m,
                        "max_abs_T_minus_I": moved}
            if m > 1.0:
                norms = torch.linalg.svdvals(t)
                raise Violation(f"the transform is not orthogonal: |TᵀT − I| up to {measured['max_abs_TtT_minus_I']:.3g}"
                                f" ({m:.3g}× the tolerance); its singular values span [{float(norms[-1]):.6g}, "
                                f"{float(norms[0]):.6g}] instead of 1 [{case}]", measured)
            if moved <= 10 * float(tol.max()):
                raise RuntimeError(f"non-vacuity guard: the random state leaves the transform at the identity "
                                   f"(|T − I| ≤ {moved:.3g}) [{case}]")
            record.add(case, m, measured)

        fixed = f" with {self.fix_text}" if self.fix else ""
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"on a square layer with W = I the measured transform T satisfies TᵀT = I "
            f"(norms preserved) at random trainable values{fixed} in all {rec.examples} examples (worst margin "
            f"{rec.worst:.2g}; witness |T − I| = {rec.first_measured.get('max_abs_T_minus_I', float('nan')):.3g})",
        )
