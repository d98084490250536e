"""K19 calibration statistic: the calibrated init is the paper's formula, computed independently from the same
calibration rows.

A whitening init (CorDA's W C, ASVD's W S) decomposes W M, with M a statistic of the layer's calibration inputs
X (N, d_in), keeps r components and undoes the whitening: T = [SVD(W M)]_r M⁻¹. Because U_rᵀ W M = Σ_r V_rᵀ, this
is T = U_r U_rᵀ W, the projection of W onto the top-r (or bottom-r) left singular subspace of W M. A `Reading`
states how the paper turns X into M (which statistic, centred or not, damped or not) and which components the
adapter keeps. The check computes M from the rows in float64, never through the implementation, and compares the
realised initial term T̂ (the spec's `initial_term`, read back at init) with it twice:

- span(T̂) against span(U_r), by projectors: ‖P̂ − P‖₂ ≤ t_sub = 4 (max(d_in, d_out) + N) · eps · σ_1(W M) / gap_r(W M)
  (Davis–Kahan, T-sub; N enters because M is accumulated over N rows). This is the sharp comparison: another
  statistic (damped, centred, square-rooted, re-weighted) tilts the subspace far beyond t_sub;
- T̂ against T: ‖T̂ − T‖₂ ≤ ‖W‖₂ (t_sub + t_alg), t_alg = 4 max(d_in, d_out) · eps · κ(M): the tilt of the subspace
  plus the rounding of undoing the whitening with M⁻¹. This catches a right subspace with a wrong magnitude.

With `samples = S > 1` the check instead passes the same rows as S calibration samples (a (S, N/S, d_in) tensor:
the binding runs one forward pass per sample) and requires the init to equal the one-sample init within twice
those bounds: the paper's statistic weighs every calibration row equally however the data is batched (the same
kind of invariance as the padding claim of claim-kinds.md K19).

`weighted_optimality` is K20 for the same inits (run by `Optimality(weighting=…)`): the frozen part's weighted
error ‖(W − T̂) M‖_F equals the weighted Eckart–Young minimum (Σ_(i>r) σ_i(W M)²)^½, and the plain SVD's crop
misses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from fidelity.cases import LayerCase, base_layer, seed_torch
from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import decomp_k, eps
from fidelity.stable import figure, magnitude, noisy


@dataclass(frozen=True)
class Reading:
    """How a paper turns calibration rows into its whitening M, and which r components of W M the adapter keeps."""

    text: str  # e.g. "C = XᵀX (uncentred, undamped)"
    whitening: Callable[[torch.Tensor, Any], torch.Tensor]  # (rows (N, d_in) float64, config) -> M (d_in, d_in)
    bottom: Callable[[Any], bool] = lambda config: False  # keep the bottom r components (CorDA's KPM)


@dataclass(frozen=True)
class Whitened:
    """The reference decomposition of W M for one reading: T = [SVD(W M)]_r M⁻¹, its subspace and conditioning."""

    term: torch.Tensor  # (d_out, d_in) T
    basis: torch.Tensor  # (d_out, r) the kept left singular vectors of W M
    sigma: torch.Tensor  # singular values of W M, descending
    condition: float  # σ_1(W M) / gap at the kept block's edge
    kappa: float  # κ(M) = ‖M‖₂ ‖M⁻¹‖₂
    whitening: torch.Tensor  # M


def whitened(weight: torch.Tensor, rows: torch.Tensor, config, reading: Reading, r: int) -> Whitened:
    """[SVD(W M)]_r M⁻¹ in float64 from the original weight and the calibration rows, straight from the reading."""
    w, x = weight.to(torch.float64), rows.reshape(-1, weight.shape[1]).to(torch.float64)
    m = reading.whitening(x, config)  # (d_in, d_in)
    u, s, vh = torch.linalg.svd(w @ m, full_matrices=False)
    n = len(s)
    if reading.bottom(config):
        keep, edge = slice(n - r, n), (n - r - 1, n - r)
    else:
        keep, edge = slice(0, r), (r - 1, r)
    gap = float(s[edge[0]] - s[edge[1]]) if 0 <= edge[0] and edge[1] < n else float(s[0])
    term = (u[:, keep] * s[keep]) @ torch.linalg.solve(m.T, vh[keep].T).T  # U_r Σ_r (V_rᵀ M⁻¹)
    condition = float(s[0]) / gap if gap > 0 else float("inf")
    return Whitened(term, u[:, keep], s, condition, float(torch.linalg.cond(m)), m)


def projector_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖P_a − P_b‖₂ for two (n, r) bases: the sine of the largest principal angle between their spans."""
    qa, _ = torch.linalg.qr(a.to(torch.float64))
    qb, _ = torch.linalg.qr(b.to(torch.float64))
    return float(torch.linalg.matrix_norm(qa @ qa.T - qb @ qb.T, ord=2))


def spectral(t: torch.Tensor) -> float:
    """‖t‖₂, the largest singular value."""
    return float(torch.linalg.matrix_norm(t.to(torch.float64), ord=2))


def column_basis(term: torch.Tensor, r: int) -> torch.Tensor:
    """(d_out, r) the top-r left singular vectors of a realised rank-r term: its column space."""
    return torch.linalg.svd(term.to(torch.float64), full_matrices=False)[0][:, :r]


def build_with(subject: Subject, case: LayerCase, config, calibration: torch.Tensor | None):
    """As `Subject.build`, with the calibration tensor chosen by the check: (adapted layer, original W)."""
    base = base_layer(case)
    weight = base.weight.detach().clone()
    bias = base.bias.detach().clone() if base.bias is not None else None
    seed_torch(case.seed)
    layer = subject.binding.build(subject.variant.name, weight, bias, config, calibration)
    layer.module.eval()
    layer.base.eval()
    return layer, weight


def allowances(case: LayerCase, ref: Whitened, rows: int) -> tuple[float, float]:
    """(t_sub, t_alg): the projector allowance (Davis–Kahan on the SVD of W M, T-decomp with its floor) and the
    rounding of undoing the whitening, a triangular solve (4 max(d) · eps · κ(M): no decomposition's fixed cost)."""
    u = eps(case.torch_dtype)
    t_sub = decomp_k(max(case.d_in, case.d_out) + rows) * u * ref.condition
    t_alg = 4 * max(case.d_in, case.d_out) * u * ref.kappa
    return t_sub, t_alg


class CalibrationStatistic(Check):
    kind = "calibration_statistic"
    topic = "calibration"

    def __init__(self, reading: Reading, samples: int = 1, options: dict | None = None):
        super().__init__(options)
        self.reading, self.samples = reading, samples

    def __repr__(self) -> str:
        extra = f", samples={self.samples}" if self.samples > 1 else ""
        return f"CalibrationStatistic({self.reading.text}{extra}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec, reading, samples = subject.variant, self.reading, self.samples

        def prop(case, record):
            config = subject.config(case)
            data = spec.calibration(case)
            rows = data.shape[0] - data.shape[0] % samples  # equal samples; the one-sample build uses the same rows
            data = data[:rows]
            layer, weight = build_with(subject, case, config, data)
            w = weight.to(torch.float64)
            ref = whitened(w, data, config, reading, case.r)
            t_sub, t_alg = allowances(case, ref, rows)
            realised = spec.initial_term(realised_state(layer), config)
            if samples > 1:
                split, _ = build_with(subject, case, config, data.reshape(samples, rows // samples, case.d_in))
                other = spec.initial_term(realised_state(split), config)
                what, against = f"the init from {samples} samples", realised
                against_basis = column_basis(realised, case.r)
                realised, t_sub, t_alg = other, 2 * t_sub, 2 * t_alg
            else:
                what, against, against_basis = f"[SVD(W M)]_r M⁻¹ with M = {reading.text}", ref.term, ref.basis
            dist = projector_distance(column_basis(realised, case.r), against_basis)
            err = spectral(realised - against)
            tol_term = spectral(w) * (t_sub + t_alg)
            measured = {"projector_distance": dist, "projector_tolerance": t_sub, "term_error": err,
                        "term_tolerance": tol_term, "term_norm": spectral(against), "condition_WM": ref.condition,
                        "kappa_M": ref.kappa, "rows": float(rows)}
            if not (dist <= t_sub):
                raise Violation(f"span of the initial term differs from that of {what}: ‖P̂ − P‖₂ = "
                                f"{magnitude(dist)} > "
                                f"{t_sub:.3g} = k_(d+N)·eps·σ_1/gap of W M{' ×2' if samples > 1 else ''} "
                                f"[{case}]", measured)
            if not (err <= tol_term):
                raise Violation(f"initial term differs from {what}: ‖T̂ − T‖₂ = {magnitude(err)} > "
                                f"{tol_term:.3g} = "
                                f"‖W‖₂·(t_sub + 4·max(d)·eps·κ(M)) (‖T‖₂ = {measured['term_norm']:.3g}) [{case}]",
                                measured)
            record.add(case, max(dist / t_sub, err / tol_term), measured)

        if samples > 1:
            text = f"the init from the calibration rows fed as {samples} samples equals the one-sample init"
        else:
            text = f"the realised initial term equals [SVD(W M)]_r M⁻¹, M = {reading.text}, computed in float64 " \
                   f"from the same calibration rows"
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"{text}: projector distance within k_(d+N)·eps·σ_1/gap (k_n = 4·n + 128) and "
            f"the term "
            f"within ‖W‖₂·(that + 4·max(d)·eps·κ(M)) in all {rec.examples} examples"
            + noisy(f" (witness: distance {rec.first_measured.get('projector_distance', float('nan')):.2g}, term error "
                    f"{rec.first_measured.get('term_error', float('nan')):.2g})") + rec.worst_clause(),
        )


def witness_figure(rec, key: str) -> str:
    """A measured number of the witness, to the digits its tolerance leaves (fidelity/stable.py)."""
    return figure(rec.first_measured.get(key, float("nan")), rec.first_measured.get("tolerance", 0.0), 4)


def weighted_optimality(reading: Reading, subject: Subject, profile) -> Evidence:
    """K20 for whitening inits: ‖(W − T̂) M‖_F equals the weighted Eckart–Young minimum; the plain crop misses it.

    Tolerance: T̂ − T has rank ≤ 2r and ‖T̂ − T‖₂ ≤ ‖W‖₂ (t_sub + t_alg) is what K19 allows, so by the triangle
    inequality |‖(W − T̂) M‖_F − ‖(W − T) M‖_F| ≤ ‖M‖₂ √(2r) ‖W‖₂ (t_sub + t_alg), and ‖(W − T) M‖_F is exactly the
    minimum. Non-vacuity: on the witness the plain SVD's crop must miss the minimum by more than 10× that.
    """
    spec = subject.variant

    def prop(case, record):
        config = subject.config(case)
        data = spec.calibration(case)
        layer, weight = build_with(subject, case, config, data)
        w = weight.to(torch.float64)
        ref = whitened(w, data, config, reading, case.r)
        t_sub, t_alg = allowances(case, ref, data.shape[0])
        m = ref.whitening
        term = spec.initial_term(realised_state(layer), config)
        error = float(((w - term) @ m).norm())
        minimum = float(ref.sigma[case.r:].norm())
        u, s, vh = torch.linalg.svd(w, full_matrices=False)
        plain = float(((w - (u[:, :case.r] * s[:case.r]) @ vh[:case.r]) @ m).norm())
        tol = float(torch.linalg.matrix_norm(m, ord=2)) * math.sqrt(2 * case.r) \
            * float(torch.linalg.matrix_norm(w, ord=2)) * (t_sub + t_alg)
        measured = {"weighted_error": error, "weighted_minimum": minimum, "plain_svd_weighted_error": plain,
                    "excess": error - minimum, "tolerance": tol}
        if not record.examples and plain - minimum <= 10 * tol:
            raise RuntimeError(f"non-vacuity: on the witness the plain SVD's crop misses the weighted minimum by only "
                               f"{plain - minimum:.3g}; the check cannot tell them apart [{case}]")
        if not (abs(error - minimum) <= tol):
            raise Violation(f"‖(W − T̂) M‖_F = {figure(error, tol, 6)}, the weighted Eckart–Young minimum "
                            f"(Σ_(i>r) σ_i(W M)²)^½ is {figure(minimum, tol, 6)} (excess {figure(error - minimum, tol)}"
                            f" > {tol:.3g}; the plain SVD's crop gives {figure(plain, tol, 6)}), M = {reading.text} "
                            f"[{case}]", measured)
        measured["plain_measurably_worse"] = float(plain - minimum > 2 * tol)
        record.add(case, abs(error - minimum) / tol, measured)

    return run_property(
        prop, profile, subject,
        observation=lambda rec: f"‖(W − T̂) M‖_F equals the weighted Eckart–Young minimum (Σ_(i>r) σ_i(W M)²)^½, "
        f"M = {reading.text}, within ‖M‖₂·√(2r)·‖W‖₂·(t_sub + t_alg) in all {rec.examples} examples"
        f"{rec.worst_clause()}; on the witness the plain SVD's crop gives "
        f"{witness_figure(rec, 'plain_svd_weighted_error')} against the minimum "
        f"{witness_figure(rec, 'weighted_minimum')}",
    )
