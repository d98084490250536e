"""K03 runtime-off identity: with the steering coefficient at 0 the adapter is the base, whatever the trained
values (random non-degenerate state), within the rounding of the rewritten weight (RECON tolerance,
4 max(d_in, d_out) · eps · (|x| |W|ᵀ + |b|)).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, randomize, run_property
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
            tol = 4 * max(case.d_in, case.d_out) * eps(case.torch_dtype) * (
                x.abs().to(torch.float64) @ weight.abs().to(torch.float64).T + b_abs)
            m = margin(err, tol)
            measured = {"max_abs_diff": float(err.max()), "margin": m}
            if m > 1.0:
                raise Violation(f"with coeff = 0 and random trained values the output differs from the base by "
                                f"{figure(float(err.max()), float(tol.max()))} ({ratio(m)}× the rounding bound) "
                                f"[{off}]", measured)
            record.add(off, m, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"with coeff = 0 the output equals the base output within 4·max(d)·eps·(|x||W|ᵀ+|b|) "
            f"at random trained values in all {rec.examples} examples{rec.worst_clause()}",
        )
