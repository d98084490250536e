"""DeLoRA: Bini, Girrbach, Akata 2025 (ICLR), "Decoupling Angles and Strength in Low-rank Adaptation",
arXiv:2503.18225 (§2.2, Eqs. 5–9 and 15).

    W_eff = W + (λ/r) B Ξ A diag(w),   Ξ_ii = 1/(‖b_i‖ ‖a_i‖),   w_j = ‖W̄_{:,j}‖,   b_eff = b
    A: (r, d_in) down,  B: (d_out, r) up,  λ: scalar strength (learnable),  w: (d_in,) frozen buffer

The paper's W ∈ R^{d×f} is stored (in, out) (Eq. 1 writes (W + …)ᵀ x), so d = d_in, f = d_out, its A (r × d) is our
down-projection and its B (f × r) our up-projection, as in LoRA (../shared/spec/variants.md §0.1). Ξ normalises every
rank-one term b_i a_iᵀ to unit Frobenius norm (Eq. 5), so ‖(λ/r) B Ξ A‖_F ≤ λ (Eqs. 6–7) and the output ignores the
scale of each row of A and each column of B. The paper calls ‖W̄‖ "the norm of the pretrained weights" (Eq. 8, 15)
without naming the norm; the suite reads it as one norm per input column of nn.Linear's weight, applied on the
input side, which is what the authors' code (ExplainableML/DeLoRA, `Wnorm = self.weight.data.norm(dim=0)`) and PEFT
compute, and what the paper plots in Fig. 4 ("column norms"); a scalar Frobenius norm is the rival reading
(history C.3). W here is the live base weight: the paper's init (Eq. 9) draws A and B Kaiming-uniform and subtracts
the initial update from the frozen W̄, so the base is rewritten and the identity at init holds up to that rounding
("recon"); A, B and λ all get a gradient on step 0. PEFT initialises B = 0 instead (a declared deviation, see
fidelity/impls/peft/delora.py). `init_weights=False` (PEFT's option) leaves Eq. 9's subtraction out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Formula, GradientPath, Identity, Influence, InitDistribution, InitValue,
                             Invariance, Inventory, Liveness, NormBound, Reconstruction, ZeroSide)
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class DeloraConfig:
    r: int
    delora_lambda: float = 15.0  # λ0, the initial boundary (PEFT's default; the paper uses 4–12, §B)
    init_weights: bool = True  # False: PEFT's option, Eq. 9's frozen-copy subtraction (or PEFT's B = 0) left out


def xi(state, detach: bool = False) -> torch.Tensor:
    """Ξ_ii = 1/(‖b_i‖ ‖a_i‖) (Eq. 5), (r,); 0 where a factor is zero (its rank-one term is zero: PEFT's B = 0 init).

    detach=True: the norms held constant for autograd, the rival reading of the gradient path."""
    norms = torch.linalg.norm(state["up"], dim=0) * torch.linalg.norm(state["down"], dim=1)  # (r,)
    norms = norms.detach() if detach else norms
    safe = torch.where(norms > 0, norms, torch.ones_like(norms))
    return torch.where(norms > 0, 1 / safe, torch.zeros_like(norms))


def update(state, cfg, detach: bool = False):
    """ΔW = (λ/r) B Ξ A diag(w), (d_out, d_in) (Eqs. 8 and 15), and the same on absolute values."""
    scale = state["strength"] / cfg.r * xi(state, detach)  # (r,)
    w = state["weight_norm"]  # (d_in,)
    delta = (state["up"] * scale) @ state["down"] * w
    return delta, (state["up"].abs() * scale.abs()) @ state["down"].abs() * w.abs()


def effective_weight(state, cfg):
    """W_eff = W + (λ/r) B Ξ A diag(w), W the live base (W̄ minus Eq. 9's frozen initial update)."""
    delta, delta_abs = update(state, cfg)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def norms_detached(state, cfg):
    """The rival reading of the gradient path: the same forward with ‖a_i‖, ‖b_i‖ constant for autograd."""
    delta, delta_abs = update(state, cfg, detach=True)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """A ~ N(0, 1/√d_in), B ~ N(0, 1), each row of A and column of B rescaled by 10^U(−1, 1) (so a missing or misplaced
    Ξ shows); λ ~ U(0.1, 20) (claim-kinds.md §1.4). Norms stay ≥ 0.01, far above PEFT's 1e-4 clamp."""
    gen = case.generator(stream=4)
    f64 = torch.float64
    down = torch.randn(case.r, case.d_in, generator=gen, dtype=f64) / math.sqrt(case.d_in)
    down = down * 10 ** (2 * torch.rand(case.r, 1, generator=gen, dtype=f64) - 1)
    up = torch.randn(case.d_out, case.r, generator=gen, dtype=f64) * 10 ** (2 * torch.rand(1, case.r, generator=gen,
                                                                                              dtype=f64) - 1)
    return {"down": down, "up": up, "strength": 0.1 + 19.9 * torch.rand((), generator=gen, dtype=f64)}


def rescale_factors(state, gen) -> dict[str, torch.Tensor]:
    """a_i → c_i a_i and b_i → c'_i b_i, c, c' = 10^U(−1, 1) > 0: Ξ divides every factor out again (Eq. 5)."""
    r, f64 = state["down"].shape[0], torch.float64
    c_down = 10 ** (2 * torch.rand(r, 1, generator=gen, dtype=f64) - 1)
    c_up = 10 ** (2 * torch.rand(1, r, generator=gen, dtype=f64) - 1)
    return {"down": state["down"] * c_down, "up": state["up"] * c_up}


def rescale_entries(state, gen) -> dict[str, torch.Tensor]:
    """Negative control: the largest entry of each row of A and each column of B tripled (a change of direction)."""
    down, up = state["down"].clone(), state["up"].clone()
    rows = torch.arange(down.shape[0])
    down[rows, down.abs().argmax(dim=1)] *= 3
    up[up.abs().argmax(dim=0), rows] *= 3
    return {"down": down, "up": up}


def input_column_norms(case, weight, cfg) -> torch.Tensor:
    """w at init: ‖W̄‖ read per input column of nn.Linear's weight (d_in,), PEFT's and the authors' reading."""
    return torch.linalg.norm(weight, dim=0)


def frobenius_broadcast(case, weight, cfg) -> torch.Tensor:
    """The rival reading (history C.3): the scalar ‖W̄‖_F, the same for every input column (d_in,)."""
    return torch.full((case.d_in,), float(torch.linalg.norm(weight)), dtype=torch.float64)


def initial_boundary(case, weight, cfg) -> torch.Tensor:
    """λ at init: the configured λ0, a scalar."""
    return torch.tensor(cfg.delora_lambda, dtype=torch.float64)


def normalised_update_norm(delta, state, weight, cfg) -> float:
    """‖∆W diag(w)⁻¹‖_F with w the column norms of the original W̄: the norm of (λ/r) B Ξ A (Eq. 7)."""
    return float(torch.linalg.norm(delta / torch.linalg.norm(weight, dim=0)))


def aligned(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """Every rank-one term the same, b_i = 3 b̂ and a_i = 3 e_j (j the largest column of W̄): B Ξ A = r b̂ e_jᵀ, where
    both bounds are attained (a missing Ξ would give 9× the bound)."""
    j = int(torch.linalg.norm(weight, dim=0).argmax())
    up = state["up"][:, :1] / torch.linalg.norm(state["up"][:, :1])  # (d_out, 1) b̂
    down = torch.zeros(case.r, case.d_in, dtype=torch.float64)
    down[:, j] = 3.0
    return {"down": down, "up": 3.0 * up.expand(-1, case.r).clone()}


def boundary(state, weight, cfg) -> float:
    """λ, the realised (learnt) boundary of Eq. 7."""
    return float(state["strength"].abs())


def weight_ball(state, weight, cfg) -> float:
    """λ max_j ‖W̄_{:,j}‖, the radius of Eq. 15's ball with ‖W̄‖ read per input column (≤ λ ‖W̄‖_F)."""
    return boundary(state, weight, cfg) * float(torch.linalg.norm(weight, dim=0).max())


SMALL_LAMBDA = {"delora_lambda": 0.1}  # history C.2: λ0 = 0.1 broke the identity of a Kaiming-B init
PLAIN = {"init_weights": False}  # PEFT's option: no identity-making init
DTYPES = ("float64", "float32", "bfloat16")

SPEC = VariantSpec(
    name="delora",
    title="DeLoRA (decoupled low-rank adaptation: normalised rank-one terms, learnable boundary λ)",
    papers=("2503.18225",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r)"),
        Role("strength", lambda c: (), "λ ∈ R, the learnable boundary"),
    ),
    buffers=(Role("weight_norm", lambda c: (c.d_in,), "w (d_in,), ‖W̄‖ per input column"),),
    zero_at_init=frozenset(),  # Eq. 9: A and B Kaiming, λ = λ0; no zero factor
    live_at_step0=frozenset({"down", "up", "strength"}),
    make_config=lambda case, **options: DeloraConfig(r=case.r, **options),
    effective_weight=effective_weight,
    # DeLoRA has no α: the strength λ is a trainable, measured by the formula at random λ; the Scaling check is unused
    scaled_delta=update,
    scaling=lambda cfg: 1.0,
    # products of length d_in (x diag(w) Aᵀ) and r (· Bᵀ); the norms sum d_in and d_out squares
    inner_length=lambda case: case.d_in + case.d_out + case.r,
    random_state=random_state,
    parameter_count=lambda case: case.r * (case.d_in + case.d_out) + 1,
    identity="recon",
    initial_term=lambda state, cfg: update(state, cfg)[0],
    # The paper's language experiments use r = 8 (§3.3, Tables 5 and 9); columns of W on different scales (cases.py
    # "uneven"), so a scalar or per-output norm is far from the per-input-column one; then float32 at a small rank
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=8.0, spectrum="uneven"),
    extra_witnesses=(LayerCase(d_in=20, d_out=36, r=4, alpha=4.0, dtype="float32", seed=1, spectrum="uneven"),),
    cases=lambda: layer_cases(spectrum="uneven"),
    claims={
        "delora.forward": Formula(),
        "delora.weight-norm": InitValue(role="weight_norm", expected=input_column_norms,
                                        text="‖W̄_{:,j}‖, one norm per input column", contrast=frobenius_broadcast,
                                        contrast_text="scalar Frobenius ‖W̄‖_F"),
        "delora.lambda-init": InitValue(role="strength", expected=initial_boundary, text="λ0"),
        "delora.lambda-init-small": InitValue(role="strength", expected=initial_boundary, text="λ0 = 0.1",
                                              options=SMALL_LAMBDA),
        "delora.normalisation": Invariance(transform=rescale_factors,
                                           text="positive rescaling of each row of A and each column of B",
                                           control=rescale_entries,
                                           control_text="tripling the largest entry of each row of A and column of B"),
        "delora.boundary": NormBound(measure=normalised_update_norm, bound=boundary,
                                     text="‖∆W diag(w)⁻¹‖_F ≤ λ (Eq. 7)", aligned=aligned, from_base=True),
        "delora.weight-ball": NormBound(measure=lambda delta, state, weight, cfg: float(torch.linalg.norm(delta)),
                                        bound=weight_ball, text="‖∆W‖_F ≤ λ max_j ‖W̄_{:,j}‖ (≤ λ ‖W̄‖_F, Eq. 15)",
                                        aligned=aligned, from_base=True),
        "delora.identity-at-init": Identity(),
        "delora.identity-small-lambda": Identity(options=SMALL_LAMBDA),
        "delora.frozen-copy": Reconstruction(tail=False),
        "delora.no-zero-side": ZeroSide(),
        "delora.kaiming-a": InitDistribution(role="down", family="kaiming_uniform"),
        "delora.kaiming-b": InitDistribution(role="up", family="kaiming_uniform"),
        "delora.kaiming-b-plain": InitDistribution(role="up", family="kaiming_uniform", options=PLAIN),
        "delora.step0-gradient": Liveness(),
        "delora.step0-plain": Liveness(options=PLAIN),
        "delora.trainable": Inventory(dtypes=DTYPES),
        "delora.influence": Influence(),
        "delora.norms-in-graph": GradientPath(contrast=norms_detached, contrast_text="norms detached"),
        "delora.citation": Citation(paper="2503.18225"),
    },
)
