"""K13 block rotation: the rotation an adapter learns inside its frozen basis is, block by block, a proper rotation
(RᵀR = I, det R = +1); its angle stays within the stated bound (and reaches it where the bound is stated as the limit);
the stated inverse undoes it.

Measured, not read (claim-kinds.md §1.2 structured weights, §1.3 probe): on a square layer whose base weight is the
identity, so every singular value is 1, at a random non-degenerate state with the variant's `fix` applied (AntiPaSTO's
rotation variant: the singular-value shift set to 0, so that only the rotation acts), the probe's W_eff = f(I) − f(0)
gives the adapter's core in the coordinates of its frozen bases, C = U⁺ (W_eff − W_res) Vh⁺ (r × r; U, Vh the realised
buffers `basis_out`, `basis_in`, W_res the live base weight): C = R for a rotation of the input basis (W' = U R Vh),
Rᵀ for one of the output basis (W' = U Rᵀ Vh). With b = block(config):

- block structure: the entries of C outside its b × b diagonal blocks are zero;
- proper rotation: every block C_k has C_kᵀ C_k = I and det C_k = +1 (an orthogonal block with det −1 is a reflection);
- bound (optional): the largest rotation angle of any block, max |arg λ(C_k)|, is ≤ bound(config) at the random state
  and at `saturate(state, config)`, every parameter driven far into the clamp; with `tight`, it *equals* the bound
  there, so the check measures the quantity the bound is about (a limit that is never reached, or is exceeded, fails);
- inverse (optional): at the inverse state, C' C = I. `inverse="coeff"` rebuilds the layer at −α for the case's
  steering coefficient α with the same trained values (the paper's R(−α) = R(α)^{-1}: the coefficient reaches the
  implementation through the variant's config, and a config that carries none builds the same layer twice); a callable
  maps the trainables instead (T → −T).

Tolerance: the probe's elementwise T-fwd bound E = 2·2(n+2)·eps·scale (scale: the variant's formula on absolute values,
n its inner length) moves C by at most ε = ‖E‖_F ‖U⁺‖₂ ‖Vh⁺‖₂ in spectral norm, so |C_kᵀC_k − I| ≤ 2ε + ε²,
|det C_k − 1| ≤ (1 + ε)^b − 1, an off-block entry ≤ ε, an eigenvalue of the normal R moves by at most ε (Bauer–Fike)
and its angle by at most 2ε (ε ≤ 1/2), and |C'C − I| ≤ ε + ε' + εε'. A NaN or infinite C fails. Non-vacuity: at the
random state C is far from I.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, realised_state,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure, magnitude


def identity_base(case):
    """The case on a square layer (d_in := d_out, which keeps r ≤ d_out) with W = I: every singular value is 1."""
    return case.with_(d_in=case.d_out, spectrum="identity")


class Rotation(Check):
    kind = "rotation"
    topic = "forward"

    def __init__(self, block: Callable, fix: Callable, fix_text: str, bound: Callable | None = None,
                 bound_text: str = "", saturate: Callable | None = None, tight: bool = False,
                 inverse: str | Callable | None = None, inverse_text: str = "", options: dict | None = None):
        super().__init__(options)
        self.block = block  # config -> the block size b
        self.fix, self.fix_text = fix, fix_text  # state -> trainables overridden so that only the rotation acts
        self.bound, self.bound_text, self.saturate, self.tight = bound, bound_text, saturate, tight
        self.inverse, self.inverse_text = inverse, inverse_text
        if bound is not None and saturate is None:
            raise ValueError("a bounded rotation needs the saturated state at which the bound is tested")

    def __repr__(self) -> str:
        parts = []
        if self.bound is not None:
            parts.append(f"angle {'=' if self.tight else '≤'} {self.bound_text} when saturated")
        if self.inverse is not None:
            parts.append(f"inverse: {self.inverse_text}")
        return f"Rotation({', '.join(parts + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def measure(layer, case, config, bias):
            """(C in the frozen bases' coordinates, ε its spectral-norm error bound)."""
            state = realised_state(layer)
            w_eff, _ = effective_weight(layer, case)
            u_pinv, vh_pinv = torch.linalg.pinv(state["basis_out"]), torch.linalg.pinv(state["basis_in"])
            c = u_pinv @ (w_eff - state["weight"]) @ vh_pinv  # (r, r)
            _, w_abs = spec.effective_weight(state, config)
            b_abs = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            tol = 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs)
            eps_c = float(torch.linalg.matrix_norm(tol) * torch.linalg.matrix_norm(u_pinv, ord=2)
                          * torch.linalg.matrix_norm(vh_pinv, ord=2))
            return c, eps_c

        def proper(c, eps_c, b, case, where) -> tuple[float, dict, float]:
            """Check block structure, orthogonality and det +1 of every block: (largest angle, measured, margin)."""
            if not torch.isfinite(c).all():
                raise Violation(f"{where} the rotation has NaN or infinite entries [{case}]")
            r = c.shape[0]
            blocks = c.reshape(r // b, b, r // b, b).diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # (r/b, b, b)
            outside = c.clone()
            for k in range(r // b):
                outside[k * b:(k + 1) * b, k * b:(k + 1) * b] = 0
            eye = torch.eye(b, dtype=torch.float64)
            orth = float((blocks.transpose(1, 2) @ blocks - eye).abs().max())
            dets = torch.linalg.det(blocks)
            det_err = float((dets - 1).abs().max())
            off = float(outside.abs().max()) if r > b else 0.0
            tol_orth, tol_det = 2 * eps_c + eps_c**2, (1 + eps_c) ** b - 1
            measured = {"max_abs_CtC_minus_I": orth, "max_abs_det_minus_1": det_err, "max_abs_off_block": off,
                        "eps_C": eps_c}
            if not off <= eps_c:
                raise Violation(f"{where} the rotation is not block diagonal with {b} × {b} blocks: an entry outside "
                                f"the blocks is {figure(off, eps_c)} (bound {eps_c:.2g}) [{case}]", measured)
            if not orth <= tol_orth:
                raise Violation(f"{where} a {b} × {b} block is not orthogonal: |RᵀR − I| up to {magnitude(orth)} "
                                f"(bound {tol_orth:.2g}) [{case}]", measured)
            if not det_err <= tol_det:
                worst = float(dets[(dets - 1).abs().argmax()])
                raise Violation(f"{where} a {b} × {b} block has det {figure(worst, tol_det)}, not +1"
                                + (": a reflection, not a rotation" if worst < 0 else "") + f" [{case}]", measured)
            angles = torch.linalg.eigvals(blocks).angle().abs()  # (r/b, b): |arg λ| of each block's eigenvalues
            measured["max_angle"] = float(angles.max())
            return measured["max_angle"], measured, max(orth / tol_orth, det_err / tol_det, off / eps_c)

        def prop(case, record):
            case = identity_base(case)
            config = subject.config(case)
            b = self.block(config)
            layer, weight, bias = subject.build(case, config)
            state = randomize(subject, case, layer, weight, config)
            trained = {k: state[k] for k in layer.roles}
            set_state(layer, self.fix(state))
            c, eps_c = measure(layer, case, config, bias)
            angle, measured, m = proper(c, eps_c, b, case, "at random trainable values")
            moved = float((c - torch.eye(c.shape[0], dtype=torch.float64)).abs().max())
            measured["max_abs_C_minus_I"] = moved
            if not moved > 10 * (2 * eps_c + eps_c**2):
                raise RuntimeError(f"non-vacuity guard: the random state leaves the rotation at the identity "
                                   f"(|C − I| ≤ {moved:.3g}) [{case}]")
            margins = [m]
            if self.inverse is not None:
                if self.inverse == "coeff":
                    minus = case.with_(coeff=-case.coeff)
                    minus_config = subject.config(minus)
                    other, _, _ = subject.build(minus, minus_config)
                    set_state(other, trained)
                    set_state(other, self.fix({**state, **trained}))
                    c_inv, eps_inv = measure(other, minus, minus_config, bias)
                    how = f"the layer built at coeff = {-case.coeff:g}" + (
                        " (the variant's config carries no steering coefficient: it is the same configuration as at "
                        f"coeff = {case.coeff:g})" if minus_config == config else "")
                else:
                    set_state(layer, self.inverse(state))
                    c_inv, eps_inv = measure(layer, case, config, bias)
                    set_state(layer, {**trained, **self.fix(state)})
                    how = self.inverse_text
                err = float((c_inv @ c - torch.eye(c.shape[0], dtype=torch.float64)).abs().max())
                tol = eps_c + eps_inv + eps_c * eps_inv
                measured["max_abs_inverse_error"] = err
                if not err <= tol:
                    raise Violation(f"{how} does not undo the rotation: |R' R − I| up to {figure(err, tol)} against "
                                    f"|R − I| up to {figure(moved, tol)} (bound {tol:.2g}) [{case}]", measured)
                margins.append(err / tol)
            if self.bound is not None:
                limit = float(self.bound(config))
                if not angle <= limit + 2 * eps_c:
                    raise Violation(f"at random trainable values a block rotates by {figure(angle, eps_c)} rad, "
                                    f"beyond {self.bound_text} = {limit:.6g} [{case}]", measured)
                set_state(layer, self.saturate({**state, **trained}, config))
                set_state(layer, self.fix(state))
                c_sat, eps_sat = measure(layer, case, config, bias)
                top, more, m_sat = proper(c_sat, eps_sat, b, case, "with every rotation parameter saturated")
                measured.update({f"saturated_{k}": v for k, v in more.items()})
                margins.append(m_sat)
                if not top <= limit + 2 * eps_sat:
                    raise Violation(f"with every rotation parameter saturated a block rotates by "
                                    f"{figure(top, eps_sat)} rad, beyond {self.bound_text} = {limit:.6g} [{case}]",
                                    measured)
                if self.tight and not top >= limit - 2 * eps_sat:
                    raise Violation(f"with every rotation parameter saturated the largest rotation angle is "
                                    f"{figure(top, eps_sat)} rad, short of {self.bound_text} = {limit:.6g}: the "
                                    f"limit is not the one stated [{case}]", measured)
                if self.tight:
                    margins.append(abs(top - limit) / (2 * eps_sat))
            record.add(case, max(margins), measured)

        parts = [f"each block of the rotation measured on W = I ({self.fix_text}) is block diagonal, orthogonal and of "
                 "det +1"]
        if self.inverse is not None:
            parts.append(f"{self.inverse_text} undoes it (R' R = I)")
        if self.bound is not None:
            parts.append(f"its angle stays ≤ {self.bound_text}"
                         + (", which it reaches with every parameter saturated" if self.tight else
                            " with every parameter saturated"))

        def observation(rec) -> str:
            witness = rec.first_measured
            noise = witness.get("eps_C", 0.0)
            extra = f" (witness largest angle {figure(witness.get('max_angle', float('nan')), noise)} rad"
            if "saturated_max_angle" in witness:
                extra += f", saturated {figure(witness['saturated_max_angle'], witness['saturated_eps_C'])} rad"
            return f"{'; '.join(parts)}, in all {rec.examples} examples{extra}){rec.worst_clause()}"

        return run_property(prop, profile, subject, observation=observation)
