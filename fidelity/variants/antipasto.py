"""antipasto: the AntiPaSTO frozen SVD basis (Clark 2026, arXiv:2601.07473, §3.4 Eq. 3) steered by a 1+ELU gain on
the singular values — lora-lite's design (variants.md §3.1).

    W_eff = W_res + U diag(S_eff) Vh,   S_eff = S ⊙ (1 + ELU(coeff · g))   (g ← min(g, 0) with suppress_only)
    g: (r,) gain,  U, S, Vh: frozen top-r SVD of W,  W_res = W − U diag(S) Vh

Identity at init up to the rounding of W_res (g = 0), and at coeff = 0 for any g. The paper's own steering is
additive, W'(α) = U (S + α∆S) R_v(α) Vᵀ + W_res (Eq. 4): its claim that the update is linear (antisymmetric) in α
is checked as written, and the reference binding declares the multiplicative gain, whose positivity, piecewise
form, C¹ join and suppress_only bound are checked as the alternative property (K14).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch.nn import functional as F

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Confinement, Formula, Identity, Inventory, Liveness, Reconstruction, RuntimeOff,
                             SignInvariance, SteeringLinearity)
from fidelity.variants.base import Role, VariantSpec

# Steering coefficients drawn by the properties: both signs, small and large, never 0 (0 switches the adapter off).
COEFFS = (1.0, -1.0, 0.25, 3.0, -2.5)


@dataclass(frozen=True)
class AntipastoConfig:
    r: int
    coeff: float = 1.0
    suppress_only: bool = False


def s_eff(state, cfg: AntipastoConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """S ⊙ (1 + ELU(coeff g)) and its absolute-value scale S (1 + |ELU(coeff g)|), both (r,)."""
    g = state["gain"].clamp(max=0) if cfg.suppress_only else state["gain"]
    elu = F.elu(cfg.coeff * g)
    return state["singular"] * (1 + elu), state["singular"].abs() * (1 + elu.abs())


def scaled_delta(state, cfg: AntipastoConfig):
    """U diag(S_eff − S) Vh: (d_out, r) (r,) (r, d_in) — the whole update; there is no α/r to scale it."""
    u, vh = state["basis_out"], state["basis_in"]
    gain, gain_abs = s_eff(state, cfg)
    return (u * (gain - state["singular"])) @ vh, (u.abs() * (gain_abs + state["singular"].abs())) @ vh.abs()


def effective_weight(state, cfg: AntipastoConfig):
    u, vh = state["basis_out"], state["basis_in"]
    gain, gain_abs = s_eff(state, cfg)
    return state["weight"] + (u * gain) @ vh, state["weight"].abs() + (u.abs() * gain_abs) @ vh.abs()


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """g ~ N(0, 0.5) (claim-kinds.md §1.4)."""
    return {"gain": 0.5 * torch.randn(case.r, generator=case.generator(stream=4), dtype=torch.float64)}


def sign_flip(state, d: torch.Tensor) -> dict[str, torch.Tensor]:
    """(U D, D Vh): the gain is diagonal and commutes with D, so it is unchanged."""
    return {"basis_out": state["basis_out"] * d, "basis_in": d[:, None] * state["basis_in"]}


def cases() -> st.SearchStrategy[LayerCase]:
    """Gapped layers (so the top-r split is well defined) with a non-zero steering coefficient."""
    return st.tuples(layer_cases(spectrum="gapped"), st.sampled_from(COEFFS)).map(lambda t: t[0].with_(coeff=t[1]))


SPEC = VariantSpec(
    name="antipasto",
    title="AntiPaSTO SVD basis with lora-lite's 1+ELU singular-value gain",
    papers=("2601.07473",),
    roles=(Role("gain", lambda c: (c.r,), "g (r,)"),),
    buffers=(
        Role("basis_out", lambda c: (c.d_out, c.r), "U (d_out, r)"),
        Role("singular", lambda c: (c.r,), "S (r,)"),
        Role("basis_in", lambda c: (c.r, c.d_in), "Vh (r, d_in)"),
    ),
    zero_at_init=frozenset({"gain"}),
    live_at_step0=frozenset({"gain"}),
    make_config=lambda case, **options: AntipastoConfig(r=case.r, coeff=case.coeff, **options),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    inner_length=lambda case: case.d_in + case.r,
    random_state=random_state,
    parameter_count=lambda case: case.r,
    identity="recon",
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=16.0, coeff=-1.5, dtype="float32", spectrum="gapped",
                               seed=1),),
    cases=cases,
    sign_flip=sign_flip,
    claims={
        "antipasto.reconstruction": Reconstruction(),
        "antipasto.identity-at-init": Identity(),
        "antipasto.trainable": Inventory(),
        "antipasto.step0-gradient": Liveness(),
        "antipasto.forward": Formula(),
        "antipasto.coeff-zero": RuntimeOff(),
        "antipasto.additive-steering": SteeringLinearity(),
        "antipasto.confinement": Confinement(confined=True),
        "antipasto.sign-invariance": SignInvariance(),
        "antipasto.citation": Citation(paper="2601.07473"),
    },
)
