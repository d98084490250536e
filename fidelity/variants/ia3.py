"""ia3: (IA)³ on a key or value projection — Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and
Cheaper than In-Context Learning", arXiv:2205.05638 (§3.3: l_k ⊙ K, l_v ⊙ V).

    y' = (x Wᵀ + b) ⊙ g,   W_eff = diag(g) W,   b_eff = g ⊙ b
    g ∈ R^d_out: one gain per output feature (the paper's l_k, l_v; PEFT stores it (d_out, 1), a view)

The gain rescales the keys and values themselves, and K = x W_kᵀ + b_k contains the projection's bias, so the bias is
scaled too (the paper's T5 has no biases; PEFT multiplies the whole base output). Identity at init from g = 1 exactly
(y · 1 == y); g is live at step 0. The feed-forward gate, which sits on the down projection's *input*, is the sibling
variant ia3_ff.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import Bias, Citation, Formula, Identity, Influence, InitValue, Inventory, Liveness
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class Ia3Config:
    """(IA)³ has no hyper-parameters: no rank, no α, no scaling (the LayerCase's r and α are unused)."""


def gain_vector(state) -> torch.Tensor:
    """The gain vector g (d_out,) here, (d_in,) for ia3_ff."""
    return state["gain"]


def effective_weight(state, cfg):
    """W_eff = diag(g) W: row i of nn.Linear's weight scaled by g_i (d_out, d_in)."""
    g = gain_vector(state)  # (d_out,)
    return g[:, None] * state["weight"], g.abs()[:, None] * state["weight"].abs()


def effective_bias(state, cfg, b):
    """b_eff = g ⊙ b: the keys/values are rescaled after the bias is added (d_out,)."""
    g = gain_vector(state)
    return g * b, g.abs() * b.abs()


def bias_unscaled(state, cfg, b):
    """The rival reading of K16: the gain folded into the weight only, the bias passed through unscaled."""
    return b


def scaled_delta(state, cfg):
    """W_eff − W = diag(g − 1) W; (IA)³ has no scale factor to apply to it."""
    w_eff, w_abs = effective_weight(state, cfg)
    return w_eff - state["weight"], w_abs + state["weight"].abs()


def random_gain(shape: tuple[int, ...], case) -> torch.Tensor:
    """g ~ U(0.5, 1.5) entrywise (claim-kinds.md §1.4): every entry away from 1 and from 0, all different."""
    return 0.5 + torch.rand(shape, generator=case.generator(stream=4), dtype=torch.float64)


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    return {"gain": random_gain((case.d_out,), case)}


def ones_out(case, weight, cfg) -> torch.Tensor:
    """l_k, l_v at init: ones, one per output feature (d_out,)."""
    return torch.ones(case.d_out, dtype=torch.float64)


DTYPES = ("float64", "float32", "bfloat16")

# The paper's T0-3B key/value projections are square (d_model = d_k = 2048); the witness is non-square (a 16 → 40
# projection) so that a gain of the wrong side has the wrong shape and W diag(g) ≠ diag(g) W. r and α are unused.
WITNESS = LayerCase(d_in=16, d_out=40, r=1, alpha=1.0)

SPEC = VariantSpec(
    name="ia3",
    title="(IA)³ output gain on the key and value projections",
    papers=("2205.05638",),
    roles=(Role("gain", lambda c: (c.d_out,), "l ∈ R^d_out, one gain per output feature"),),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"gain"}),
    make_config=lambda case, **options: Ia3Config(**options),
    effective_weight=effective_weight,
    effective_bias=effective_bias,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    inner_length=lambda case: case.d_in,  # x Wᵀ, then one product by g (within the 2(n+2) allowance)
    random_state=random_state,
    parameter_count=lambda case: case.d_out,
    witness=WITNESS,
    extra_witnesses=(LayerCase(d_in=24, d_out=10, r=1, alpha=1.0, dtype="float32", seed=1),),
    cases=layer_cases,
    claims={
        "ia3.kv-output-gate": Formula(),
        "ia3.bias-scaled": Bias(contrast=bias_unscaled, contrast_text="bias unscaled"),
        "ia3.ones-init": InitValue(role="gain", expected=ones_out, text="ones (d_out,)"),
        "ia3.identity-at-init": Identity(),
        "ia3.step0-gradient": Liveness(),
        "ia3.trainable": Inventory(dtypes=DTYPES),
        "ia3.influence": Influence(),
        "ia3.citation": Citation(paper="2205.05638"),
    },
)
