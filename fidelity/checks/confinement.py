"""K10 where the update lives: confined to the frozen subspaces, or free of them.

At a random trained state the update M = W_eff − W_res (W_eff from the probe, W_res the live base weight) is
measured, and with Q_out, Q_in orthonormal bases of span U_r and of the row space of Vh_r (the variant's frozen
buffers; for a variant without them, the top-r singular subspaces of W itself) the leaks are
E_out = ‖(I − Q_out Q_outᵀ) M‖₂ and E_in = ‖M (I − Q_in Q_inᵀ)‖₂. The rounding bound is the spectral norm
bound of the probe's elementwise T-fwd error, ‖2·(2(n+2))·eps·scale‖_F.

- confined (AntiPaSTO, Eq. 4): both leaks ≤ the bound;
- free (LoRA: B and A are arbitrary): on every side where the subspace is proper (r < that dimension) the
  leak is above 10× the bound — an update that never leaves W0's top-r subspaces is not LoRA's update.
Non-vacuity: ‖M‖₂ far above the bound.
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, build_randomized, effective_weight, run_property
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure, noisy


def _projector_complement(basis: torch.Tensor) -> torch.Tensor:
    """I − Q Qᵀ for an orthonormal basis Q of span(basis) (columns)."""
    q, _ = torch.linalg.qr(basis)
    return torch.eye(basis.shape[0], dtype=basis.dtype) - q @ q.T


class Confinement(Check):
    kind = "confinement"
    topic = "forward"

    def __init__(self, confined: bool, options: dict | None = None):
        super().__init__(options)
        self.confined = confined

    def __repr__(self) -> str:
        return f"Confinement(confined={self.confined})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            if "basis_out" in state:
                u, vh = state["basis_out"], state["basis_in"]
            else:
                u_full, _, vh_full = torch.linalg.svd(weight.to(torch.float64), full_matrices=False)
                u, vh = u_full[:, :case.r], vh_full[:case.r]
            w_eff, _ = effective_weight(layer, case)
            m = w_eff - state["weight"]
            _, w_abs = spec.effective_weight(state, config)
            b_abs = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            bound = float(torch.linalg.matrix_norm(
                2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs)))
            e_out = float(torch.linalg.matrix_norm(_projector_complement(u) @ m, ord=2))
            e_in = float(torch.linalg.matrix_norm(m @ _projector_complement(vh.T), ord=2))
            size = float(torch.linalg.matrix_norm(m, ord=2))
            measured = {"norm_update": size, "leak_out": e_out, "leak_in": e_in, "rounding_bound": bound}
            if size <= 10 * bound:
                raise RuntimeError(f"non-vacuity guard: ‖M‖₂ = {size:.3g} is not far above the bound {bound:.3g} "
                                   f"[{case}]")
            if self.confined:
                if not (e_out <= bound and e_in <= bound):  # NaN-safe
                    raise Violation(f"the update leaks out of the frozen subspaces: ‖(I−UUᵀ)M‖₂ = "
                                    f"{figure(e_out, bound)}, ‖M(I−VVᵀ)‖₂ = {figure(e_in, bound)}, bound "
                                    f"{figure(bound, bound * 1e-6)} (‖M‖₂ = {figure(size, bound)}) [{case}]", measured)
                record.add(case, max(e_out, e_in) / bound, measured)
                return
            sides = [(name, leak) for name, leak, dim in (("output", e_out, case.d_out), ("input", e_in, case.d_in))
                     if case.r < dim]
            for name, leak in sides:
                if leak <= 10 * bound:
                    raise Violation(f"the update stays inside W0's top-{case.r} {name} subspace (leak "
                                    f"{noisy(f'{leak:.3g}', '≤ 10× the bound')}, bound {figure(bound, bound * 1e-6)}, "
                                    f"‖M‖₂ = {figure(size, bound)}): it is not free [{case}]", measured)
            record.add(case, min([leak / size for _, leak in sides], default=1.0), measured)

        if self.confined:
            def text(rec):
                return (f"at random trained values the update writes only into span U_r and reads only span V_r: "
                        f"both leaks below the rounding bound in all {rec.examples} examples"
                        f"{rec.worst_clause('worst leak/bound')}")
        else:
            def text(rec):
                return (f"at random A, B the update leaves W0's top-r singular subspaces on every proper side in all "
                        f"{rec.examples} examples (witness leak/‖M‖₂: output "
                        f"{rec.first_measured.get('leak_out', 0) / max(rec.first_measured.get('norm_update', 1), 1e-300):.2g})")
        return run_property(prop, profile, subject, observation=text)
