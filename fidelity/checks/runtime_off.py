"""K03 runtime-off identity: with the steering coefficient at 0 the adapter is the base, whatever the trained
values (random non-degenerate state), within the rounding of the rewritten weight (RECON tolerance,
4 max(d_in, d_out) · eps · (|x| Mᵀ + |b|), M = max(|W|, |W_eff|abs) as for the identity at init (K01): the adapted
path adds W_res and the frozen term, each of which can exceed |W| entrywise where they cancel, and rounds at their
scale; with |W| alone the bound held a correct implementation to 0.51 of it on a 2 × 23 layer).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, randomize, realised_state, run_property
from fidelity.numerics import eps, margin
from fidelity.stable import figure, ratio


class RuntimeOff(Check):
    kind = "runtime_off"
    topic = "scaling"

    def run(self, subject: Subject, profile) -> Evidence:
        def prop(case, record):
            off = case.with_(coeff=0.0)
            config = subject.config(off)
            layer, weight, bias = subject.build(off, config)
            randomize(subject, off, layer, weight, subject.config(case))  # a state sized as if coeff were on
            x = inputs(off)
            with torch.no_grad():
                err = (layer(x).to(torch.float64) - layer.base_forward(x).to(torch.float64)).abs()
            b_abs = bias.abs().to(torch.float64) if bias is not None else 0.0
            _, w_abs = subject.variant.effective_weight(realised_state(layer), config)
            scale = torch.maximum(weight.abs().to(torch.float64), w_abs)  # (d_out, d_in)
            tol = 4 * max(case.d_in, case.d_out) * eps(case.torch_dtype) * (x.abs().to(torch.float64) @ scale.T + b_abs)
            m = margin(err, tol)
            measured = {"max_abs_diff": float(err.max()), "margin": m}
            if m > 1.0:
                raise Violation(f"with coeff = 0 and random trained values the output differs from the base by "
                                f"{figure(float(err.max()), float(tol.max()))} ({ratio(m)}× the rounding bound) "
                                f"[{off}]", measured)
            record.add(off, m, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"with coeff = 0 the output equals the base output within "
            f"4·max(d)·eps·(|x|Mᵀ+|b|), "
            f"M = max(|W|, |W_res| + |frozen term|), "
            f"at random trained values in all {rec.examples} examples{rec.worst_clause()}",
        )
