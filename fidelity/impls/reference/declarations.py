"""Where the reference implementations depart from a paper on purpose: one entry per (variant, claim).

Each deviation names its rationale, the property that holds instead and the claims it preserves; the verdict
is DEVIATES-OK only while all of those hold, and STALE once the paper's own property holds again.
"""

from fidelity.checks import (CalibrationStatistic, Confinement, GainBounds, InitDistribution, InitScaling, Rotation,
                             Scaling)
from fidelity.impls.base import Declaration
from fidelity.variants import antipasto_ablate as ablate
from fidelity.variants import antipasto_asvd, antipasto_corda
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
    # antipasto_ablate against Arditi et al. 2024 (lora-lite's trainable ablation, variants.md §3.4, §4 row 19).
    Declaration(
        claim="ablate.unit-direction", kind="deviation", variant="antipasto_ablate",
        rationale="ĉ = c / (‖c‖ + 1e-6): the guard against c = 0 leaves ĉᵀĉ = (‖c‖/(‖c‖ + 1e-6))², short of 1 by about "
        "2·10⁻⁶/‖c‖ (below float32 rounding, lora-lite's dtypes, but not float64's), so full strength leaves that "
        "fraction of r̂ in place; the contraction is kept (1 − coeff α̂ ‖ĉ‖² stays in [0, 1])",
        alternative=ablate.GUARDED_UNIT,
        preserves=("ablate.contraction", "ablate.forward"),
    ),
    Declaration(
        claim="ablate.full-space", kind="deviation", variant="antipasto_ablate",
        rationale="the docstring scopes the citation to the trainable form of directional ablation on one layer's "
        "frozen basis: r̂ = U Ĉ is learned (the paper's is a fixed difference in means) and lies in span U_r, so the "
        "update stays in span U_r ⊗ span Vh_r; at α = 1, coeff = 1 it is the paper's W − r̂ r̂ᵀ W for such an r̂ "
        "(U_rᵀ W_res = 0)",
        alternative=Confinement(confined=True),
        preserves=("ablate.orthonormal-directions", "ablate.contraction", "ablate.citation"),
    ),
    # antipasto_corda and antipasto_asvd against CorDA (Eq. 2–3), ASVD (Eq. 8) and AntiPaSTO (Eq. 4): lora-lite's
    # whitening, statistic and gain (variants.md §3.6–3.7, §4 rows 14–16); the readings are adjudicated in
    # fidelity/variants/antipasto_corda.py and antipasto_asvd.py.
    Declaration(
        claim="corda.oriented-basis", kind="deviation", variant="antipasto_corda",
        rationale="lora-lite whitens with C^{1/2}, SVD(W (C + εI)^{1/2}) and P = V'ᵀ_r (C + εI)^{-1/2}, so the frozen "
        "basis is the rank-r minimiser of E‖(W − Ŵ)x‖² over the calibration rows, where the paper's SVD(W C) minimises "
        "‖(W − Ŵ)C‖_F (input directions weighted by λ², not λ); and it damps every eigenvalue by an absolute ε = 1e-3, "
        "where the paper damps only a singular C, relative to mean(diag C)",
        alternative=CalibrationStatistic(reading=antipasto_corda.ROOT),
        preserves=("corda.whitened-optimality", "corda.basis-reconstruction", "corda.identity-at-init"),
    ),
    Declaration(
        claim="asvd.statistic", kind="deviation", variant="antipasto_asvd",
        rationale="lora-lite scales input channel i by its RMS, (E x_i² + ε)^{1/2}, where Eq. 8 uses (mean_j |X_ij|)^0.5: "
        "another pooling and another exponent. It is the diagonal of antipasto_corda's (C + εI)^{1/2}, so the truncation "
        "minimises E‖(W − Ŵ)x‖² for uncorrelated channels and coincides with antipasto_corda on a diagonal covariance; "
        "Eq. 8 gives neither",
        alternative=CalibrationStatistic(reading=antipasto_asvd.RMS),
        preserves=("asvd.rms-optimality", "asvd.diagonal-corda", "asvd.basis-reconstruction", "asvd.identity-at-init"),
    ),
    Declaration(
        claim="antipasto.additive-steering", kind="deviation", variant="antipasto_corda",
        rationale="antipasto's multiplicative gain S ⊙ (1 + ELU(coeff·g)) on the CorDA-oriented basis, in place of the "
        "paper's additive S + α∆S (no rotation R_v): positive for every g and coeff, C¹ at g = 0, bounded by S under "
        "suppress_only, at the price of the first-order antisymmetry in α",
        alternative=GainBounds(),
        preserves=("antipasto.coeff-zero", "corda.identity-at-init", "antipasto.confinement"),
    ),
    Declaration(
        claim="antipasto.additive-steering", kind="deviation", variant="antipasto_asvd",
        rationale="antipasto's multiplicative gain S ⊙ (1 + ELU(coeff·g)) on the ASVD-scaled basis, in place of the "
        "paper's additive S + α∆S (no rotation R_v): positive for every g and coeff, C¹ at g = 0, bounded by S under "
        "suppress_only, at the price of the first-order antisymmetry in α",
        alternative=GainBounds(),
        preserves=("antipasto.coeff-zero", "asvd.identity-at-init", "antipasto.confinement"),
    ),
)
