"""lora_xs: LoRA-XS, Bałazy et al. 2024, arXiv:2405.17604 (no local text; variants.md §2.11 and the authors' code).

    W_eff = W + s B R A = W + s U_r R diag(S_r) Vh_r,   s = α/r (α = r by default: s = 1)
    A = diag(S_r) Vh_r: (r, d_in) and B = U_r: (d_out, r) frozen, from the truncated SVD of W;  R: (r, r) trained

W is kept as it is (no residual crop). R ~ N(0, 1e-5), so the layer is a declared near-identity at init (K02),
bounded by s ‖R‖₂ ‖x Aᵀ‖, and R is live on step 0 because A and B are non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Decomposition, Formula, InitDistribution, Inventory, Liveness, NearIdentity,
                             Scaling)
from fidelity.checks.decomposition import SubspaceClaim
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class LoraXsConfig:
    r: int
    alpha: float | None = None  # None: the authors' setting α = r


def scaling(cfg: LoraXsConfig) -> float:
    return (cfg.r if cfg.alpha is None else cfg.alpha) / cfg.r


def scaled_delta(state, cfg: LoraXsConfig):
    """s B R A: (d_out, r) (r, r) (r, d_in), and the same on absolute values."""
    s, b, core, a = scaling(cfg), state["up"], state["core"], state["down"]
    return s * b @ core @ a, abs(s) * b.abs() @ core.abs() @ a.abs()


def effective_weight(state, cfg: LoraXsConfig):
    delta, delta_abs = scaled_delta(state, cfg)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def near_identity_bound(state, cfg: LoraXsConfig, x: torch.Tensor) -> torch.Tensor:
    """s ‖R‖₂ ‖x_i Aᵀ‖ per input row (B = U_r has orthonormal columns)."""
    return scaling(cfg) * torch.linalg.matrix_norm(state["core"], ord=2) * (x @ state["down"].T).norm(dim=1)


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """R ~ N(0, 0.3) (claim-kinds.md §1.4)."""
    return {"core": 0.3 * torch.randn(case.r, case.r, generator=case.generator(stream=4), dtype=torch.float64)}


def pad_rank(state, r_new: int) -> dict[str, torch.Tensor]:
    """The same update at rank r_new: R padded with zero rows and columns (the extra SVD triplets get weight 0)."""
    core = state["core"]
    padded = core.new_zeros(r_new, r_new)
    padded[: core.shape[0], : core.shape[1]] = core
    return {"core": padded}


def subspaces(case, state, weight, calibration, config) -> list[SubspaceClaim]:
    """span B = span U_r and row(A) = span Vh_r of W; negative control: the top-r shifted by one triplet."""
    u, sigma, vh = torch.linalg.svd(weight, full_matrices=False)
    r = case.r
    condition = float(sigma[0] / (sigma[r - 1] - sigma[r]))
    return [
        SubspaceClaim("span(B) = span(U_r)", state["up"], u[:, :r], condition, u[:, 1:r + 1]),
        SubspaceClaim("row(A) = span(Vh_r)", state["down"].T, vh[:r].T, condition, vh[1:r + 1].T),
    ]


SPEC = VariantSpec(
    name="lora_xs",
    title="LoRA-XS: a trained r × r matrix between frozen truncated-SVD factors of W",
    papers=("2405.17604",),
    roles=(Role("core", lambda c: (c.r, c.r), "R (r, r)"),),
    buffers=(
        Role("down", lambda c: (c.r, c.d_in), "A = diag(S_r) Vh_r (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B = U_r (d_out, r)"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"core"}),
    make_config=lambda case, **options: LoraXsConfig(**{"r": case.r, "alpha": case.alpha, **options}),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=scaling,
    inner_length=lambda case: case.d_in + 2 * case.r,
    random_state=random_state,
    parameter_count=lambda case: case.r * case.r,
    identity="near",
    # the authors' setting α = r; a float32 witness at lora-lite's α = 16 besides
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=8.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=16.0, dtype="float32", spectrum="gapped", seed=1),),
    cases=lambda: layer_cases(spectrum="gapped"),
    pad_rank=pad_rank,
    max_rank=lambda case: min(case.d_in, case.d_out),
    subspaces=subspaces,
    # K29 needs thousands of entries of R (48² + 40² = 3904); R is r × r whatever the layer, so small layers do.
    # Calibrated over 200 seeds: 0 false alarms at p < 1e-3, the uniform control rejected 200 times (p ≤ 1.3e-9).
    distribution_layers=(
        LayerCase(d_in=64, d_out=56, r=48, alpha=48.0, seed=0),
        LayerCase(d_in=48, d_out=44, r=40, alpha=40.0, seed=1),
    ),
    claims={
        "lora_xs.svd-factors": Decomposition(),
        "lora_xs.trainable": Inventory(),
        "lora_xs.forward": Formula(),
        "lora_xs.scaling": Scaling(law=lambda case, cfg: cfg.alpha / cfg.r, law_text="α/r"),
        "lora_xs.default-scale": Scaling(law=lambda case, cfg: 1.0, law_text="1 (α = r, the default)",
                                         options={"alpha": None}),
        "lora_xs.gaussian-r": InitDistribution(role="core", family="gaussian_1e-5"),
        "lora_xs.near-identity": NearIdentity(bound=near_identity_bound, bound_text="s ‖R‖₂ ‖x Aᵀ‖"),
        "lora_xs.step0-gradient": Liveness(),
        "lora_xs.citation": Citation(paper="2405.17604"),
    },
)
