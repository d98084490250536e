"""K06/K24 initial values: at init a role (trainable or frozen) holds the value the paper's formula gives, e.g. DoRA's
m = ‖W0‖_c (one norm per output row), DeLoRA's per-input-column norms ‖W_{:,j}‖, VeRA's λ_d = d_initial.

`expected(case, W, config)` computes the paper's value in float64 from the original weight; the realised tensor must
have its shape and equal it within 2(n+2) · eps · |expected|, n = max(d_in, d_out) (a norm or a cast in the
implementation's dtype). On an uneven weight (rows and columns on different scales, cases.py) a norm over the wrong
axis, or a scalar norm broadcast, is orders of magnitude off. `contrast` names the rival reading; where it has the
same shape it must be far from the paper's value on the case, else the check reports an error (cannot tell them
apart) rather than a pass.

`staged` names the dtype in which an implementation may create a hyper-parameter constant before casting it to the
layer's dtype (peft.md §5: PEFT fills VeRA's d_initial into a float32 tensor, so 0.1 is realised as 0.10000000149 in a
float64 layer): the tolerance's eps is then the coarser of that dtype's and the case's. Default: none.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property
from fidelity.numerics import DTYPES, fwd_tolerance, margin
from fidelity.stable import figure, magnitude, ratio


class InitValue(Check):
    kind = "init_value"
    topic = "init"

    def __init__(self, role: str, expected: Callable, text: str, contrast: Callable | None = None,
                 contrast_text: str = "", options: dict | None = None, staged: str = ""):
        super().__init__(options)
        self.role, self.expected, self.text = role, expected, text
        self.contrast, self.contrast_text = contrast, contrast_text
        self.staged = staged  # "" or the dtype a hyper-parameter constant may be created in before the cast

    def __repr__(self) -> str:
        return f"InitValue(role={self.role!r}, {self.text!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        def prop(case, record):
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            value = layer.read(self.role).detach().to(torch.float64)
            w64 = weight.to(torch.float64)
            want = self.expected(case, w64, config).to(torch.float64)
            measured = {}
            if tuple(value.shape) != tuple(want.shape):
                raise Violation(f"'{self.role}' has shape {tuple(value.shape)} at init; {self.text} has shape "
                                f"{tuple(want.shape)} [{case}]", measured)
            dtype = case.torch_dtype
            if self.staged and torch.finfo(DTYPES[self.staged]).eps > torch.finfo(dtype).eps:
                dtype = DTYPES[self.staged]  # a constant created in a coarser dtype carries that dtype's rounding
            tol = fwd_tolerance(dtype, max(case.d_in, case.d_out), want.abs())
            m = margin(value - want, tol)
            measured.update({"max_abs_err": float((value - want).abs().max()), "margin": m})
            if m > 1.0:
                worst = measured["max_abs_err"]
                # an error at float32's rounding level (a value staged or computed in float32) is itself rounding:
                # committed as its power of ten, like its margin
                float32_level = 1e3 * torch.finfo(torch.float32).eps * (float(want.abs().max()) + 1e-300)
                shown = magnitude(worst) if worst < float32_level else figure(worst, float(tol.max()))
                margin_shown = magnitude(m) if worst < float32_level else ratio(m)
                raise Violation(f"'{self.role}' at init differs from {self.text} by up to {shown} ({margin_shown}× "
                                f"the tolerance) [{case}]", measured)
            if self.contrast is not None:
                rival = self.contrast(case, w64, config).to(torch.float64)
                if rival.shape == want.shape:
                    separation = margin(rival - want, tol)
                    measured["contrast_margin"] = separation
                    if separation <= 10.0:
                        raise RuntimeError(f"non-vacuity guard: the {self.contrast_text} reading is within "
                                           f"{separation:.3g}× the tolerance of {self.text} on this case [{case}]")
            record.add(case, m, measured)

        rival = f"; the {self.contrast_text} reading is far from it" if self.contrast is not None else ""
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"'{self.role}' at init equals {self.text} in all {rec.examples} examples"
            f"{rec.worst_clause()}{rival}",
        )
