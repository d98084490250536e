"""AdaLoRA: Zhang et al. 2023 (ICLR), "AdaLoRA: Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning",
arXiv:2303.10512 (§3.1 Eq. 3–4, §4 implementation details).

    W_eff = W + s · P diag(Λ) Q,   b_eff = b,   s = α/r,   loss term γ (‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F)
    Q: (r, d_in) down,  Λ: (r,) singular values (the diagonal),  P: (d_out, r) up

Eq. (3) writes W = W(0) + P Λ Q in column form with P ∈ R^{d1×r}, Q ∈ R^{r×d2}, so d1 = d_out and d2 = d_in; the
roles are the paper's (Q, Λ as its r diagonal entries, P; PEFT stores Λ as an (r, 1) column). §4: "Following LoRA, we add the
same scaling for (3)", s = α/r with r the layer's rank; at init that rank is init_r (b(0) = 1.5 b(T) prunes towards
target_r during training, which is out of scope here: the rank allocation is training dynamics). Identity at init
from Λ = 0, so only Λ gets a gradient on step 0; P and Q are random Gaussian (the paper gives no variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Formula, Identity, Influence, InitDistribution, Inventory, Liveness,
                             Regularizer, Scaling, ZeroSide)
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class AdaloraConfig:
    r: int  # init_r: the rank every adapted layer starts with
    alpha: float
    budget: str = "pruned"  # "pruned": target_r = r/1.5 (App. C, b(0) = 1.5 b(T)); "fixed": target_r = r (SVD-LoRA)
    orth_reg_weight: float = 0.1  # γ of the training objective (App. G and most of Table 8)

    @property
    def target_r(self) -> int:
        """The average final rank of the budget schedule; used by the rank allocation only, never at init."""
        return self.r if self.budget == "fixed" else max(1, round(self.r / 1.5))


def scaling(cfg) -> float:
    """s = α/r, LoRA's scaling that §4 adds to (3), with r the layer's rank at init (init_r)."""
    return cfg.alpha / cfg.r


def scaled_delta(state, cfg, s: float | None = None):
    """∆ = s P diag(Λ) Q: (d_out, r) @ (r, d_in), and the same on absolute values."""
    s = scaling(cfg) if s is None else s
    p, lam, q = state["up"], state["singular"], state["down"]
    return s * (p * lam) @ q, s * (p.abs() * lam.abs()) @ q.abs()


def effective_weight(state, cfg):
    """W_eff = W + (α/r) P Λ Q (Eq. 3 with §4's scaling)."""
    delta, delta_abs = scaled_delta(state, cfg)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


OFFICIAL_RANK_EPSILON = 1e-5  # the official code's `ranknum + 1e-5` (QingruZhang/AdaLoRA#12), inherited by PEFT


def official_scaling(case, cfg) -> float:
    """s = α/(r + 1e-5): loralib's SVDLinear and PEFT's SVDLinear divide by ranknum + 1e-5."""
    return cfg.alpha / (cfg.r + OFFICIAL_RANK_EPSILON)


def official_effective_weight(state, cfg):
    """W_eff = W + α/(r + 1e-5) P Λ Q, the official code's denominator."""
    delta, delta_abs = scaled_delta(state, cfg, s=official_scaling(None, cfg))
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def regularizer(state, cfg):
    """γ R(P, Q) = γ (‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F) (Eq. 4, weighted as in the objective L = C + γ Σ_k R(P_k, Q_k)),
    and the same formula on absolute values (|P|ᵀ|P| + I and |Q||Q|ᵀ + I, squared and summed)."""
    p, q = state["up"], state["down"]
    eye = torch.eye(p.shape[1], dtype=torch.float64)
    value = (p.T @ p - eye).pow(2).sum() + (q @ q.T - eye).pow(2).sum()
    scale = (p.abs().T @ p.abs() + eye).pow(2).sum() + (q.abs() @ q.abs().T + eye).pow(2).sum()
    return cfg.orth_reg_weight * value, cfg.orth_reg_weight * scale


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """Q's rows and P's columns in random directions with norms drawn from [1.5, 2.5]; Λ = ±U(0.5, 1.5) with random
    signs, rescaled so that ‖s P Λ Q‖_F = 0.3 ‖W‖_F (claim-kinds.md §1.4).

    Far from orthonormal by construction: every diagonal entry of PᵀP − I and QQᵀ − I is at least 1.5² − 1, so the
    regulariser is at least 2 · 1.56 γ r. (Gaussian factors of unit expected norm, as before, drew a single column of
    norm ≈ 1 at r = 1 now and then: an orthonormal factor, and a regulariser at rounding level.) Λ's magnitudes are
    kept off zero: a near-zero singular value would mute its whole triplet, and with it its P column and Q row."""
    gen = case.generator(stream=4)
    down = torch.randn(case.r, case.d_in, generator=gen, dtype=torch.float64)
    down *= (1.5 + torch.rand(case.r, 1, generator=gen, dtype=torch.float64)) / down.norm(dim=1, keepdim=True)
    up = torch.randn(case.d_out, case.r, generator=gen, dtype=torch.float64)
    up *= (1.5 + torch.rand(1, case.r, generator=gen, dtype=torch.float64)) / up.norm(dim=0, keepdim=True)
    signs = torch.where(torch.rand(case.r, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    singular = signs * (0.5 + torch.rand(case.r, generator=gen, dtype=torch.float64))
    singular *= 0.3 * weight.norm() / (scaling(cfg) * ((up * singular) @ down).norm())
    return {"down": down, "singular": singular, "up": up}


def pad_rank(state, r_new: int) -> dict[str, torch.Tensor]:
    """The same P Λ Q at rank r_new: zero rows appended to Q, zero entries to Λ, zero columns to P."""
    down, singular, up = state["down"], state["singular"], state["up"]
    extra = r_new - down.shape[0]
    return {
        "down": torch.cat([down, down.new_zeros(extra, down.shape[1])]),
        "singular": torch.cat([singular, singular.new_zeros(extra)]),
        "up": torch.cat([up, up.new_zeros(up.shape[0], extra)], dim=1),
    }


FIXED_BUDGET = {"budget": "fixed"}  # target_r = init_r: the paper's SVD-LoRA ablation (§4.4), no pruning schedule
DTYPES = ("float64", "float32", "bfloat16")

SPEC = VariantSpec(
    name="adalora",
    title="AdaLoRA (SVD-form low-rank adaptation with an orthogonality regulariser)",
    papers=("2303.10512",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "Q (r, d_in), right singular vectors"),
        Role("singular", lambda c: (c.r,), "Λ = diag(λ_1, …, λ_r), its r singular values"),
        Role("up", lambda c: (c.d_out, c.r), "P (d_out, r), left singular vectors"),
    ),
    zero_at_init=frozenset({"singular"}),
    live_at_step0=frozenset({"singular"}),
    make_config=lambda case, **options: AdaloraConfig(r=case.r, alpha=case.alpha, **options),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=scaling,
    inner_length=lambda case: case.d_in + case.r,  # x Qᵀ sums d_in terms, then (· Λ) Pᵀ sums r
    random_state=random_state,
    parameter_count=lambda case: case.r * (case.d_in + case.d_out) + case.r,
    pad_rank=pad_rank,
    regularizer=regularizer,
    # The paper's GLUE setting on a non-square layer: initial rank 12 for a final average rank 8 (App. C.1), α = 16
    # (§4: "α is set as 16 or 32"), γ = 0.1 (App. G; the config's default)
    witness=LayerCase(d_in=32, d_out=24, r=12, alpha=16.0),
    # A square layer at full rank (r = d_in = d_out, the identity W): orientation bugs that only type-check on
    # square shapes (Q read as Qᵀ) change the output there; and a float32 case with the paper's initial rank 4
    extra_witnesses=(LayerCase(d_in=16, d_out=16, r=16, alpha=32.0, seed=2, spectrum="identity"),
                     LayerCase(d_in=20, d_out=36, r=4, alpha=32.0, dtype="float32", seed=1)),
    cases=layer_cases,
    claims={
        "adalora.svd-form": Formula(),
        "adalora.svd-form-fixed-budget": Formula(options=FIXED_BUDGET),
        "adalora.scaling": Scaling(law=lambda case, cfg: cfg.alpha / cfg.r, law_text="α/r"),
        "adalora.zero-init": ZeroSide(),
        "adalora.gaussian-q": InitDistribution(role="down", family="gaussian"),
        "adalora.gaussian-p": InitDistribution(role="up", family="gaussian"),
        "adalora.identity-at-init": Identity(),
        "adalora.identity-fixed-budget": Identity(options=FIXED_BUDGET),
        "adalora.step0-gradient": Liveness(),
        "adalora.trainable": Inventory(dtypes=DTYPES),
        "adalora.orthogonal-regularizer": Regularizer(),
        "adalora.influence": Influence(),
        "adalora.citation": Citation(paper="2303.10512"),
    },
)
