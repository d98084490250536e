"""CorDA: Yang et al. 2024, "CorDA: Context-Oriented Decomposition Adaptation of Large Language Models for Task-Aware
Parameter-Efficient Fine-tuning", arXiv:2406.05223 (no local text; see papers/2406.05223.toml and
../shared/spec/variants.md §2.12).

    C = Xᵀ X over the layer's calibration inputs X (N, d_in), uncentred;  SVD(W C) = U Σ Vᵀ;  W = U Σ (Vᵀ C⁻¹)
    IPM: s B A = U_r Σ_r (Vᵀ C⁻¹)_r (top r);  KPM: the bottom r;  W_res = W − s B A;  h = W_res x + b + s B A x

Identity at init up to the rounding of W_res; A and B are both non-zero, so both get a gradient on step 0. Since
U_rᵀ W C = Σ_r V_rᵀ, the initial term is U_r U_rᵀ W: W projected onto the top-r left singular subspace of W C, so
the frozen W_res keeps exactly what the adapter does not (U_rᵀ W_res = 0) and ‖(W − s B A) C‖_F is the C-weighted
Eckart–Young minimum (IPM).

Reading (variants.md §4 row 14): the paper's printed W C and Vᵀ C⁻¹, undamped. Not lora-lite's W C^{1/2} (which
minimises E‖(W − Ŵ) x‖² instead: a different object, encoded as a mutant), and not PEFT's damped C̃, which the PEFT
binding declares. Whether C is a sum or a mean over rows does not matter: a global factor cancels in s B A.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (CalibrationRequired, CalibrationStatistic, Citation, Formula, Identity, Inventory,
                             Liveness, Optimality, Reconstruction)
from fidelity.checks.calibration_statistic import Reading
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.lora import LORA_FACTORS, scaled_delta

ROWS_PER_INPUT = 4  # N = 4 d_in calibration rows (claim-kinds.md §1.2: N ≥ 4 d_in)
# Eigenvalue bands of the activation covariance, times a drawn scale c ∈ [0.1, 10]: head λ_1…λ_r in [2, 4], tail
# in [0.05, 1] (anisotropic, gapped at r, κ(C) ≲ 100); the mean has norm √λ_1 in a random direction, so that the
# uncentred statistic the paper names and the centred covariance are different objects.
HEAD_BAND, TAIL_BAND = (2.0, 4.0), (0.05, 1.0)
KPM = {"method": "kpm"}


@dataclass(frozen=True)
class CordaConfig:
    r: int
    alpha: float
    method: str = "ipm"  # "ipm": the adapter takes the top r components; "kpm": the bottom r


def anisotropic_activations(case: LayerCase, rotate: bool = True) -> torch.Tensor:
    """X = Z diag(√λ) Qᵀ + 1 μᵀ, (4 d_in, d_in), in the layer's dtype (claim-kinds.md §1.2).

    Z Gaussian, λ gapped at r (the bands above), μ of norm √λ_1 in a random direction. Q is a random rotation, or with
    `rotate=False` a random permutation: anisotropy along the input channels themselves (outlier channels), which is
    what a diagonal statistic such as ASVD's can see.
    """
    gen = case.generator(stream=6)
    d, r = case.d_in, case.r
    if rotate:
        q, rr = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
        q = q * torch.sign(torch.diagonal(rr))  # (d_in, d_in) orthogonal
    else:
        q = torch.eye(d, dtype=torch.float64)[torch.randperm(d, generator=gen)]  # (d_in, d_in) permutation
    c = 10 ** (2 * float(torch.rand(1, generator=gen, dtype=torch.float64)) - 1)
    head = HEAD_BAND[0] + (HEAD_BAND[1] - HEAD_BAND[0]) * torch.rand(r, generator=gen, dtype=torch.float64)
    tail = TAIL_BAND[0] + (TAIL_BAND[1] - TAIL_BAND[0]) * torch.rand(d - r, generator=gen, dtype=torch.float64)
    lam = c * torch.cat([head.sort(descending=True).values, tail.sort(descending=True).values])  # (d_in,)
    z = torch.randn(ROWS_PER_INPUT * d, d, generator=gen, dtype=torch.float64)
    mu = torch.randn(d, generator=gen, dtype=torch.float64)
    x = (z * lam.sqrt()) @ q.T + lam[0].sqrt() * mu / mu.norm()  # (N, d_in)
    return x.to(case.torch_dtype)


def covariance(rows: torch.Tensor, cfg) -> torch.Tensor:
    """C = Xᵀ X / N, uncentred (the paper's C = X Xᵀ with samples as columns; the 1/N cancels in s B A)."""
    return rows.T @ rows / rows.shape[0]


def damped_covariance(rows: torch.Tensor, cfg) -> torch.Tensor:
    """PEFT's (and the authors' code's) C̃ = C + δ · mean(diag C) · I, δ = 0.01 doubled until ‖C̃ C̃⁻¹ − I‖_F < 0.05.

    PEFT tests the stopping rule in float32, this in float64: both stop at δ = 0.01 unless κ(C̃) nears 1/eps32, far
    beyond the suite's calibration data (κ(C) ≲ 100).
    """
    c = covariance(rows, cfg)
    eye = torch.eye(c.shape[0], dtype=c.dtype)
    delta = 0.01
    while True:
        damped = c + delta * c.diagonal().mean() * eye
        if float(torch.dist(damped @ torch.linalg.inv(damped), eye)) < 0.05:
            return damped
        delta *= 2


def is_kpm(cfg) -> bool:
    """KPM keeps the bottom r components."""
    return cfg.method == "kpm"


PAPER = Reading("C = XᵀX (uncentred, undamped)", covariance, bottom=is_kpm)
DAMPED = Reading("C̃ = XᵀX + δ·mean(diag)·I (PEFT's relative damping)", damped_covariance, bottom=is_kpm)


SPEC = VariantSpec(
    name="corda",
    title="CorDA (context-oriented decomposition: a LoRA init from SVD(W C), IPM and KPM)",
    # Each example runs PEFT's offline preprocess_corda (hooks, covariance, damped inverse): half the profile's
    # examples keep the family within its time budget; the witnesses always run.
    examples_fraction=0.5,
    papers=("2406.05223",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r)"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"down", "up"}),
    make_config=lambda case, **options: CordaConfig(r=case.r, alpha=case.alpha, **options),
    **LORA_FACTORS,
    identity="recon",
    # LoRA's r = 8, α = 16 on a 32 → 24 layer, and a float32 case with α = r (s = 1) on a 20 → 28 layer.
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=5, alpha=5.0, dtype="float32", seed=1, spectrum="gapped"),),
    cases=lambda: layer_cases(spectrum="gapped"),
    calibration=anisotropic_activations,
    initial_term=lambda state, cfg: scaled_delta(state, cfg)[0],
    claims={
        "corda.calibration-required": CalibrationRequired(),
        "corda.statistic": CalibrationStatistic(reading=PAPER),
        "corda.equal-weighting": CalibrationStatistic(reading=PAPER, samples=4),
        "corda.optimality": Optimality(weighting=PAPER),
        "corda.reconstruction": Reconstruction(tail=False),
        "corda.identity-at-init": Identity(),
        "corda.step0-gradient": Liveness(),
        "corda.frozen-base": Inventory(),
        "corda.forward": Formula(),
        "corda.kpm-statistic": CalibrationStatistic(reading=PAPER, options=KPM),
        "corda.citation": Citation(paper="2406.05223"),
    },
)
