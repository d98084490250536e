"""K01 zero-init identity: at init the adapted layer equals the base layer.

EXACT variants (the zero factor's contribution is structurally zero in the same dtype, `y + 0 == y`) must be
bit-exact (history C.15: relaxed tolerances hid near-zero inits). RECON variants rewrite W to W_res and add the
initial term back, so they equal the base up to that rounding: |y' − y| ≤ 4 max(d_in, d_out) · eps · (|x| Mᵀ + |b|)
(T-decomp scaled forward error), with the output dtype unchanged. M = max(|W|, |W_eff|abs) elementwise, where
|W_eff|abs is the variant's formula on absolute values at the realised init state (|W_res| + |term|): the adapted
path rounds at the scale of its own terms, which exceed |W| when the initial term is not pre-divided (OLoRA at α ≫ r).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import eps, margin
from fidelity.stable import figure, magnitude, ratio


class Identity(Check):
    kind = "identity"
    topic = "init"

    def run(self, subject: Subject, profile) -> Evidence:
        exact = subject.variant.identity == "exact"

        def prop(case, record):
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)
            x = inputs(case)
            with torch.no_grad():
                y_adapted, y_base = layer(x), layer.base_forward(x)
            err = (y_adapted.to(torch.float64) - y_base.to(torch.float64)).abs()
            measured = {"max_abs_diff": float(err.max())}
            if y_adapted.dtype != y_base.dtype:
                raise Violation(f"output dtype {y_adapted.dtype} differs from the base's {y_base.dtype}", measured)
            if exact:
                if not torch.equal(y_adapted, y_base):
                    # a difference at rounding level (a few eps of the output) is committed as its power of ten
                    worst, size = float(err.max()), float(y_base.abs().max().to(torch.float64)) + 1.0
                    shown = magnitude(worst) if worst < 1e3 * eps(case.torch_dtype) * size else f"{worst:.3g}"
                    raise Violation(f"at init the adapted output differs from the base output by up to {shown} "
                                    f"(required: bit-exact equality) [{case}]", measured)
                record.add(case, 0.0, measured)
                return
            x64, b64 = x.to(torch.float64), (bias.abs().to(torch.float64) if bias is not None else 0.0)
            k = 4 * max(case.d_in, case.d_out)
            _, w_abs = subject.variant.effective_weight(realised_state(layer), config)
            scale = torch.maximum(weight.abs().to(torch.float64), w_abs)  # (d_out, d_in)
            tol = k * eps(case.torch_dtype) * (x64.abs() @ scale.T + b64)
            measured["margin"] = m = margin(err, tol)
            if m > 1.0:
                raise Violation(f"at init the adapted output differs from the base output by up to "
                                f"{figure(float(err.max()), float(tol.max()))}, {ratio(m)}× the rounding bound "
                                f"{k}·eps·(|x|Mᵀ+|b|) [{case}]", measured)
            record.add(case, m, measured)

        if exact:
            text = "adapted output equal to the base output bit for bit"
        else:
            text = "adapted output equal to the base output within the rounding of the rewritten weight, " \
                   "4·max(d)·eps·(|x|Mᵀ+|b|), M = max(|W|, |W_res| + |initial term|)"
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"{text} in all {rec.examples} examples (float64 and float32, with and without "
            f"bias){rec.worst_clause() if not exact else ''}",
        )
