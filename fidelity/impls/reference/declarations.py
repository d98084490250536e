"""Where the reference implementations depart from a paper on purpose: one entry per (variant, claim).

Each deviation names its rationale, the property that holds instead and the claims it preserves; the verdict
is DEVIATES-OK only while all of those hold, and STALE once the paper's own property holds again.
"""

from fidelity.checks import Confinement, InitDistribution, Scaling
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
)
