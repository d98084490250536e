"""LoRA: Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685 (§4.1, Eq. 3).

    h = W0 x + b + s · B A x,   A: (r, d_in) down,  B: (d_out, r) up,  s = α/r

Identity at init because B = 0 (the up side), so only B gets a gradient on step 0. With rank stabilisation
(rsLoRA, Kalajdzievski 2023, arXiv:2312.03732) the scale is s = α/√r; nothing else changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fidelity.checks import (Citation, Confinement, Formula, Identity, InitDistribution, Inventory, Liveness,
                             LowRank, Merge, Scaling, ZeroSide)
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class LoraConfig:
    r: int
    alpha: float
    use_rslora: bool = False


# The helpers below serve every variant whose trainables are LoRA's factors (down A, up B) with s = α/r: PiSSA,
# OLoRA, EVA and CorDA import them; a config needs `r` and `alpha` (and may have `use_rslora`).


def scaling(cfg) -> float:
    return cfg.alpha / math.sqrt(cfg.r) if getattr(cfg, "use_rslora", False) else cfg.alpha / cfg.r


def scaled_delta(state, cfg):
    """ΔW = s B A: (d_out, r) @ (r, d_in), and the same on absolute values."""
    s = scaling(cfg)
    return s * state["up"] @ state["down"], s * state["up"].abs() @ state["down"].abs()


def effective_weight(state, cfg):
    """W_eff = W + s B A, `weight` being the live base (W_res for the variants that rewrite it)."""
    delta, delta_abs = scaled_delta(state, cfg)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """A ~ N(0, 1/√d_in); B ~ N(0, 1) rescaled so that ‖s B A‖_F = 0.3 ‖W‖_F (claim-kinds.md §1.4)."""
    gen = case.generator(stream=4)
    down = torch.randn(case.r, case.d_in, generator=gen, dtype=torch.float64) / math.sqrt(case.d_in)
    up = torch.randn(case.d_out, case.r, generator=gen, dtype=torch.float64)
    up *= 0.3 * weight.norm() / (scaling(cfg) * (up @ down).norm())
    return {"down": down, "up": up}


def pad_rank(state, r_new: int) -> dict[str, torch.Tensor]:
    """The same product B A at rank r_new: zero rows appended to A, zero columns to B."""
    down, up = state["down"], state["up"]
    extra = r_new - down.shape[0]
    return {
        "down": torch.cat([down, down.new_zeros(extra, down.shape[1])]),
        "up": torch.cat([up, up.new_zeros(up.shape[0], extra)], dim=1),
    }


# The math of LoRA's factors as VariantSpec fields, for every variant that trains LoRA's A and B with s = α/r.
LORA_FACTORS = dict(
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=scaling,
    inner_length=lambda case: case.d_in + case.r,
    random_state=random_state,
    parameter_count=lambda case: case.r * (case.d_in + case.d_out),
)

RSLORA = {"use_rslora": True}

SPEC = VariantSpec(
    name="lora",
    title="LoRA (with the rsLoRA scaling option)",
    papers=("2106.09685", "2312.03732"),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r)"),
    ),
    zero_at_init=frozenset({"up"}),
    live_at_step0=frozenset({"up"}),
    make_config=lambda case, **options: LoraConfig(r=case.r, alpha=case.alpha, **options),
    **LORA_FACTORS,
    pad_rank=pad_rank,
    claims={
        "lora.low-rank-form": LowRank(),
        "lora.frozen-base": Inventory(),
        "lora.forward": Formula(),
        "lora.full-space": Confinement(confined=False),
        "lora.zero-init": ZeroSide(),
        "lora.identity-at-init": Identity(),
        "lora.gaussian-a": InitDistribution(role="down", family="gaussian"),
        "lora.step0-gradient": Liveness(),
        "lora.scaling": Scaling(law=lambda case, cfg: cfg.alpha / cfg.r, law_text="α/r"),
        "lora.merge": Merge(),
        "lora.unmerge": Merge(unmerge=True),
        "lora.citation": Citation(paper="2106.09685"),
        "rslora.scaling": Scaling(law=lambda case, cfg: cfg.alpha / math.sqrt(cfg.r), law_text="α/√r",
                                  options=RSLORA),
        "rslora.forward": Formula(options=RSLORA),
        "rslora.identity-at-init": Identity(options=RSLORA),
        "rslora.citation": Citation(paper="2312.03732", options=RSLORA),
    },
)
