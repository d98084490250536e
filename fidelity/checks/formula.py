"""K12 reference-formula equivalence: at random non-degenerate parameters the forward pass is the paper's formula.

The reference is computed in float64 from the realised tensors (read back, cast up), straight from the
variant's `effective_weight`, never through the implementation's code. Two views are compared, both T-fwd:
the output on a random batch, and the effective weight from the probe W_effᵀ = f(I) − f(0). Most real bugs
in this field are invisible at init, so this runs after moving every trainable to a random state.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import replace

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, effective_weight,
                                  reference_output, run_property)
from fidelity.numerics import fwd_k, fwd_tolerance, margin
from fidelity.stable import figure, ratio


class Formula(Check):
    kind = "formula"
    topic = "forward"

    def __init__(self, reading=None, reading_text: str = "", options: dict | None = None,
                 witnesses: tuple = (), witnesses_text: str = ""):
        super().__init__(options)
        # (state, config[, dtype]) -> (W_eff, |W_eff|) of another stated reading, in place of the variant's own formula:
        # only as the alternative property of a declaration (e.g. AdaLoRA's official α/(r + 1e-5) scale); a reading
        # with a `dtype` parameter receives the layer's dtype (a constant such as finfo(dtype).eps)
        self.reading, self.reading_text = reading, reading_text
        # cases the claim always runs besides the variant's witnesses (e.g. a small-norm layer), and why
        self.witnesses, self.witnesses_text = tuple(witnesses), witnesses_text

    def __repr__(self) -> str:
        parts = ([f"reading={self.reading_text!r}"] if self.reading else []) + \
            ([f"witnesses: {self.witnesses_text}"] if self.witnesses else []) + ([str(self.options)] if self.options else [])
        return f"Formula({', '.join(parts)})"

    def run(self, subject: Subject, profile) -> Evidence:
        base_spec = subject.variant
        takes_dtype = self.reading is not None and "dtype" in inspect.signature(self.reading).parameters

        def prop(case, record):
            spec = base_spec
            if self.reading is not None:
                reading = functools.partial(self.reading, dtype=case.torch_dtype) if takes_dtype else self.reading
                spec = replace(base_spec, effective_weight=reading)
            config, layer, weight, bias, state = build_randomized(subject, case)
            x = inputs(case)
            x64, w64, b64 = x.to(torch.float64), weight.to(torch.float64), bias64(bias, case)
            y_ref, y_abs, (w_ref, w_abs), (b_ref, b_abs) = reference_output(spec, state, config, x64, b64)
            n = spec.inner_length(case)

            with torch.no_grad():
                y = layer(x).to(torch.float64)
            tol_y = fwd_tolerance(case.torch_dtype, n, y_abs)
            m_y = margin(y - y_ref, tol_y)

            w_eff, b_eff = effective_weight(layer, case)
            tol_w = 2 * fwd_tolerance(case.torch_dtype, n, w_abs + b_abs[:, None])
            if float((w_ref - w64).abs().max()) <= 10 * float(tol_w.max()):
                raise RuntimeError(f"non-vacuity guard: the random state barely changes the weight [{case}]")
            m_w = margin(w_eff - w_ref, tol_w)
            m_b = margin(b_eff - b_ref, fwd_tolerance(case.torch_dtype, n, b_abs))
            measured = {
                "max_abs_err_output": float((y - y_ref).abs().max()),
                "margin_output": m_y,
                "max_abs_err_weight": float((w_eff - w_ref).abs().max()),
                "margin_weight": m_w,
                "margin_bias": m_b,
                "k": fwd_k(n),
            }
            if max(m_y, m_w, m_b) > 1.0:
                raise Violation(
                    f"forward pass differs from the paper's formula: output error "
                    f"{figure(measured['max_abs_err_output'], float(tol_y.max()))} (margin {ratio(m_y)}), "
                    f"effective-weight margin {ratio(m_w)}, bias margin {ratio(m_b)}, tolerance "
                    f"2(n+2)·eps·scale with n={n} [{case}]",
                    measured,
                )
            record.add(case, max(m_y, m_w, m_b), measured)

        return run_property(
            prop, profile, subject, witnesses=self.witnesses,
            observation=lambda rec: f"output, effective weight and bias equal the float64 formula"
            f"{' (' + self.reading_text + ')' if self.reading else ''} at random "
            f"trainable values within 2(n+2)·eps(dtype)·scale in all {rec.examples} examples{rec.worst_clause()}",
        )
