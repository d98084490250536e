"""Where the reference implementations depart from a paper on purpose: one entry per (variant, claim).

Each deviation names its rationale, the property that holds instead and the claims it preserves; the verdict
is DEVIATES-OK only while all of those hold, and STALE once the paper's own property holds again.
"""

from fidelity.checks import Confinement, GainBounds, InitDistribution, InitScaling, Scaling
from fidelity.impls.base import Declaration

# antipasto_dplr against the LoRA paper (lora-lite's design, variants.md §3.2, review-format.md §3).
DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a", kind="deviation", variant="antipasto_dplr",
        rationale="the core's A is Kaiming-uniform on its fan-in r, as in microsoft/LoRA's code, not the paper's "
        "Gaussian; immaterial to what the paper relies on (a random A with B = 0)",
        alternative=InitDistribution(role="core_down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
    ),
    Declaration(
        claim="lora.scaling", kind="deviation", variant="antipasto_dplr",
        rationale="no α/r: the runtime steering coefficient coeff scales the core (and steers the gain), so the "
        "output is linear in coeff and independent of α; a rank sweep may need the learning rate retuned",
        alternative=Scaling(law=lambda case, cfg: cfg.coeff, law_text="coeff"),
        preserves=("lora.identity-at-init", "antipasto.coeff-zero"),
    ),
    Declaration(
        claim="lora.full-space", kind="deviation", variant="antipasto_dplr",
        rationale="by design the U … Vh sandwich confines all mixing to W's top-r singular subspaces, where LoRA's "
        "B and A are free",
        alternative=Confinement(confined=True),
        preserves=("lora.low-rank-form", "antipasto.confinement"),
    ),
    # pissa: S_r pre-divided by s = α/r, as PEFT (variants.md §2.2, history C.7).
    Declaration(
        claim="pissa.scaling", kind="deviation", variant="pissa",
        rationale="S_r is divided by s = α/r before the √ split, as in PEFT and the authors' code, so s B A is the "
        "principal part and W_res the tail U[:, r:] S[r:] V[:, r:]ᵀ for every α (Eq. 4; QPiSSA needs a residual "
        "free of the large singular values); the factors carry √(S_r/s), the paper's √S_r only at α = r",
        alternative=InitScaling(law=lambda case, cfg: cfg.alpha / cfg.r, law_text="s = α/r (S_r pre-divided)"),
        preserves=("pissa.residual", "pissa.identity-at-init"),
        link="https://github.com/MuLabPKU/PiSSA/issues/35",
    ),
    # antipasto against the AntiPaSTO paper: lora-lite's multiplicative gain (variants.md §3.1, claim-kinds.md K14).
    Declaration(
        claim="antipasto.additive-steering", kind="deviation", variant="antipasto",
        rationale="lora-lite's multiplicative gain S ⊙ (1 + ELU(coeff·g)) replaces the paper's additive S + α∆S (and "
        "drops the rotation R_v): the steered singular values stay positive for every g and coeff, join C¹ at g = 0, "
        "and suppress_only bounds them by S, at the price of the paper's first-order antisymmetry in α "
        "((1 + g) e^(−g) ≠ 1)",
        alternative=GainBounds(),
        preserves=("antipasto.coeff-zero", "antipasto.identity-at-init", "antipasto.confinement"),
    ),
)
