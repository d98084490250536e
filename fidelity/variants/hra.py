"""HRA: Yuan, Liu, Xu 2024, "Bridging The Gap between Low-rank and Orthogonal Adaptation via Householder Reflection
Adaptation", arXiv:2405.17484 (§3.1 Eqs. 1–2, §3.4 Eq. 6).

    W_eff = W H_1 H_2 ⋯ H_r,  H_i = I − 2 u_i u_iᵀ / ‖u_i‖²,  b_eff = b     (u_r meets x first, Eq. 2)
    strictly orthogonal (λ = ∞, PEFT apply_GS):  W_eff = W (I − 2 U_r U_rᵀ),  U_r = GS(V_r)
    regulariser (Eq. 6):  λ ‖I_r − Û_rᵀ Û_r‖²_F,  Û_r the unit vectors u_i / ‖u_i‖
    reflectors U_r = [u_1, …, u_r]: (d_in, r), as PEFT's hra_u

The reflections act on the layer's input (the paper's d is d_in), so W_eff = W R, not R W. The paper gives no init;
the authors' code and PEFT pair the vectors (u_{2k−1} = u_{2k}) so the reflections cancel: an identity up to
rounding ("recon"), which needs an even r. U_r is live at step 0.

Tolerances. The formula on absolute values, |W| ∏ (I + 2|û_i||û_i|ᵀ), grows like (1 + 2cos²)^r although every
factor is orthogonal, and would make the check vacuous at large r. A product of Householder reflections is
backward stable normwise (Higham, Accuracy and Stability of Numerical Algorithms, §19.3), so the scale of
W_eff[i, j] is the row norm ‖W[i, :]‖₂ (|W_eff[i, j]| ≤ ‖W[i, :]‖₂ ‖R[:, j]‖₂ = ‖W[i, :]‖₂), with the path length
n = d_in + r: r reflections, each an inner product of length d_in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Formula, Identity, Influence, Inventory, Liveness, Orthogonality, Regularizer,
                             Validation)
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class HraConfig:
    r: int
    apply_GS: bool = False  # the paper's strictly orthogonal variant (λ = ∞, §3.4)
    lam: float = 0.0  # λ of the orthogonality regulariser, Eq. (6); 0 = plain HRA


def unit_columns(u: torch.Tensor) -> torch.Tensor:
    """û_i = u_i / ‖u_i‖, each column on the sphere S^{d−1} (Eq. 1)."""
    return u / torch.linalg.norm(u, dim=0)


def householder_chain(u: torch.Tensor) -> torch.Tensor:
    """R = H_1 H_2 ⋯ H_r with H_i = I − 2 û_i û_iᵀ (d_in, d_in): R x applies H_r to x first, as Eq. (2) does."""
    unit = unit_columns(u)
    chain = torch.eye(u.shape[0], dtype=u.dtype)
    for i in range(u.shape[1]):
        ui = unit[:, i:i + 1]  # (d_in, 1)
        chain = chain - 2 * (chain @ ui) @ ui.T  # chain ← chain H_i
    return chain


def gram_schmidt(v: torch.Tensor) -> torch.Tensor:
    """U_r = GS(V_r) (d_in, r), orthonormal; through U_r U_rᵀ, which every Gram–Schmidt of a full-rank V_r shares."""
    return torch.linalg.qr(v).Q


def transform(state, cfg) -> torch.Tensor:
    """The adapter's orthogonal factor on the input side: H_1 ⋯ H_r, or I − 2 U_r U_rᵀ with apply_GS."""
    u = state["reflectors"]
    if cfg.apply_GS:
        q = gram_schmidt(u)
        return torch.eye(u.shape[0], dtype=u.dtype) - 2 * q @ q.T
    return householder_chain(u)


def effective_weight(state, cfg):
    """W_eff = W R (Eq. 1), and its normwise scale ‖W[i, :]‖₂ (module docstring)."""
    weight = state["weight"]
    rows = torch.linalg.norm(weight, dim=1, keepdim=True)  # (d_out, 1)
    return weight @ transform(state, cfg), rows.expand_as(weight)


def adapter_delta(state, cfg):
    """ΔW = W (R − I); HRA has no scaling constant."""
    w_eff, scale = effective_weight(state, cfg)
    return w_eff - state["weight"], scale


def regularizer(state, cfg):
    """λ ‖I_r − Û_rᵀ Û_r‖²_F (Eq. 6) on the unit vectors, and its rounding scale λ Σ 2 |I − ÛᵀÛ| ⊙ |Û|ᵀ|Û|: an entry
    of ÛᵀÛ is off by eps · (|Û|ᵀ|Û|)_ij, which moves its square by twice that times |I − ÛᵀÛ|_ij (first order)."""
    unit = unit_columns(state["reflectors"])
    gap = torch.eye(unit.shape[1], dtype=unit.dtype) - unit.T @ unit  # (r, r)
    return cfg.lam * gap.pow(2).sum(), cfg.lam * (2 * gap.abs() * (unit.abs().T @ unit.abs())).sum()


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """Fresh independent vectors, pairs broken (claim-kinds.md §1.4), with entries ±U(0.5, 1.5) rather than N(0, 1):
    a near-zero coordinate of u_i barely moves H_i when perturbed by 10 % of itself, which the per-coordinate
    influence check would take for an unused coordinate. With apply_GS, V_r = Q₁ diag(s) Q₂ᵀ with s in [1, 2]:
    Gram–Schmidt's rounding grows with κ(V_r) (Björck 1994, the paper's ref. [2]), so κ ≤ 2 keeps the comparison
    about the formula, not about GS's conditioning."""
    gen = case.generator(stream=4)
    if not cfg.apply_GS:
        signs = torch.where(torch.rand(case.d_in, case.r, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
        return {"reflectors": signs * (0.5 + torch.rand(case.d_in, case.r, generator=gen, dtype=torch.float64))}
    q1, _ = torch.linalg.qr(torch.randn(case.d_in, case.r, generator=gen, dtype=torch.float64))
    q2, _ = torch.linalg.qr(torch.randn(case.r, case.r, generator=gen, dtype=torch.float64))
    s = 1 + torch.rand(case.r, generator=gen, dtype=torch.float64)
    return {"reflectors": (q1 * s) @ q2.T}


def odd_rank(case: LayerCase) -> LayerCase:
    """The case with an odd number of reflections (the paired init needs an even r)."""
    return case.with_(r=case.r + 1 if case.r + 1 <= min(case.d_in, case.d_out) else case.r - 1)


def even_rank_cases():
    """layer_cases with r rounded down to an even number (at least 2), as the paired init needs."""
    return layer_cases().map(lambda c: c.with_(r=max(2, c.r - c.r % 2)))


GS = {"apply_GS": True}
PAPER_LAMBDA = {"lam": 1e-4}  # §4.2: λ = 1e-4 for the r = 16 and 32 LLaMA2 runs
ODD_R = "an odd r with the default (paired) init"

SPEC = VariantSpec(
    name="hra",
    title="HRA (Householder reflection adaptation)",
    papers=("2405.17484",),
    roles=(Role("reflectors", lambda c: (c.d_in, c.r), "U_r = [u_1, …, u_r] (d_in, r), one reflection per column"),),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"reflectors"}),
    make_config=lambda case, **options: HraConfig(r=case.r, **options),
    effective_weight=effective_weight,
    scaled_delta=adapter_delta,
    scaling=lambda cfg: 1.0,
    # x W then r reflections in sequence, x − 2 (x·u_i) u_i each: every one adds an inner product of length d_in and
    # two operations to the accumulated error, so the path is d_in + r (d_in + 2) long (with d_in + r, the reference's
    # exact chain came to 0.58 of the orthogonality bound at d = 4, r = 2 in a thorough soak)
    inner_length=lambda case: case.d_in + case.r * (case.d_in + 2),
    random_state=random_state,
    parameter_count=lambda case: case.r * case.d_in,
    identity="recon",  # pairs cancel in exact arithmetic; in floating point up to rounding
    regularizer=regularizer,
    # the paper's r = 8 (GLUE, LLaMA2 r = 8 runs) on a non-square layer; a float32 one with the other aspect ratio
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=8.0),
    extra_witnesses=(LayerCase(d_in=20, d_out=36, r=4, alpha=4.0, dtype="float32", seed=1),),
    cases=even_rank_cases,
    claims={
        "hra.chain-formula": Formula(),
        "hra.orthogonal": Orthogonality(),
        "hra.identity-at-init": Identity(),
        "hra.even-r": Validation(invalid=odd_rank, text=f"{ODD_R} must be refused"),
        "hra.step0-gradient": Liveness(),
        "hra.trainable": Inventory(dtypes=("float64", "float32", "bfloat16")),
        "hra.influence": Influence(),
        "hra.orthogonality-regularizer": Regularizer(options=PAPER_LAMBDA),
        "hra.gs-formula": Formula(options=GS),
        "hra.gs-orthogonal": Orthogonality(options=GS),
        "hra.gs-orthogonal-at-init": Orthogonality(at_init=True, options=GS),
        "hra.citation": Citation(paper="2405.17484"),
    },
)
