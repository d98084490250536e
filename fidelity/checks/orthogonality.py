"""K13 orthogonality and norm preservation: the adapter's transform T is orthogonal, TᵀT = I, so ‖T x‖ = ‖x‖.

Measured, not read: on a square layer whose base weight is the identity (claim-kinds.md §1.2 structured weights) the
probe's effective weight W_eff = f(I) − f(0) *is* the transform, on whichever side of W the adapter acts (HRA's
W R, RoAd's R W). At a random non-degenerate state (with `fix` applied, e.g. RoAd's magnitudes set to 1 where the
paper claims norm preservation), T = W_eff must satisfy |TᵀT − I| ≤ 2(n+2) · eps · (c cᵀ + I) elementwise,
c the column norms of T, n = d + the variant's inner length. The scale is normwise because T's own rounding is: an
entry of TᵀT near zero is still off by about eps · c_i c_j (c cᵀ ≥ |T|ᵀ|T| by Cauchy–Schwarz, the elementwise scale
this replaces, which fell below the rounding of a product of two Householder reflections on 1 example in 1000).
Non-vacuity: T must be far from I, so the state really rotates or reflects.
With `at_init`, T is measured at the implementation's own init instead (no random state, no `fix`): for a variant
that is orthogonal but not an identity from step 0 (HRA's Gram–Schmidt variant). A T with NaN or infinite entries
fails (the margin of a NaN would otherwise compare as a pass).
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, run_property,
                                  set_state)
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import magnitude, noisy


def identity_base(case):
    """The case on a square layer (d_in := d_out, which keeps r ≤ d_out and any grouping of d_out) with W = I."""
    return case.with_(d_in=case.d_out, spectrum="identity")


class Orthogonality(Check):
    kind = "orthogonality"
    topic = "forward"

    def __init__(self, fix: Callable | None = None, fix_text: str = "", options: dict | None = None,
                 at_init: bool = False):
        super().__init__(options)
        self.fix, self.fix_text = fix, fix_text  # fix(state) -> trainables overridden before measuring
        self.at_init = at_init  # measure the implementation's own init, not a random state

    def __repr__(self) -> str:
        fix = f"fix={self.fix_text!r}" if self.fix else ""
        opts = str(self.options) if self.options else ""
        init = "at_init=True" if self.at_init else ""
        return f"Orthogonality({', '.join(p for p in (fix, init, opts) if p)})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            case = identity_base(case)
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            if not self.at_init:
                state = randomize(subject, case, layer, weight, config)
                if self.fix is not None:
                    set_state(layer, self.fix(state))
            t, _ = effective_weight(layer, case)  # (d, d): the transform itself, W being I
            if not torch.isfinite(t).all():
                bad = int((~torch.isfinite(t)).sum())
                raise Violation(f"the transform has {bad} NaN or infinite entries of {t.numel()} [{case}]",
                                {"non_finite_entries": float(bad)})
            eye = torch.eye(case.d_out, dtype=torch.float64)
            n = case.d_out + spec.inner_length(case)
            columns = torch.linalg.norm(t, dim=0)  # (d,) column norms c of T
            tol = fwd_tolerance(case.torch_dtype, n, torch.outer(columns, columns) + eye)
            m = margin(t.T @ t - eye, tol)
            moved = float((t - eye).abs().max())
            measured = {"max_abs_TtT_minus_I": float((t.T @ t - eye).abs().max()), "margin": m,
                        "max_abs_T_minus_I": moved}
            if m > 1.0:
                norms = torch.linalg.svdvals(t)
                # a non-orthogonal transform may be rounding amplified (Gram–Schmidt on dependent vectors): orders only
                raise Violation(f"the transform is not orthogonal: |TᵀT − I| up to "
                                f"{magnitude(measured['max_abs_TtT_minus_I'])} ({magnitude(m)}× the tolerance); its "
                                f"singular values are not all 1"
                                + noisy(f" (they span [{float(norms[-1]):.3g}, {float(norms[0]):.3g}])")
                                + f" [{case}]", measured)
            if moved <= 10 * float(tol.max()):
                raise RuntimeError(f"non-vacuity guard: the {'init' if self.at_init else 'random state'} leaves the "
                                   f"transform at the identity "
                                   f"(|T − I| ≤ {moved:.3g}) [{case}]")
            record.add(case, m, measured)

        fixed = f" with {self.fix_text}" if self.fix else ""
        where = "at init" if self.at_init else f"at random trainable values{fixed}"
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"on a square layer with W = I the measured transform T satisfies TᵀT = I "
            f"(norms preserved) {where} in all {rec.examples} examples (witness |T − I| = "
            f"{rec.first_measured.get('max_abs_T_minus_I', float('nan')):.3g}){rec.worst_clause()}",
        )
