"""antipasto_dplr: the AntiPaSTO frozen SVD basis and 1+ELU gain (Clark 2026, arXiv:2601.07473, §3.4) with a LoRA
core (Hu et al. 2021, arXiv:2106.09685, §4.1) in subspace coordinates — lora-lite's design.

    W_eff = W_res + U (diag(S_eff) + coeff · B A) Vh,   S_eff = S ⊙ (1 + ELU(coeff · g))
    g: (r,) gain,  A: (k, r) core down,  B: (r, k) core up,  U, S, Vh: frozen top-r SVD of W

Identity at init up to the rounding of W_res (g = 0, B = 0). The LoRA paper's claims apply to the core with
LoRA's (B, A) read as (U B, A Vh) and its rank r as the core rank k; where the design departs from LoRA
(Kaiming A, coeff in place of α/r, an update confined to the frozen subspaces) the reference binding declares it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Confinement, Formula, Identity, InitDistribution, Inventory, Liveness,
                             LowRank, Reconstruction, RuntimeOff, Scaling, SignInvariance, ZeroSide)
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class DplrConfig:
    r: int
    k: int
    coeff: float = 1.0


def s_eff(state, cfg: DplrConfig) -> torch.Tensor:
    return state["singular"] * (1 + F.elu(cfg.coeff * state["gain"]))  # (r,)


def scaled_delta(state, cfg: DplrConfig):
    """coeff · U B A Vh: (d_out, r) (r, k) (k, r) (r, d_in), and the same on absolute values."""
    u, vh, a, b = state["basis_out"], state["basis_in"], state["core_down"], state["core_up"]
    return cfg.coeff * u @ b @ a @ vh, abs(cfg.coeff) * u.abs() @ b.abs() @ a.abs() @ vh.abs()


def effective_weight(state, cfg: DplrConfig):
    u, vh = state["basis_out"], state["basis_in"]
    core, core_abs = scaled_delta(state, cfg)
    gain = s_eff(state, cfg)
    return (state["weight"] + (u * gain) @ vh + core,
            state["weight"].abs() + (u.abs() * gain.abs()) @ vh.abs() + core_abs)


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """g ~ N(0, 0.5); A ~ N(0, 1/√r); B ~ N(0, 1) rescaled so that ‖coeff U B A Vh‖_F = 0.3 ‖W‖_F."""
    gen = case.generator(stream=4)
    gain = 0.5 * torch.randn(case.r, generator=gen, dtype=torch.float64)
    down = torch.randn(case.k, case.r, generator=gen, dtype=torch.float64) / math.sqrt(case.r)
    up = torch.randn(case.r, case.k, generator=gen, dtype=torch.float64)
    up *= 0.3 * weight.norm() / (abs(cfg.coeff) * (up @ down).norm())  # U, Vh orthonormal: norms carry over
    return {"gain": gain, "core_down": down, "core_up": up}


def pad_rank(state, k_new: int) -> dict[str, torch.Tensor]:
    """The same core B A at core rank k_new: zero rows appended to A, zero columns to B."""
    a, b = state["core_down"], state["core_up"]
    extra = k_new - a.shape[0]
    return {"gain": state["gain"], "core_down": torch.cat([a, a.new_zeros(extra, a.shape[1])]),
            "core_up": torch.cat([b, b.new_zeros(b.shape[0], extra)], dim=1)}


def sign_flip(state, d: torch.Tensor) -> dict[str, torch.Tensor]:
    """(U D, D Vh): the gain is diagonal and commutes with D; the core maps A → A D, B → D B."""
    return {"basis_out": state["basis_out"] * d, "basis_in": d[:, None] * state["basis_in"],
            "core_down": state["core_down"] * d, "core_up": d[:, None] * state["core_up"]}


def alpha_over_k(case, cfg) -> float:
    """LoRA's α/r with r read as the core's rank k (the implementation has no α: case.alpha is the paper's)."""
    return case.alpha / cfg.k


SPEC = VariantSpec(
    name="antipasto_dplr",
    title="AntiPaSTO gain with a LoRA core in subspace coordinates (lora-lite's antipasto_dplr)",
    papers=("2106.09685", "2601.07473"),
    roles=(
        Role("gain", lambda c: (c.r,), "g (r,)"),
        Role("core_down", lambda c: (c.k, c.r), "A (k, r)"),
        Role("core_up", lambda c: (c.r, c.k), "B (r, k)"),
    ),
    buffers=(
        Role("basis_out", lambda c: (c.d_out, c.r), "U (d_out, r)"),
        Role("singular", lambda c: (c.r,), "S (r,)"),
        Role("basis_in", lambda c: (c.r, c.d_in), "Vh (r, d_in)"),
    ),
    zero_at_init=frozenset({"gain", "core_up"}),
    live_at_step0=frozenset({"gain", "core_up"}),
    make_config=lambda case, **options: DplrConfig(r=case.r, k=case.k, coeff=case.coeff, **options),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: cfg.coeff,
    inner_length=lambda case: case.d_in + 2 * case.r + case.k,
    random_state=random_state,
    parameter_count=lambda case: case.r + 2 * case.r * case.k,
    identity="recon",
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, k=4, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=16.0, k=3, coeff=-1.5, dtype="float32",
                               spectrum="gapped", seed=1),),
    cases=lambda: layer_cases(spectrum="gapped", core=True),
    rank_field="k",
    pad_rank=pad_rank,
    max_rank=lambda case: case.r,
    isolate_scaled=lambda state: {"gain": torch.zeros_like(state["gain"])},
    sign_flip=sign_flip,
    distribution_layers=(
        LayerCase(d_in=512, d_out=256, r=256, alpha=16.0, k=64, seed=0),
        LayerCase(d_in=384, d_out=128, r=128, alpha=16.0, k=64, seed=1),
    ),
    claims={
        "lora.low-rank-form": LowRank(),
        "lora.frozen-base": Inventory(),
        "lora.forward": Formula(),
        "lora.full-space": Confinement(confined=False),
        "lora.zero-init": ZeroSide(),
        "lora.identity-at-init": Identity(),
        "lora.gaussian-a": InitDistribution(role="core_down", family="gaussian"),
        "lora.step0-gradient": Liveness(),
        "lora.scaling": Scaling(law=alpha_over_k, law_text="α/r (r = the core rank k)"),
        "lora.citation": Citation(paper="2106.09685"),
        "antipasto.reconstruction": Reconstruction(),
        "antipasto.coeff-zero": RuntimeOff(),
        "antipasto.confinement": Confinement(confined=True),
        "antipasto.sign-invariance": SignInvariance(),
        "antipasto.citation": Citation(paper="2601.07473"),
    },
)
