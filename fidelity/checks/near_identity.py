"""K02 declared near-identity: at init the variant perturbs the base on purpose, by a bounded amount.

With Δy = y'(x) − y(x) at init and Δy_ref = x ΔWᵀ the same perturbation in float64 from the realised tensors, ΔW the
variant's `scaled_delta` (what the adapter adds on top of the base it keeps or reconstructs: s B R A for LoRA-XS, whose
W is untouched; U (diag(S + δ) R − diag(S)) Vh for AntiPaSTO's rotation variant, whose W is rewritten to W_res, so
that W_eff − W_res would count the reconstructed U diag(S) Vh as perturbation and never be 0), per input row x_i:
- non-zero: Δy_ref ≠ 0 (a declared perturbation that is exactly 0 means the declaration or the init is wrong;
  history C.16, `rot_delta_zero`), and wherever Δy_ref exceeds the rounding bound the measured Δy is non-zero
  too (where it does not, e.g. a 1e-5 init in float32, the perturbation is lost in rounding: reported);
- bounded: ‖Δy_i‖₂ ≤ bound_i · (1 + 2(n+2)·eps) + ‖tol_i‖₂, with the variant's stated bound computed in float64
  from the realised tensors (lora_xs: s ‖R‖₂ ‖x_i Aᵀ‖, since B has orthonormal columns) and tol the elementwise
  T-fwd bound of y' and y, 2(n+2)·eps·scale each. A perturbation that escapes its bound (a rewritten base weight,
  a factor that is not orthonormal) fails here even where the forward formula holds.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import eps, fwd_k, fwd_tolerance
from fidelity.stable import figure, noisy


class NearIdentity(Check):
    kind = "near_identity"
    topic = "init"

    def __init__(self, bound: Callable, bound_text: str, options: dict | None = None):
        super().__init__(options)
        self.bound, self.bound_text = bound, bound_text  # bound(state, config, x float64) -> (rows,) row bounds

    def __repr__(self) -> str:
        return f"NearIdentity(bound={self.bound_text}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        hidden: dict[str, int] = {}  # dtype -> examples whose perturbation is below the rounding bound

        def prop(case, record):
            config = subject.config(case)
            layer, weight, bias = subject.build(case, config)
            state = realised_state(layer)
            x = inputs(case)
            x64 = x.to(torch.float64)
            with torch.no_grad():
                dy = layer(x).to(torch.float64) - layer.base_forward(x).to(torch.float64)
            b_abs = bias.abs().to(torch.float64) if bias is not None else 0.0
            _, w_abs = spec.effective_weight(state, config)
            n = spec.inner_length(case)
            tol = (fwd_tolerance(case.torch_dtype, n, x64.abs() @ w_abs.T + b_abs)
                   + fwd_tolerance(case.torch_dtype, case.d_in, x64.abs() @ weight.abs().to(torch.float64).T + b_abs))
            dy_ref = x64 @ spec.scaled_delta(state, config)[0].T  # the declared perturbation, from the realised tensors
            bound = self.bound(state, config, x64)
            size = dy.norm(dim=1)
            allowed = bound * (1 + fwd_k(n) * eps(case.torch_dtype)) + tol.norm(dim=1)
            ratio = float((size / allowed).max())
            visible = float(dy_ref.norm()) > float(tol.norm())
            measured = {"norm_delta_y": float(dy.norm()), "norm_delta_y_ref": float(dy_ref.norm()),
                        "rounding_bound": float(tol.norm()), "max_row_ratio_to_bound": ratio,
                        "max_row_bound": float(bound.max())}
            if float(dy_ref.norm()) == 0.0:
                raise Violation(f"at init the realised perturbation is exactly 0 (Δy_ref = 0 from the realised "
                                f"tensors; measured ‖Δy‖_F = {figure(float(dy.norm()), float(tol.norm()))}): the "
                                f"declared near-identity is an exact identity [{case}]", measured)
            if visible and float(dy.norm()) == 0.0:
                raise Violation(f"at init the output equals the base output exactly although the realised "
                                f"perturbation ‖Δy_ref‖_F = {figure(float(dy_ref.norm()), float(tol.norm()))} is above "
                                f"the rounding bound {float(tol.norm()):.2g} [{case}]", measured)
            if not visible:
                hidden[case.dtype] = hidden.get(case.dtype, 0) + 1
            if not (ratio <= 1.0):
                row = int((size / allowed).argmax())
                raise Violation(f"at init ‖Δy‖ = {figure(float(size[row]), float(tol[row].norm()))} on input row "
                                f"{row} exceeds the declared bound {self.bound_text} = "
                                f"{figure(float(bound[row]), float(tol[row].norm()))} "
                                f"({noisy(f'{ratio:.3g}', 'more than 1')}× with rounding) [{case}]", measured)
            record.add(case, ratio, measured)

        def observation(rec):
            lost = " and ".join(f"{n} {dt}" for dt, n in sorted(hidden.items()))
            return (f"at init the realised perturbation is non-zero and the output moves by at most {self.bound_text} "
                    f"per input row in all {rec.examples} examples (witness ‖Δy‖_F = "
                    f"{figure(rec.first_measured.get('norm_delta_y', 0), rec.first_measured.get('rounding_bound', 0))} "
                    f"against a rounding bound of {rec.first_measured.get('rounding_bound', 0):.2g}"
                    # a physical ratio, not rounding: whether the bound is attained is the same on every machine
                    + ("; the bound is attained" if rec.worst > 0.9 else "") + ")"
                    + rec.worst_clause("worst ‖Δy_i‖ / bound")
                    + (f"; in {lost} example(s) the perturbation is below the worst-case rounding bound of the "
                       f"output, so it may be lost in rounding there" if hidden else ""))

        return run_property(prop, profile, subject, observation=observation)
