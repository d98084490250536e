"""ASVD: Yuan et al. 2023, "ASVD: Activation-aware Singular Value Decomposition for Compressing Large Language
Models", arXiv:2312.05821 (no local text; see papers/2312.05821.toml and ../shared/spec/variants.md §2.13).

    S = diag(s),  s_i = (mean_j |X_ji|)^0.5 (Eq. 8, α = 0.5);  W S = U Σ Vᵀ;  Ŵ = U_r Σ_r (V_rᵀ S⁻¹);  h = Ŵ x + b

A compression method with no trainables of its own (variants.md §1): the claims that make sense for it are the
calibration contract, the statistic (the realised Ŵ against the formula from the same rows), the weighted
optimality of the truncation, the compressed layer's forward pass and the citation; zero side, identity,
liveness and scaling do not apply. lora-lite uses ASVD only as the basis of antipasto_asvd, with the RMS statistic
(E x_i²)^½ in place of Eq. 8's (mean |x_i|)^0.5 (variants.md §4 row 15); that reading is a mutant here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import CalibrationRequired, CalibrationStatistic, Citation, Formula, Optimality
from fidelity.checks.calibration_statistic import Reading
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.corda import anisotropic_activations


@dataclass(frozen=True)
class AsvdConfig:
    r: int


def compressed(state, cfg: AsvdConfig):
    """Ŵ = U diag(Σ) P: (d_out, r) (r,) (r, d_in), and the same on absolute values."""
    u, s, p = state["basis_out"], state["singular"], state["basis_in"]
    return (u * s) @ p, (u.abs() * s.abs()) @ p.abs()


def mean_abs_scaling(rows: torch.Tensor, cfg) -> torch.Tensor:
    """S = diag((mean_j |X_ji|)^0.5), Eq. 8 with α = 0.5."""
    return torch.diag(rows.abs().mean(dim=0).pow(0.5))


PAPER = Reading("S = diag((mean |x_i|)^0.5) (Eq. 8)", mean_abs_scaling)


SPEC = VariantSpec(
    name="asvd",
    title="ASVD (activation-aware SVD compression; the basis of lora-lite's antipasto_asvd)",
    papers=("2312.05821",),
    roles=(),
    buffers=(
        Role("basis_out", lambda c: (c.d_out, c.r), "U_r (d_out, r)"),
        Role("singular", lambda c: (c.r,), "Σ_r (r,)"),
        Role("basis_in", lambda c: (c.r, c.d_in), "P = V_rᵀ S⁻¹ (r, d_in)"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset(),
    make_config=lambda case, **options: AsvdConfig(r=case.r, **options),
    effective_weight=compressed,
    scaled_delta=compressed,
    scaling=lambda cfg: 1.0,
    inner_length=lambda case: case.d_in + case.r,
    random_state=lambda case, state, weight, cfg: {},  # nothing trainable: the init is the state
    parameter_count=lambda case: 0,
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=5, alpha=5.0, dtype="float32", seed=1, spectrum="gapped"),),
    cases=lambda: layer_cases(spectrum="gapped"),
    # Anisotropy along the input channels themselves (outlier channels): a diagonal statistic sees only that.
    calibration=lambda case: anisotropic_activations(case, rotate=False),
    claims={
        "asvd.calibration-required": CalibrationRequired(),
        "asvd.statistic": CalibrationStatistic(reading=PAPER),
        "asvd.optimality": Optimality(weighting=PAPER),
        "asvd.forward": Formula(),
        "asvd.citation": Citation(paper="2312.05821"),
    },
)
