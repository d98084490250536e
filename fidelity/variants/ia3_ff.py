"""ia3_ff: (IA)³ on the feed-forward down projection — Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is
Better and Cheaper than In-Context Learning", arXiv:2205.05638 (§3.3: (l_ff ⊙ γ(W1 x)) W2).

    y' = (x ⊙ g) Wᵀ + b,   W_eff = W diag(g),   b_eff = b
    g ∈ R^d_in: one gain per input feature of W2 = per intermediate feature d_ff (PEFT stores it (1, d_in))

The gate multiplies W2's input, the post-activation intermediate γ(W1 x); W2's own bias is added after the product, so
it is not scaled. Identity at init from g = 1 exactly ((x · 1) Wᵀ == x Wᵀ); g is live at step 0. History C.4:
lora-lite once offered only an output gate and recommended it for up_proj; gating the output of a down projection is
diag(g) W, a different function with a gain of the other length.
"""

from __future__ import annotations

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import Bias, Citation, Formula, Identity, Influence, InitValue, Inventory, Liveness
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.ia3 import DTYPES, Ia3Config, gain_vector, random_gain


def effective_weight(state, cfg):
    """W_eff = W diag(g): column j of nn.Linear's weight scaled by g_j (d_out, d_in)."""
    g = gain_vector(state)  # (d_in,)
    return state["weight"] * g[None, :], state["weight"].abs() * g.abs()[None, :]


def gain_on_outputs(gain: torch.Tensor, d_out: int) -> torch.Tensor:
    """The gain's entries read as output gains, cycled over d_out outputs: on a square layer g itself."""
    g = gain.reshape(-1)
    return g.repeat(-(-d_out // g.numel()))[:d_out]


def bias_scaled_by_gain(state, cfg, b):
    """The rival reading of K16: the bias scaled entrywise by the gain as an output gate would scale it, b_i g_i (on a
    square layer this is PEFT's non-feedforward bias merge, bias * l.reshape(bias.shape), applied to a feedforward
    gain; on a non-square one g's entries are cycled over the outputs)."""
    return gain_on_outputs(state["gain"], b.numel()) * b


def scaled_delta(state, cfg):
    """W_eff − W = W diag(g − 1); (IA)³ has no scale factor to apply to it."""
    w_eff, w_abs = effective_weight(state, cfg)
    return w_eff - state["weight"], w_abs + state["weight"].abs()


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    return {"gain": random_gain((case.d_in,), case)}


def ones_in(case, weight, cfg) -> torch.Tensor:
    """l_ff at init: ones, one per input feature of the down projection (d_in,)."""
    return torch.ones(case.d_in, dtype=torch.float64)


# The paper's T0-3B down projection maps d_ff = 5120 to d_model = 2048 (2.5 : 1); the witness keeps that ratio on a
# 40 → 16 layer. r and α are unused.
WITNESS = LayerCase(d_in=40, d_out=16, r=1, alpha=1.0)

SPEC = VariantSpec(
    name="ia3_ff",
    title="(IA)³ input gain on the feed-forward down projection",
    papers=("2205.05638",),
    roles=(Role("gain", lambda c: (c.d_in,), "l_ff ∈ R^d_in, one gain per input (intermediate) feature"),),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"gain"}),
    make_config=lambda case, **options: Ia3Config(**options),
    effective_weight=effective_weight,  # effective_bias: the default, b itself
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    inner_length=lambda case: case.d_in,  # one product x ⊙ g, then (x ⊙ g) Wᵀ of length d_in
    random_state=random_state,
    parameter_count=lambda case: case.d_in,
    witness=WITNESS,
    extra_witnesses=(LayerCase(d_in=25, d_out=10, r=1, alpha=1.0, dtype="float32", seed=1),),
    cases=layer_cases,
    claims={
        "ia3_ff.input-gate": Formula(),
        "ia3_ff.bias-unscaled": Bias(contrast=bias_scaled_by_gain, contrast_text="bias scaled by the gain"),
        "ia3_ff.ones-init": InitValue(role="gain", expected=ones_in, text="ones (d_in,)"),
        "ia3_ff.identity-at-init": Identity(),
        "ia3_ff.step0-gradient": Liveness(),
        "ia3_ff.trainable": Inventory(dtypes=DTYPES),
        "ia3_ff.influence": Influence(),
        "ia3_ff.citation": Citation(paper="2205.05638"),
    },
)
