"""K14 the 1+ELU gain (lora-lite's design for the AntiPaSTO family, variants.md §3.1): the steered singular values
S_eff = S ⊙ (1 + ELU(coeff · g)) (g ← min(g, 0) under suppress_only), measured through the forward pass on a grid
g ∈ [−50, 50] (anchors dense near 0 plus draws seeded by the case) × coeff ∈ {±0.25, ±1, ±3}:

- positivity: S_eff > 0 wherever the exact value exceeds its rounding bound, and never below −bound. In floating
  point 1 + ELU(z) = 1 + (e^z − 1) rounds to exactly 0 once e^z < eps/2 (z below about −36.7 in float64, −16.6
  in float32); the check reports where, and does not count it as a failure, since S e^z is below the bound there;
- suppress_only: S_eff ≤ S for coeff ≥ 0, and S_eff ≥ S for coeff < 0 (the sign of coeff swaps the two);
- piecewise form: S_eff = S e^z for z = coeff · g ≤ 0 and S (1 + z) above, through the whole output (T-fwd);
- C¹ at 0: at g = ±δ (coeff · δ far below eps) the value is S and the autograd slope ∂S_eff/∂g is coeff · S on
  both sides (without suppress_only, whose clamp is deliberately not C¹).

Reading S_eff from the forward pass: the rows of Vh are the inputs, and y_k = f(Vh_k) − Vh_k W_resᵀ − b gives
s_k = ⟨y_k, U_k⟩, compared with the same projection of the float64 reference; the bound is the elementwise T-fwd
bound 2(n+2)·eps·scale projected the same way, Σ_j tol_kj |U_jk|, with the scale of 1 + ELU(z) taken as
1 + |ELU(z)| (its subtraction turned into an addition), or the measured |S_eff|/S where that is larger.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property, set_state
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio

COEFFS = (-3.0, -1.0, -0.25, 0.25, 1.0, 3.0)
G_MAX = 50.0
DELTA = 1e-30  # one-sided neighbours of g = 0: coeff · δ is far below eps, so the exact value there is S
ANCHORS = (-50.0, -40.0, -30.0, -20.0, -12.0, -8.0, -5.0, -3.0, -2.0, -1.0, -0.5, -0.1, -1e-3, -DELTA, 0.0,
           DELTA, 1e-3, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 30.0, 40.0, 50.0)
DRAWS = 16  # uniform draws in [−50, 50] per case, on top of the anchors


def piecewise(s: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The claimed S_eff, written independently of ELU: S e^z for z ≤ 0, S (1 + z) above."""
    return torch.where(z > 0, s * (1 + z), s * torch.exp(torch.clamp(z, max=0)))


def _grid(case, r: int) -> torch.Tensor:
    """The g values of one case, padded with draws to whole gain vectors of length r: (chunks, r)."""
    gen = case.generator(stream=6)
    n = math.ceil((len(ANCHORS) + DRAWS) / r) * r
    draws = (2 * torch.rand(n - len(ANCHORS), generator=gen, dtype=torch.float64) - 1) * G_MAX
    return torch.cat([torch.tensor(ANCHORS, dtype=torch.float64), draws]).reshape(-1, r)


class GainBounds(Check):
    kind = "gain_bounds"
    topic = "forward"

    def __init__(self, role: str = "gain", suppress_option: str | None = "suppress_only", options: dict | None = None):
        super().__init__(options)
        self.role, self.suppress_option = role, suppress_option

    def __repr__(self) -> str:
        return f"GainBounds(role={self.role!r}, suppress_option={self.suppress_option!r})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        zeros: dict[str, float] = {}  # dtype -> the largest z at which S_eff came out exactly 0
        points = [0]

        def sweep(layer, case, coeff, suppress, grid, bias):
            """Run every gain vector of the grid through the forward pass; the float64 reference for all of them.

            Returns (g, z, measured s, reference s, bound on s, S's own projection, margin of the outputs), each
            (chunks, r) but the last two. The bound scales with the larger of the claimed and the measured |S_eff|
            (a symmetric comparison), so a gain that is far too large is reported as such, not as a sign change
            made of its rounding.
            """
            state = realised_state(layer)  # the frozen factors and W_res; only the gain changes below
            u, s, vh, w_res = state["basis_out"], state["singular"], state["basis_in"], state["weight"]
            x = layer.read("basis_in").detach()  # the rows of Vh, exactly as stored
            x64 = x.to(torch.float64)
            b64 = bias.to(torch.float64) if bias is not None else torch.zeros(case.d_out, dtype=torch.float64)
            ys, gs = [], []
            with torch.no_grad():
                for g in grid:
                    set_state(layer, {self.role: g})
                    gs.append(layer.read(self.role).detach().to(torch.float64).clone())  # as realised in its dtype
                    ys.append(layer(x).to(torch.float64))
            y, g = torch.stack(ys), torch.stack(gs)  # (chunks, r, d_out), (chunks, r)
            z = coeff * (g.clamp(max=0) if suppress else g)
            base, base_abs = x64 @ w_res.T + b64, x64.abs() @ w_res.abs().T + b64.abs()  # (r, d_out)
            p, p_abs = x64 @ vh.T, x64.abs() @ vh.abs().T  # (r, r) ≈ I, and its scale on absolute factors
            y_ref = base + (p * piecewise(s, z)[:, None, :]) @ u.T
            s_meas = ((y - base) * u.T).sum(-1)
            s_ref = ((y_ref - base) * u.T).sum(-1)
            s_abs = torch.maximum(s.abs() * (1 + torch.where(z > 0, z, torch.expm1(z)).abs()), s_meas.abs())
            tol = fwd_tolerance(case.torch_dtype, spec.inner_length(case),
                                base_abs + (p_abs * s_abs[:, None, :]) @ u.abs().T)
            s_at_s = ((p * s) @ u.T * u.T).sum(-1)  # the projection of S itself (g = 0): (r,)
            tol_s = (tol * u.abs().T).sum(-1)
            return g, z, s_meas, s_ref, tol_s, s_at_s, margin(y - y_ref, tol)

        def slope(layer, case, coeff, sign, bias):
            """Autograd ∂S_eff/∂g at g = sign·δ against coeff · S (the exact one-sided slope), with its bound."""
            set_state(layer, {self.role: torch.full((case.r,), sign * DELTA, dtype=torch.float64)})
            state = realised_state(layer)
            u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
            x = layer.read("basis_in").detach()
            layer.module.zero_grad(set_to_none=True)
            out = layer(x).to(torch.float64)
            if out.requires_grad:  # otherwise the gain does not reach the output: its slope is 0
                (out * u.T).sum().backward()
            grad = layer.grad(self.role)
            grad = torch.zeros(case.r, dtype=torch.float64) if grad is None else grad.to(torch.float64)
            x64 = x.to(torch.float64)
            p, q = x64 @ vh.T, u.T @ u  # L = Σ_k ⟨y_k, U_k⟩, so ∂L/∂S_eff_i = Σ_k P_ki Q_ik
            expected = coeff * s * (p.T * q).sum(1)
            n = spec.inner_length(case) + case.d_out
            scale = (x64.abs() @ vh.abs().T).T * (u.abs().T @ u.abs())
            bound = fwd_tolerance(case.torch_dtype, n, abs(coeff) * s.abs() * scale.sum(1))
            return grad, expected, margin(grad - expected, bound)

        def prop(case, record):
            worst, measured = 0.0, {}
            modes = [False] + ([True] if self.suppress_option else [])
            grid = _grid(case, case.r)
            for coeff in COEFFS:
                for suppress in modes:
                    point = case.with_(coeff=coeff)
                    options = {self.suppress_option: True} if suppress else {}
                    layer, _, bias = subject.build(point, subject.variant.make_config(point, **{**subject.options,
                                                                                                  **options}))
                    where = f"coeff={coeff:g}{', suppress_only' if suppress else ''} [{case}]"
                    g, z, s_meas, s_ref, tol_s, s_at_s, m_y = sweep(layer, case, coeff, suppress, grid, bias)
                    points[0] += z.numel()

                    def first(mask):  # the first offending (s_eff, reference, z, g), for the message
                        return tuple(float(v.expand_as(s_meas)[mask][0]) for v in (s_meas, s_ref, z, g))

                    negative = s_meas < -tol_s
                    if negative.any():
                        s_k, _, z_k, _ = first(negative)
                        raise Violation(f"S_eff = {s_k:.3g} < 0 at coeff·g = {z_k:.3g}: the steered singular value "
                                        f"changed sign, {where}", {"s_eff": s_k, "z": z_k})
                    if suppress:
                        wrong = s_meas > s_at_s + tol_s if coeff >= 0 else s_meas < s_at_s - tol_s
                        if wrong.any():
                            s_k, _, _, g_k = first(wrong)
                            s_s = float(s_at_s.expand_as(s_meas)[wrong][0])
                            side = "above" if coeff >= 0 else "below"
                            raise Violation(f"under suppress_only S_eff = {s_k:.6g} is {side} S = {s_s:.6g} at "
                                            f"g = {g_k:.3g}, {where}", {"s_eff": s_k, "s": s_s})
                    lost = (s_meas <= 0) & (s_ref > tol_s)
                    if lost.any():
                        s_k, ref_k, z_k, _ = first(lost)
                        raise Violation(f"S_eff = {s_k:.3g} ≤ 0 at coeff·g = {z_k:.3g} where S·e^z = {ref_k:.3g} is "
                                        f"representable, {where}", {"s_eff": s_k, "z": z_k})
                    exact_zero = s_meas == 0
                    if exact_zero.any():
                        zeros[case.dtype] = max(zeros.get(case.dtype, -math.inf), float(z[exact_zero].max()))
                    m_s = margin(s_meas - s_ref, tol_s)
                    if max(m_y, m_s) > 1.0:
                        k = ((s_meas - s_ref).abs() / tol_s).flatten().argmax()
                        s_k, ref_k, z_k = (float(v.flatten()[k]) for v in (s_meas, s_ref, z))
                        noise = float(tol_s.flatten()[k])
                        raise Violation(f"S_eff = {figure(s_k, noise, 6)} at coeff·g = {z_k:.3g} differs from the "
                                        f"piecewise form S·e^z / S·(1 + z) = {figure(ref_k, noise, 6)} (output margin "
                                        f"{ratio(m_y)}, S_eff margin {ratio(m_s)}), {where}",
                                        {"s_eff": s_k, "s_piecewise": ref_k, "z": z_k, "margin": max(m_y, m_s)})
                    worst = max(worst, m_y, m_s)
                    if not suppress:
                        for sign in (1.0, -1.0):
                            grad, expected, m_g = slope(layer, case, coeff, sign, bias)
                            if m_g > 1.0:
                                k = int((grad - expected).abs().argmax())
                                raise Violation(f"the slope ∂S_eff/∂g at g = {'+' if sign > 0 else '−'}δ (coeff·g "
                                                f"{'>' if coeff * sign > 0 else '<'} 0) is "
                                                f"{float(grad[k]):.3g}, not coeff·S = {float(expected[k]):.3g}: the "
                                                f"gain is not C¹ at 0 ({ratio(m_g)}× the bound), {where}",
                                                {"slope": float(grad[k]), "coeff_S": float(expected[k])})
                            worst = max(worst, m_g)
            measured["margin"] = worst
            record.add(case, worst, measured)

        def observation(rec):
            lost = "; ".join(f"{dt}: z ≤ {z:.3g}".replace("-", "−") for dt, z in sorted(zeros.items()))
            zero_text = (f" (S_eff rounds to exactly 0 where e^z < eps/2 is lost in 1 + ELU(z), seen at {lost}; "
                         f"S·e^z is below the rounding bound there)") if zeros else ""
            suppress = (" suppress_only keeps S_eff ≤ S for coeff ≥ 0 and ≥ S for coeff < 0;"
                        if self.suppress_option else "")
            return (f"S_eff read from the forward pass equals S·e^z for z = coeff·g ≤ 0 and S·(1 + z) above, on "
                    f"{points[0]} (g, coeff) points with g ∈ [−{G_MAX:g}, {G_MAX:g}], coeff ∈ "
                    f"{{{', '.join(f'{c:g}' for c in COEFFS)}}}, in all {rec.examples} examples (the witnesses and a "
                    f"tenth of the profile's draws: the grid is the coverage{rec.worst_clause()}); "
                    f"S_eff > 0 wherever representable and never negative{zero_text};{suppress} "
                    f"at g = 0± the value is S and the autograd slope is coeff·S on both sides (C¹)")

        # The coverage of this property is the (g, coeff) grid of every example, not the layer draw: a tenth of the
        # profile's examples (plus the witnesses) is plenty and keeps the sweep within the time budget.
        budget = dataclasses.replace(profile, max_examples=max(1, profile.max_examples // 10))
        return run_property(prop, budget, subject, observation=observation)
