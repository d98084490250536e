"""antipasto_arrow: lora-lite's own "arrowhead" core (no paper; variants.md §3.5) on the AntiPaSTO frozen top-r SVD basis
(Clark 2026, arXiv:2601.07473, §3.4 Eq. 3–4): a dense b × b block on the top-b subspace coordinates and AntiPaSTO's
1+ELU gain on the remaining r − b.

    W_eff = W_res + U K diag(S) Vh,   K = blockdiag(I_b + coeff · M, diag(1 + ELU(coeff · g)))
    M: (b, b) block,  g: (r − b,) tail gain,  U, S, Vh: frozen top-r SVD of W,  W_res = W − U diag(S) Vh

so the column core between U and Vh is blockdiag((I_b + coeff M) diag(S_:b), diag(S_b: ⊙ (1 + ELU(coeff g)))). The
block size b is carried in the case's `group` field (LayerCase has no `b`; antipasto_rot's block size uses it too).

What the paper gives the design: the PiSSA split (Eq. 3, K08), α = 0 as the base model (Eq. 4, K03), the update between
the frozen bases (K10) and the sign freedom of an SVD (K11). The rest is the design's own and checked as written in
lora-lite: identity at M = 0, g = 0 (RECON), the trainables and their count b² + r − b, M and g live at step 0, the
block-arrow forward at random states, where the block and the gain act (the block on the top-b coordinates only and on
all b² entries; the gain on the tail's diagonal only), the refusal of b ∉ [1, r), and the docstring's "b = 1 degenerates
to antipasto", measured for what it is: at b = 1 the 1 × 1 block is 1 + z (z = coeff·M) where antipasto's gain is
1 + ELU(z), so the two are equal where z ≥ 0 (and at M = 0, and on the tail whatever g) and differ by exactly
S_1 (1 + z − e^z) u_1 v_1ᵀ where z < 0 (second order at 0, −z²/2; the block reaches 1 + z ≤ 0, the gain never).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch.nn import functional as F

from fidelity.cases import LayerCase
from fidelity.checks import (Citation, Confinement, Degenerate, Formula, Identity, Inventory, Liveness, Reconstruction,
                             RuntimeOff, SignInvariance, Support, Validation)
from fidelity.checks.degenerate import Regime
from fidelity.checks.support import Region
from fidelity.variants.base import Role, VariantSpec

COEFFS = (1.0, -1.0, 0.25, 3.0, -2.5)  # steering coefficients drawn: both signs, small and large, never 0 (off)


@dataclass(frozen=True)
class ArrowConfig:
    r: int
    b: int = 8
    coeff: float = 1.0


def core(state, cfg: ArrowConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """K = blockdiag(I_b + coeff M, diag(1 + ELU(coeff g))) (r, r), and its formula on absolute values (the
    subtraction in e^z − 1 turned into an addition: 1 + |ELU(z)|)."""
    m, g = state["core"], state["gain"]
    eye = torch.eye(cfg.b, dtype=torch.float64)
    elu = F.elu(cfg.coeff * g)
    return (torch.block_diag(eye + cfg.coeff * m, torch.diag(1 + elu)),
            torch.block_diag(eye + abs(cfg.coeff) * m.abs(), torch.diag(1 + elu.abs())))


def effective_weight(state, cfg: ArrowConfig):
    u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
    k, k_abs = core(state, cfg)
    return state["weight"] + u @ (k * s) @ vh, state["weight"].abs() + u.abs() @ (k_abs * s.abs()) @ vh.abs()


def scaled_delta(state, cfg: ArrowConfig):
    """U (K − I) diag(S) Vh: all the adapter adds to the reconstructed W (there is no α/r), and its |·| scale."""
    u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
    k, k_abs = core(state, cfg)
    eye = torch.eye(k.shape[0], dtype=torch.float64)
    return u @ ((k - eye) * s) @ vh, u.abs() @ ((k_abs + eye) * s.abs()) @ vh.abs()


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """M ~ N(0, 0.3), g ~ N(0, 0.5) (claim-kinds.md §1.4: arrow M, antipasto gains)."""
    gen = case.generator(stream=4)
    b = cfg.b
    return {"core": 0.3 * torch.randn(b, b, generator=gen, dtype=torch.float64),
            "gain": 0.5 * torch.randn(case.r - b, generator=gen, dtype=torch.float64)}


def sign_flip(state, d: torch.Tensor) -> dict[str, torch.Tensor]:
    """(U D, D Vh) with M → D_b M D_b (D_b the first b signs: the block is a core on those coordinates); the tail gain
    is diagonal and commutes with D."""
    b = state["core"].shape[0]
    return {"basis_out": state["basis_out"] * d, "basis_in": d[:, None] * state["basis_in"],
            "core": d[:b, None] * state["core"] * d[None, :b]}


# --- where the block and the gain act (K05/K10 support) --------------------------------------------------------------

def block_mask(cfg: ArrowConfig) -> torch.Tensor:
    mask = torch.zeros(cfg.r, cfg.r, dtype=torch.bool)
    mask[:cfg.b, :cfg.b] = True
    return mask


def tail_mask(cfg: ArrowConfig) -> torch.Tensor:
    return torch.diag(torch.arange(cfg.r) >= cfg.b)


def move_block(state, cfg: ArrowConfig, gen) -> list[torch.Tensor]:
    """One column of M at a time, M_:j + ∆_:j with |coeff ∆_ij| ∈ [4, 6] (random signs): column j of the block's core
    changes by at least 4 S_j. Moving the whole block at once stood only 19× above the probe's rounding bound on a
    43 × 38 float32 layer with b = 32 (the formula on absolute values grows with each row's Σ_k |M_ik|, which a dense
    move inflates b-fold); one column at a time adds one entry per row."""
    moves = []
    for j in range(cfg.b):
        z = torch.rand(cfg.b, generator=gen, dtype=torch.float64)
        sign = torch.where(torch.rand(cfg.b, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
        moved = state["core"].clone()
        moved[:, j] += sign * (4 + 2 * z) / abs(cfg.coeff)
        moves.append(moved)
    return moves


def move_gain(state, cfg: ArrowConfig, gen) -> list[torch.Tensor]:
    """g' with coeff g' = |coeff g| + 4 + U(0, 2) > 0: 1 + ELU rises by at least 4 on every tail coordinate, far above the
    probe's rounding bound, which a dense block elsewhere in the core inflates (a rise of 1 stood only 31× above it on a
    41 × 41 float32 layer with b = 27, coeff = 3); an additive step could land deep in ELU's flat e^z branch instead."""
    z = cfg.coeff * state["gain"]
    target = z.abs() + 4 + 2 * torch.rand(z.shape, generator=gen, dtype=torch.float64)
    return [target / cfg.coeff]


REGIONS = (
    Region("core", block_mask, move_block, "on the top-b × top-b block, all of it (moved a column at a time)"),
    Region("gain", tail_mask, move_gain, "on the diagonal of the r − b tail coordinates, all of it"),
)


# --- b = 1 against antipasto (K26, history C.23) ---------------------------------------------------------------------

def as_antipasto(state, cfg: ArrowConfig) -> dict[str, torch.Tensor]:
    """antipasto's gain (r,) = [M_11, g]: the 1 × 1 block read as the first gain entry."""
    return {"gain": torch.cat([state["core"].reshape(-1), state["gain"]])}


def block_minus_gain(state, cfg: ArrowConfig) -> torch.Tensor:
    """arrow − antipasto at b = 1: U diag(S ⊙ [z − ELU(z), 0, …, 0]) Vh, z = coeff·M (zero for z ≥ 0; S_1 (1 + z − e^z)
    along u_1 v_1ᵀ for z < 0)."""
    u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
    z = cfg.coeff * state["core"].reshape(-1)
    gap = torch.cat([z - F.elu(z), torch.zeros(s.shape[0] - z.shape[0], dtype=torch.float64)])
    return (u * (s * gap)) @ vh


def block_at(sign: float):
    """M set so that z = coeff·M = sign · (0.5 + |u|), u ~ U(0, 1): far from 0 on the stated side."""
    def fix(state, cfg: ArrowConfig, gen) -> dict[str, torch.Tensor]:
        z = sign * (0.5 + torch.rand(state["core"].shape, generator=gen, dtype=torch.float64))
        return {"core": z / cfg.coeff}
    return fix


B1_REGIMES = (
    Regime("coeff·M > 0 (1 + ELU(z) = 1 + z), any tail gain", block_at(+1.0), differs=False),
    Regime("coeff·M < 0 (1 + ELU(z) = e^z ≠ 1 + z)", block_at(-1.0), differs=True),
)


# --- cases -------------------------------------------------------------------------------------------------------------

@st.composite
def arrow_cases(draw, max_dim: int = 48) -> LayerCase:
    """Gapped layers with d_in, d_out ∈ [3, 48] drawn independently, 2 ≤ r < min(d_in, d_out), b = group ∈ [1, r),
    coeff from COEFFS, float64 or float32, with or without bias."""
    d_in = draw(st.integers(3, max_dim), label="d_in")
    d_out = draw(st.integers(3, max_dim), label="d_out")
    r = draw(st.integers(2, min(d_in, d_out) - 1), label="r")
    b = draw(st.integers(1, r - 1), label="b")
    return LayerCase(
        d_in=d_in, d_out=d_out, r=r, alpha=float(r), group=b, spectrum="gapped",
        coeff=draw(st.sampled_from(COEFFS), label="coeff"),
        dtype=draw(st.sampled_from(("float64", "float32")), label="dtype"), bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**16), label="seed"), rows=draw(st.integers(1, 8), label="rows"),
    )


def with_block(case: LayerCase, options: dict) -> LayerCase:
    """A claim run at a stated b: the case's group set to it, r and the layer widened if needed (b < r < min(d))."""
    b = options.get("b")
    if b is None:
        return case
    r = max(case.r, b + 1)
    return case.with_(group=b, r=r, d_in=max(case.d_in, r + 1), d_out=max(case.d_out, r + 1))


def outside_range(case: LayerCase) -> LayerCase:
    """b = r (an even seed, the witness's) or b = 0 (an odd seed, the float32 witness's): both outside [1, r)."""
    return case.with_(group=case.r if case.seed % 2 == 0 else 0)


SPEC = VariantSpec(
    name="antipasto_arrow",
    title="AntiPaSTO SVD basis with lora-lite's block-plus-diagonal (arrowhead) core",
    papers=("2601.07473",),
    roles=(
        Role("core", lambda c: (c.group, c.group), "M (b, b), the top-b block"),
        Role("gain", lambda c: (c.r - c.group,), "g (r − b,), the tail gain"),
    ),
    buffers=(
        Role("basis_out", lambda c: (c.d_out, c.r), "U (d_out, r)"),
        Role("singular", lambda c: (c.r,), "S (r,)"),
        Role("basis_in", lambda c: (c.r, c.d_in), "Vh (r, d_in)"),
    ),
    zero_at_init=frozenset({"core", "gain"}),
    live_at_step0=frozenset({"core", "gain"}),
    make_config=lambda case, **options: ArrowConfig(**{"r": case.r, "b": case.group, "coeff": case.coeff, **options}),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    # x W_resᵀ (d_in), x Vhᵀ (d_in), the block (b), · Uᵀ (r)
    inner_length=lambda case: case.d_in + case.r + case.group,
    random_state=random_state,
    parameter_count=lambda case: case.group**2 + case.r - case.group,
    identity="recon",
    witness=LayerCase(d_in=32, d_out=24, r=12, alpha=12.0, group=8, spectrum="gapped"),  # lora-lite's default b = 8
    extra_witnesses=(
        LayerCase(d_in=20, d_out=28, r=6, alpha=6.0, group=1, coeff=-1.5, dtype="float32", spectrum="gapped", seed=1),
        LayerCase(d_in=9, d_out=13, r=5, alpha=5.0, group=4, coeff=3.0, bias=False, spectrum="gapped", seed=2),
    ),
    cases=arrow_cases,
    case_for_options=with_block,
    sign_flip=sign_flip,
    claims={
        "antipasto.reconstruction": Reconstruction(),
        "arrow.identity-at-init": Identity(),
        "arrow.trainable": Inventory(),
        "arrow.step0-gradient": Liveness(),
        "arrow.forward": Formula(),
        "arrow.coordinates": Support(REGIONS),
        "arrow.b1-antipasto": Degenerate("antipasto", as_antipasto, block_minus_gain,
                                         "U diag(S ⊙ [z − ELU(z), 0, …]) Vh, z = coeff·M", B1_REGIMES,
                                         options={"b": 1}),
        "antipasto.coeff-zero": RuntimeOff(),
        "antipasto.confinement": Confinement(confined=True),
        "antipasto.sign-invariance": SignInvariance(),
        "arrow.block-range": Validation(invalid=outside_range, text="a block size b outside [1, r)"),
        "arrow.citation": Citation(paper="2601.07473"),
    },
)
