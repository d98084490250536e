"""K13/K14 the spectrum of an adapter's operator on its frozen subspace coordinates: symmetric, with every eigenvalue
in a stated interval (a contraction ‖h_after‖ ≤ ‖h_before‖ for [0, 1]) or equal to stated values (an orthogonal
projector: 0 and 1).

For a frozen-SVD-basis adapter whose core acts on the subspace coordinates h = (x Vhᵀ) ⊙ S as h_after = h M
(antipasto_ablate: M = I − coeff Ĉ diag(α̂) Ĉᵀ), the update is W_eff − W_res = U Mᵀ diag(S) Vh. Measured, not read
(claim-kinds.md §1.3 probe): at a random non-degenerate state (with `fix` applied, e.g. the strength set to 1) and at
each steering coefficient of `coeffs` (the case's own when empty), the probe's W_eff = f(I) − f(0) gives
M = (U⁺ (W_eff − W_res) Vh⁺ diag(S)⁻¹)ᵀ (r × r; U, S, Vh the realised buffers, W_res the live base weight). Then:

- symmetric: |M − Mᵀ| ≤ 2ε (a self-adjoint operator, with real eigenvalues and singular values |λ|);
- interval (optional): every eigenvalue of (M + Mᵀ)/2 lies in [lo, hi] = interval(config) within ε, and every singular
  value of M (‖h M‖/‖h‖ over all h) lies in [max(lo, 0), hi] within ε: for [0, 1], ‖h_after‖ ≤ ‖h_before‖;
- expected (optional): the sorted eigenvalues equal expected(state, config) within ε each (Weyl).

Tolerance: the probe's elementwise T-fwd bound E = 2·2(n+2)·eps·scale (scale: the variant's formula on absolute
values, n its inner length) moves U⁺ (W_eff − W_res) Vh⁺ by at most ‖E‖_F ‖U⁺‖₂ ‖Vh⁺‖₂ in spectral norm, and M by
ε = that / min S; an eigenvalue of the symmetric part moves by at most ε (Weyl), a singular value by at most ε. A NaN or
infinite M fails. Non-vacuity: M is far from I (‖M − I‖₂ > 10ε), so the state really acts.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, effective_weight, randomize, realised_state,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure


def stated(value: float, noise: float) -> str:
    """An expected eigenvalue: an exact 0 or 1 as such, a computed one to the digits its noise leaves."""
    return f"{value:g}" if value in (0.0, 1.0) else figure(value, noise)


class Spectrum(Check):
    kind = "spectrum"
    topic = "forward"

    def __init__(self, coeffs: tuple[float, ...] = (), interval: Callable | None = None, interval_text: str = "",
                 expected: Callable | None = None, expected_text: str = "", fix: Callable | None = None,
                 fix_text: str = "", options: dict | None = None):
        super().__init__(options)
        self.coeffs = tuple(coeffs)  # steering coefficients the operator is measured at; () = the case's own
        self.interval, self.interval_text = interval, interval_text  # config -> (lo, hi)
        self.expected, self.expected_text = expected, expected_text  # (state, config) -> (r,) eigenvalues
        self.fix, self.fix_text = fix, fix_text  # state -> trainables overridden before measuring
        if interval is None and expected is None:
            raise ValueError("a spectrum claim states an interval, expected eigenvalues, or both")

    def __repr__(self) -> str:
        parts = [f"coeff ∈ {{{', '.join(f'{c:g}' for c in self.coeffs)}}}"] if self.coeffs else []
        parts += [f"fix={self.fix_text!r}"] if self.fix else []
        parts += [f"eigenvalues in {self.interval_text}"] if self.interval else []
        parts += [f"eigenvalues = {self.expected_text}"] if self.expected else []
        return f"Spectrum({', '.join(parts + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def measure(layer, case, config, bias):
            """(M, ε): the operator h ↦ h M on the frozen bases' coordinates and its spectral-norm error bound."""
            state = realised_state(layer)
            w_eff, _ = effective_weight(layer, case)
            u_pinv, vh_pinv = torch.linalg.pinv(state["basis_out"]), torch.linalg.pinv(state["basis_in"])
            s = state["singular"]
            m = ((u_pinv @ (w_eff - state["weight"]) @ vh_pinv) / s[None, :]).T  # (r, r)
            _, w_abs = spec.effective_weight(state, config)
            b_abs = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            tol = 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs)
            eps_m = float(torch.linalg.matrix_norm(tol) * torch.linalg.matrix_norm(u_pinv, ord=2)
                          * torch.linalg.matrix_norm(vh_pinv, ord=2) / s.abs().min())
            return m, eps_m, state

        def one(case, config, layer, bias, measured) -> float:
            """Check the operator at one coefficient; its margin (the largest error/ε)."""
            m, eps_m, state = measure(layer, case, config, bias)
            where = f"at coeff = {config.coeff:g}" + (f" with {self.fix_text}" if self.fix else "") + f" [{case}]"
            if not torch.isfinite(m).all():
                raise Violation(f"the operator has NaN or infinite entries {where}")
            eye = torch.eye(m.shape[0], dtype=torch.float64)
            moved = float(torch.linalg.matrix_norm(m - eye, ord=2))
            if not moved > 10 * eps_m:
                raise RuntimeError(f"non-vacuity guard: the state leaves the operator at the identity "
                                   f"(‖M − I‖₂ = {moved:.3g}, ε = {eps_m:.3g}) {where}")
            asym = float((m - m.T).abs().max())
            lam = torch.linalg.eigvalsh((m + m.T) / 2)  # ascending
            sing = torch.linalg.svdvals(m)  # descending
            lo_l, hi_l, top_s, low_s = float(lam[0]), float(lam[-1]), float(sing[0]), float(sing[-1])
            measured.update({"eps_M": eps_m, "asymmetry": asym, "min_eigenvalue": lo_l, "max_eigenvalue": hi_l,
                             "max_singular_value": top_s, "min_singular_value": low_s})
            if not asym <= 2 * eps_m:
                raise Violation(f"the operator is not symmetric: |M − Mᵀ| up to {figure(asym, eps_m)} (bound "
                                f"{2 * eps_m:.2g}): not a self-adjoint operator {where}",
                                measured)
            margins = [asym / (2 * eps_m)]
            if self.interval is not None:
                lo, hi = (float(v) for v in self.interval(config))
                if not (lo - eps_m <= lo_l and hi_l <= hi + eps_m):
                    raise Violation(f"an eigenvalue leaves {self.interval_text} = [{lo:g}, {hi:g}]: the eigenvalues "
                                    f"span [{figure(lo_l, eps_m)}, {figure(hi_l, eps_m)}] (ε = {eps_m:.2g}) {where}",
                                    measured)
                if not (max(lo, 0.0) - eps_m <= low_s and top_s <= hi + eps_m):
                    raise Violation(f"‖h M‖/‖h‖ leaves {self.interval_text} = [{lo:g}, {hi:g}]: the singular values "
                                    f"span [{figure(low_s, eps_m)}, {figure(top_s, eps_m)}] (ε = {eps_m:.2g}) {where}",
                                    measured)
                margins += [(lo - lo_l) / eps_m, (hi_l - hi) / eps_m, (top_s - hi) / eps_m]
            if self.expected is not None:
                want = torch.sort(torch.as_tensor(self.expected(state, config), dtype=torch.float64)).values
                err = (lam - want).abs()
                k = int(err.argmax())
                measured["max_eigenvalue_error"] = float(err[k])
                if not float(err[k]) <= eps_m:
                    raise Violation(f"the eigenvalues are not {self.expected_text}: eigenvalue {k + 1} of {len(lam)} "
                                    f"is {figure(float(lam[k]), eps_m)} where {stated(float(want[k]), eps_m)} is "
                                    f"expected (ε = {eps_m:.2g}) {where}", measured)
                margins.append(float(err[k]) / eps_m)
            return max(0.0, *margins)

        def prop(case, record):
            margins, measured, span = [], {}, {"min_eigenvalue": [], "max_eigenvalue": [], "eps_M": []}
            for coeff in self.coeffs or (case.coeff,):
                point = case.with_(coeff=coeff)
                config = subject.config(point)
                layer, weight, bias = subject.build(point, config)
                state = randomize(subject, point, layer, weight, config)
                if self.fix is not None:
                    set_state(layer, self.fix(state))
                here = {}
                margins.append(one(point, config, layer, bias, here))
                measured.update({f"{k}@coeff={coeff:g}": v for k, v in here.items()})
                for key in span:
                    span[key].append(here[key])
            measured.update({"min_eigenvalue": min(span["min_eigenvalue"]),
                             "max_eigenvalue": max(span["max_eigenvalue"]), "eps_M": max(span["eps_M"])})
            record.add(case, max(margins), measured)

        coeffs = (f" at coeff ∈ {{{', '.join(f'{c:g}' for c in self.coeffs)}}}" if self.coeffs else "")
        fixed = f" with {self.fix_text}" if self.fix else ""
        claims = []
        if self.interval is not None:
            claims.append(f"every eigenvalue in {self.interval_text} and ‖h M‖/‖h‖ within it for every h")
        if self.expected is not None:
            claims.append(f"eigenvalues {self.expected_text}")

        def observation(rec) -> str:
            w = rec.first_measured
            noise = w.get("eps_M", 0.0)
            low, high = w.get("min_eigenvalue", float("nan")), w.get("max_eigenvalue", float("nan"))
            return (f"the operator h ↦ h M on the frozen bases' coordinates, M = (U⁺ (W_eff − W_res) Vh⁺ diag(S)⁻¹)ᵀ "
                    f"from the probe at random trained values{fixed}{coeffs}, is symmetric with "
                    f"{' and '.join(claims)} in all {rec.examples} examples (witness eigenvalues from "
                    f"{figure(low, noise)} to {figure(high, noise)})" + rec.worst_clause())

        return run_property(prop, profile, subject, observation=observation)

