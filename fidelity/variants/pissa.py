"""PiSSA: Meng, Wang, Zhang 2024, "PiSSA: Principal Singular Values and Singular Vectors Adaptation of Large
Language Models", arXiv:2404.02948 (§3, Eqs. 2–5), in nn.Linear storage (../shared/spec/variants.md §0.1).

    W = U diag(S) Vh,   B = U_r diag(√(S_r/d)),   A = diag(√(S_r/d)) Vh_r,   W_res = W − s B A
    h = W_res x + b + s · B A x,   A: (r, d_in) down,  B: (d_out, r) up,  s = α/r

The paper has no α (d = 1 at its s = 1); PEFT pre-divides S_r by d = s so that s B A = U_r diag(S_r) Vh_r and
W_res is the SVD tail for every α (`pissa.scaling`). Identity at init up to the rounding of W_res; no zero side,
both factors live on step 0. The `niter` option replaces the SVD by Halko et al.'s randomised subspace iteration
(the paper's Appendix B "Fast SVD", PEFT `pissa_niter_K`), whose subspaces hold only up to the T-approx
allowance derived in `fast_svd_allowance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Decomposition, Formula, Identity, InitScaling, Inventory, Liveness,
                             Optimality, Reconstruction)
from fidelity.checks.decomposition import SubspaceClaim
from fidelity.numerics import decomp_k, eps
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.lora import LORA_FACTORS, scaled_delta


@dataclass(frozen=True)
class PissaConfig:
    r: int
    alpha: float
    niter: int = 0  # 0: the full SVD; K > 0: randomised SVD with K subspace iterations (pissa_niter_K)


# Fast SVD allowance. torch.svd_lowrank(W, q=r, niter=K) (Halko, Martinsson, Tropp 2011, Alg. 4.4; PEFT calls it
# with q = r, no oversampling) draws a Gaussian Ω (n × r, n = min(d_in, d_out)) and orthonormalises
# W (WᵀW)^K Ω on the tall side; the other side's basis comes from (WᵀW)^(K+1) Ω. With Ω₁ = V_rᵀ Ω, Ω₂ = V_tailᵀ Ω the
# standard subspace-iteration bound gives, for both sides, tan θ ≤ ρ^(2K+1) ‖Ω₂ Ω₁⁻¹‖ with ρ = σ_(r+1)/σ_r, and
# ‖P̂ − P‖₂ = sin θ ≤ min(1, tan θ). The random factor is bounded at failure probability δ per example:
# ‖Ω₂‖ ≤ √(n−r) + √r + √(2 ln(2/δ)) with probability ≥ 1 − δ/2 (Davidson–Szarek), and
# ‖Ω₁⁻¹‖ ≤ 2.35 √r · 2/δ with probability ≥ 1 − δ/2 (Sankar–Spielman–Teng 2006, P(σ_min ≤ x) ≤ 2.35 √r x).
# With δ = 1e-3 the product T_δ bounds tan θ₀; simulated 1e-3 quantiles of ‖Ω₂Ω₁⁻¹‖ (2·10⁴ draws, n ≤ 48) are ~10×
# below it. Rounding: each of the 2K+1 products and QRs is exact for a W + E_j with ‖E_j‖ ≤ T-decomp and tilts
# the basis by at most T-sub = ‖E_j‖/gap; later half-steps contract earlier tilts by ρ, so the rounding floor is
# T-sub · Σ_j ρ^j ≤ T-sub / (1 − ρ), doubled for the two products per iteration. The allowance is informative
# (≪ 1) when ρ^(2K+1) T_δ ≪ 1: at K = 16 on the gapped spectra (ρ ≤ 2/3) it stayed below 0.06 in 300 draws.
FAST_SVD_DELTA = 1e-3


def fast_svd_allowance(sigma: torch.Tensor, r: int, niter: int, t_sub: float) -> float:
    """The declared T-approx of a randomised top-r SVD with `niter` subspace iterations (derivation above)."""
    n, delta = len(sigma), FAST_SVD_DELTA
    rho = float(sigma[r] / sigma[r - 1]) if r < n else 0.0
    omega2 = math.sqrt(n - r) + math.sqrt(r) + math.sqrt(2 * math.log(2 / delta))
    omega1_inv = 2.35 * math.sqrt(r) * 2 / delta
    return min(1.0, rho ** (2 * niter + 1) * omega2 * omega1_inv) + 2 * t_sub / (1 - rho)


def subspaces(case, state, weight, calibration, cfg) -> list[SubspaceClaim]:
    """col(B) vs span U_r and row(A) vs span Vh_r of an independent float64 SVD; the bottom-r spans as controls."""
    u, sigma, vh = torch.linalg.svd(weight, full_matrices=False)
    r = case.r
    condition = float(sigma[0] / (sigma[r - 1] - sigma[r]))  # gapped cases: r < min(d_in, d_out)
    approx = 0.0
    if cfg.niter:
        t_sub = decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * condition
        approx = fast_svd_allowance(sigma, r, cfg.niter, t_sub)
    return [SubspaceClaim("col(B)", state["up"], u[:, :r], condition, u[:, -r:], approx),
            SubspaceClaim("row(A)", state["down"].T, vh[:r].T, condition, vh[-r:].T, approx)]


def factor_grams(state) -> dict[str, torch.Tensor]:
    """A Aᵀ and Bᵀ B: both diag(S_r)/d for the symmetric √S split (signs and rotations inside ties cancel)."""
    return {"A Aᵀ": state["down"] @ state["down"].T, "Bᵀ B": state["up"].T @ state["up"]}


FAST_SVD = {"niter": 16}  # the paper's largest niter (Table 6); PEFT: "set to 16 … approximately equivalent to SVD"

SPEC = VariantSpec(
    name="pissa",
    title="PiSSA (and its Fast-SVD option, PEFT pissa_niter_K)",
    papers=("2404.02948",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r)"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"down", "up"}),
    make_config=lambda case, **options: PissaConfig(r=case.r, alpha=case.alpha, **options),
    **LORA_FACTORS,
    identity="recon",
    # GLUE settings of the paper (App. Table 10: r = 8, lora alpha 16), on a gapped non-square layer; then float32
    # with α = r/2, the other side of the paper's α = r.
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=3.0, dtype="float32", spectrum="gapped", seed=1),),
    cases=lambda: layer_cases(spectrum="gapped"),
    subspaces=subspaces,
    initial_term=lambda state, cfg: scaled_delta(state, cfg)[0],
    factor_grams=factor_grams,
    claims={
        "pissa.init-subspaces": Decomposition(),
        "pissa.residual": Reconstruction(),
        "pissa.identity-at-init": Identity(),
        "pissa.trainable": Inventory(),
        "pissa.step0-gradient": Liveness(),
        "pissa.forward": Formula(),
        "pissa.scaling": InitScaling(law=lambda case, cfg: 1.0, law_text="1 (no α: √S_r at every α)"),
        "pissa.optimality": Optimality(),
        "pissa.fast-svd": Decomposition(options=FAST_SVD),
        "pissa.citation": Citation(paper="2404.02948"),
    },
)
