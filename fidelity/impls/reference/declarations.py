"""Where the reference implementations depart from a paper on purpose: one entry per (variant, claim).

Each deviation names its rationale, the property that holds instead and the claims it preserves; the verdict
is DEVIATES-OK only while all of those hold, and STALE once the paper's own property holds again.
"""

from fidelity.checks import Confinement, GainBounds, InitDistribution, InitScaling, Rotation, Scaling
from fidelity.impls.base import Declaration
from fidelity.variants import antipasto_rot as rot

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
    # antipasto_rot against the AntiPaSTO paper: lora-lite's rotation (variants.md §3.3 "Versus the paper", §4 row 16).
    Declaration(
        claim="antipasto.reversibility", kind="deviation", variant="antipasto_rot",
        rationale="no steering coefficient: the layer is the paper's W'(α) at α = 1 (lora-lite, the authors' antipasto3 "
        "code), with the Cayley orientation of the paper's R(α = −1), so −α cannot be asked for; the sign of the learned "
        "T plays α's role instead: tanh is odd, so negating T negates A and inverts every block, R(−T) = R(T)^{-1}",
        alternative=Rotation(**rot.ROTATION, inverse=rot.negated, inverse_text="negating the rotation parameters (T → −T)"),
        preserves=("antipasto.rotation-proper",),
    ),
    Declaration(
        claim="antipasto.max-angle", kind="deviation", variant="antipasto_rot",
        rationale="max_rotation_angle defaults to 0.5 rad (lora-lite), a tighter trust region than the paper's π/3 "
        "(App. A.5; π/2 in App. A.4): each rotated direction keeps an overlap of at least cos 0.5 = 0.88 with the "
        "pretrained basis rather than 1/2",
        alternative=Rotation(**rot.ROTATION, bound=lambda cfg: rot.MAX_ANGLE_DEFAULT, bound_text="0.5 rad",
                             saturate=rot.saturate, tight=True),
        preserves=("antipasto.angle-bound",),
    ),
    Declaration(
        claim="antipasto.angle-bound-blocks", kind="deviation", variant="antipasto_rot",
        rationale="the clamp bounds each entry of a block's skew generator by a_lim = 2 tan(θ_max/2), which bounds the "
        "rotation angle by θ_max only for 2 × 2 blocks; a b × b block's largest eigenvalue is then below "
        "√(b(b−1)/2) a_lim (‖A‖_F/√2), so its angle stays below 2 arctan(√(b(b−1)/2) tan(θ_max/2)): 1.118 rad for the "
        "default b = 4 and θ_max = 0.5 (a saturated block reaches 1.105)",
        alternative=Rotation(**rot.ROTATION, bound=rot.block_angle_bound,
                             bound_text="2 arctan(√(b(b−1)/2) tan(θ_max/2))", saturate=rot.saturate),
        preserves=("antipasto.angle-bound", "antipasto.rotation-proper"),
    ),
)
