"""antipasto_ablate: directional ablation (Arditi et al. 2024, arXiv:2406.11717: x′ ← x − r̂ r̂ᵀ x, in weight form
W_out′ ← W_out − r̂ r̂ᵀ W_out) made trainable and confined to the top-r output subspace of one layer, on the AntiPaSTO
frozen SVD basis (Clark 2026, arXiv:2601.07473, §3.4 Eq. 3) — lora-lite's design (variants.md §3.4, §4 row 19).

    h = (x Vhᵀ) ⊙ S                          the subspace coordinates of the top-r output
    h_after = h M,   M = I − coeff Ĉ diag(α̂) Ĉᵀ,   α̂ = clamp(α, 0, 1)
    Ĉ = c / (‖c‖ + 1e-6) for k = 1;  the Q of c = Q R for k > 1        (k orthonormal directions in S-space)
    W_eff = W_res + U Mᵀ diag(S) Vh = W_res + U M diag(S) Vh            (M is symmetric)
    c: (r, k) directions,  α: (k,) strengths,  U, S, Vh: frozen top-r SVD of W,  W_res = W − U diag(S) Vh

The paper's operator on a unit r̂ is the orthogonal projector I − r̂ r̂ᵀ. Here r̂ = U ĉ lies in span U_r, and since
U_rᵀ W_res = 0, at α̂ = 1 and coeff = 1 the layer is exactly the paper's W − r̂ r̂ᵀ W for that r̂ (U (I − ĈĈᵀ) Uᵀ =
I − (UĈ)(UĈ)ᵀ on span U, §4 row 19); α̂ < 1 ablates in part. What the suite checks, and how it reads each point:

- the paper's own statements (no local text: `unverified`): the unit direction makes full strength a projector (k = 1),
  and the paper's r̂ is any direction of the residual stream. The reference departs from both on purpose: the 1e-6
  guard leaves ĉᵀĉ = (‖c‖/(‖c‖ + 1e-6))², 2·10⁻⁶/‖c‖ short of 1 (seen in float64 only), and r̂ = U ĉ is learned and
  confined (the docstring scopes the citation to that); both are declared, each with the property that holds instead;
- the design's own statements: k > 1 directions orthonormal (QR), the contraction — for coeff ∈ [0, 1] and any raw α
  every eigenvalue of M is in [0, 1], so ‖h_after‖ ≤ ‖h_before‖ — and coeff < 0 amplifying (eigenvalues in
  [1, 1 + |coeff|], documented, not clamped); identity only at coeff = 0 or α = 0, and *not* at init: α = 0.05 so that
  c gets a gradient at step 0, a declared near-identity with its size (K02). That gradient needs k < r: with k = r the
  directions span all of S-space, Ĉ Ĉᵀ = I, and at the init's equal strengths M = (1 − 0.05 coeff) I does not depend
  on c at all (a soak found c dead at r = k = 2, in float32 and float64): liveness is claimed at the default k = 1,
  r ≥ 2;
- the shared AntiPaSTO base: reconstruction, confinement, sign invariance, coeff = 0 (the claims of 2601.07473).

`cov_orient` (CorDA whitening of the basis, which needs calibration data) is left out: it is the antipasto_corda
variant's basis (variants.md §3.6) and would add a calibrated build to every cell.

The random state (claim-kinds.md §1.4 says c ~ N(0, 1)) is c = Q₀ P diag(σ) Rᵀ with Q₀ (r, k) orthonormal, P, R
random orthogonal (k, k) and σ ∈ [1, 2]: its columns are not orthogonal (cᵀc = R diag(σ²) Rᵀ), and its condition
number is at most 2. A Gaussian r × k with k near r is ill-conditioned, and Q of its QR then moves by κ(c)·eps between
the implementation's dtype and float64, a false alarm of the formula check waiting in a soak. Raw α puts one entry in
[0.2, 0.9] (a partial ablation, so no state is the identity), one above 1 and one below 0 (both clamps at work from
k = 3), the rest in [−0.5, 1.5], in a random order. `k` is LayerCase.k (the number of directions; 1 ≤ k ≤ r);
LayerCase.alpha has no role.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Confinement, Formula, Identity, Inventory, Liveness, NearIdentity,
                             Reconstruction, RuntimeOff, SignInvariance, Spectrum)
from fidelity.variants.base import Role, VariantSpec

GUARD = 1e-6  # ĉ = c / (‖c‖ + GUARD) for k = 1 (lora-lite's ε)
INIT_ALPHA = 0.05  # lora-lite's init_alpha: small and > 0, so that c gets a gradient at step 0


@dataclass(frozen=True)
class AblateConfig:
    r: int
    k: int = 1
    coeff: float = 1.0
    init_alpha: float = INIT_ALPHA


def directions(c: torch.Tensor) -> torch.Tensor:
    """Ĉ (r, k): c / (‖c‖ + 1e-6) for one direction, the Q of c's QR (orthonormal columns, signs free) for several."""
    if c.shape[1] == 1:
        return c / (c.norm() + GUARD)
    q, _ = torch.linalg.qr(c)
    return q


def operator(state, cfg: AblateConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """M = I − coeff Ĉ diag(α̂) Ĉᵀ (r, r), acting as h_after = h M, and the same on absolute values."""
    chat, a = directions(state["direction"]), state["strength"].clamp(0.0, 1.0)
    eye = torch.eye(chat.shape[0], dtype=torch.float64)
    return eye - cfg.coeff * (chat * a) @ chat.T, eye + abs(cfg.coeff) * (chat.abs() * a) @ chat.abs().T


def effective_weight(state, cfg: AblateConfig):
    """W_res + U Mᵀ diag(S) Vh, and |W_res| + |U| |M| diag(|S|) |Vh|."""
    u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
    m, m_abs = operator(state, cfg)
    return (state["weight"] + u @ m.T @ (s[:, None] * vh),
            state["weight"].abs() + u.abs() @ m_abs.T @ (s.abs()[:, None] * vh.abs()))


def scaled_delta(state, cfg: AblateConfig):
    """U (M − I)ᵀ diag(S) Vh = −coeff U Ĉ diag(α̂) Ĉᵀ diag(S) Vh: all the ablation removes from the reconstructed W
    (coeff included; there is no separate scale), and its |·| scale."""
    u, s, vh = state["basis_out"], state["singular"], state["basis_in"]
    chat, a = directions(state["direction"]), state["strength"].clamp(0.0, 1.0)
    return (-cfg.coeff * u @ (chat * a) @ chat.T @ (s[:, None] * vh),
            abs(cfg.coeff) * u.abs() @ (chat.abs() * a) @ chat.abs().T @ (s.abs()[:, None] * vh.abs()))


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """c = Q₀ P diag(σ) Rᵀ, σ ∈ [1, 2] (κ(c) ≤ 2, columns far from orthogonal); raw α with one entry in [0.2, 0.9],
    one in [1.1, 1.5], one in [−0.5, −0.1] (as k allows), the rest in [−0.5, 1.5], shuffled."""
    gen = case.generator(stream=4)
    r, k = state["direction"].shape

    def orthonormal(rows, cols):
        q, rr = torch.linalg.qr(torch.randn(rows, cols, generator=gen, dtype=torch.float64))
        return q * torch.sign(torch.diagonal(rr))

    sigma = 1 + torch.rand(k, generator=gen, dtype=torch.float64)
    c = orthonormal(r, k) @ orthonormal(k, k) @ torch.diag(sigma) @ orthonormal(k, k).T
    u = torch.rand(k, generator=gen, dtype=torch.float64)
    alpha = -0.5 + 2.0 * u  # U(−0.5, 1.5)
    for i, (lo, hi) in enumerate(((0.2, 0.9), (1.1, 1.5), (-0.5, -0.1))[:k]):
        alpha[i] = lo + (hi - lo) * u[i]
    return {"direction": c, "strength": alpha[torch.randperm(k, generator=gen)]}


def sign_flip(state, d: torch.Tensor) -> dict[str, torch.Tensor]:
    """(U D, D Vh) with c → D c: Ĉ → D Ĉ (the norm and the QR's R are unchanged), so M → D M D, α unchanged."""
    return {"basis_out": state["basis_out"] * d, "basis_in": d[:, None] * state["basis_in"],
            "direction": d[:, None] * state["direction"]}


def full_strength(state) -> dict[str, torch.Tensor]:
    """α = 1: α̂ = 1 on every direction, so at coeff = 1 the operator is I − Ĉ Ĉᵀ."""
    return {"strength": torch.ones_like(state["strength"])}


def projector_spectrum(state, cfg: AblateConfig) -> torch.Tensor:
    """The eigenvalues of I − Ĉ Ĉᵀ for orthonormal Ĉ: 0 (k times) and 1 (r − k times)."""
    r, k = state["direction"].shape
    return torch.cat([torch.zeros(k, dtype=torch.float64), torch.ones(r - k, dtype=torch.float64)])


def guarded_spectrum(state, cfg: AblateConfig) -> torch.Tensor:
    """The eigenvalues of I − ĉ ĉᵀ for ĉ = c / (‖c‖ + 1e-6): 1 − (‖c‖/(‖c‖ + 1e-6))² once, 1 (r − 1 times)."""
    norm = state["direction"].norm()
    return torch.cat([(1 - (norm / (norm + GUARD)) ** 2).reshape(1), torch.ones(state["direction"].shape[0] - 1,
                                                                               dtype=torch.float64)])


def init_bound(state, cfg: AblateConfig, x: torch.Tensor) -> torch.Tensor:
    """|coeff| · max α̂ · ‖(x_i Vhᵀ) ⊙ S‖ per input row: ‖Ĉ diag(α̂) Ĉᵀ‖₂ ≤ max α̂ (‖ĉ‖ ≤ 1) and U is orthonormal."""
    h = (x @ state["basis_in"].T) * state["singular"]
    return abs(cfg.coeff) * state["strength"].clamp(0.0, 1.0).max() * h.norm(dim=1)


def with_directions(case: LayerCase, options: dict) -> LayerCase:
    """A claim run at a fixed number of directions k: r raised above k (so the directions leave a complement in
    S-space), the layer widened to keep a tail."""
    k = options.get("k")
    if k is None:
        return case
    r = max(case.r, k + 1)
    return case.with_(k=k, r=r, d_in=max(case.d_in, r + 1), d_out=max(case.d_out, r + 1))


ONE, THREE = {"k": 1}, {"k": 3}  # k = 3: the smallest k where orthogonalising against the first column only fails
PROJECTOR = dict(coeffs=(1.0,), fix=full_strength, fix_text="α = 1")

SPEC = VariantSpec(
    name="antipasto_ablate",
    title="Trainable directional ablation in the top-r output subspace of the AntiPaSTO SVD basis (lora-lite's "
          "antipasto_ablate)",
    papers=("2406.11717", "2601.07473"),
    roles=(
        Role("direction", lambda c: (c.r, c.k), "c (r, k), the ablated directions in S-space (r̂ = U Ĉ)"),
        Role("strength", lambda c: (c.k,), "α (k,), each direction's strength, clamped to [0, 1]"),
    ),
    buffers=(
        Role("basis_out", lambda c: (c.d_out, c.r), "U (d_out, r)"),
        Role("singular", lambda c: (c.r,), "S (r,)"),
        Role("basis_in", lambda c: (c.r, c.d_in), "Vh (r, d_in)"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"direction", "strength"}),
    make_config=lambda case, **options: AblateConfig(**{"r": case.r, "k": case.k, "coeff": case.coeff, **options}),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    # x Vhᵀ (d_in); h Ĉ (r), its product with Ĉᵀ (k), · Uᵀ (r); W_res formed from U diag(S) Vh (r); ‖c‖ or c's QR (r)
    inner_length=lambda case: case.d_in + 3 * case.r + case.k,
    random_state=random_state,
    parameter_count=lambda case: case.r * case.k + case.k,
    identity="near",
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=8.0, k=3, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=6.0, k=1, coeff=-1.5, dtype="float32",
                               spectrum="gapped", seed=1),),
    cases=lambda: layer_cases(spectrum="gapped", core=True),
    case_for_options=with_directions,
    sign_flip=sign_flip,
    claims={
        "ablate.forward": Formula(),
        "ablate.contraction": Spectrum(coeffs=(0.25, 0.5, 1.0), interval=lambda cfg: (0.0, 1.0),
                                       interval_text="[0, 1]"),
        "ablate.negative-coeff": Spectrum(coeffs=(-0.25, -1.0, -2.5), interval=lambda cfg: (1.0, 1.0 - cfg.coeff),
                                          interval_text="[1, 1 + |coeff|]"),
        "ablate.unit-direction": Spectrum(**PROJECTOR, expected=projector_spectrum,
                                          expected_text="0 (k times) and 1", options=ONE),
        "ablate.orthonormal-directions": Spectrum(**PROJECTOR, expected=projector_spectrum,
                                                  expected_text="0 (k times) and 1", options=THREE),
        "ablate.strength-zero": Identity(options={"init_alpha": 0.0}),
        "ablate.init-moves-output": NearIdentity(bound=init_bound, bound_text="|coeff| · max α̂ · ‖(x Vhᵀ) ⊙ S‖"),
        "ablate.step0-gradient": Liveness(options=ONE, step=0.01),
        "ablate.trainable": Inventory(dtypes=("bfloat16",)),
        "ablate.full-space": Confinement(confined=False),
        "ablate.citation": Citation(paper="2406.11717"),
        "antipasto.reconstruction": Reconstruction(),
        "antipasto.confinement": Confinement(confined=True),
        "antipasto.sign-invariance": SignInvariance(),
        "antipasto.coeff-zero": RuntimeOff(),
        "antipasto.citation": Citation(paper="2601.07473"),
    },
)

# The alternative the reference declares for ablate.unit-direction: the guard's own spectrum (fidelity/impls/reference/
# declarations.py).
GUARDED_UNIT = Spectrum(**PROJECTOR, expected=guarded_spectrum, expected_text="1 − (‖c‖/(‖c‖ + 1e-6))² (once) and 1")
