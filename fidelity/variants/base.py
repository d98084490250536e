"""What every variant spec provides; the math itself lives in one small module per variant.

A check sees a layer's realised *state*: a float64 dict of the trainable roles (`down`, `up`, `gain`, …),
the frozen buffer roles (`basis_out`, `singular`, `basis_in`) and `weight`, the live base weight (W itself,
or W_res for variants that rewrite it). The spec turns a state into the paper's effective weight and bias, written
with differentiable torch operations so that the gradient-path check (K15) can take the paper's gradients from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from hypothesis import strategies as st

from fidelity.cases import PAPER_WITNESS, LayerCase, layer_cases

State = dict[str, torch.Tensor]
Pair = tuple[torch.Tensor, torch.Tensor]  # a float64 matrix and the same formula on absolute values (T-fwd scale)


@dataclass(frozen=True)
class Role:
    """A canonical tensor: its role name and shape as a function of the layer case."""

    name: str
    shape: Callable[[LayerCase], tuple[int, ...]]
    meaning: str


# Distribution claims (K29) need large matrices; these two layers give 25,600 entries of a LoRA A.
DISTRIBUTION_LAYERS = (
    LayerCase(d_in=512, d_out=256, r=32, alpha=32.0, seed=0),
    LayerCase(d_in=384, d_out=128, r=24, alpha=24.0, seed=1),
)


@dataclass(frozen=True)
class VariantSpec:
    """A method as the suite understands it (see ../shared/spec/variants.md)."""

    name: str
    title: str
    papers: tuple[str, ...]  # arXiv ids of the papers whose claims apply, main paper first
    roles: tuple[Role, ...]  # trainable tensors
    zero_at_init: frozenset[str]  # roles that are exactly zero at init
    live_at_step0: frozenset[str]  # roles with a non-zero gradient at step 0; the others are exactly dead
    make_config: Callable[..., Any]  # (case, **options) -> the config the bindings receive
    effective_weight: Callable[[State, Any], Pair]  # state, config -> W_eff (the paper's formula), |·| scale
    scaled_delta: Callable[[State, Any], Pair]  # the part of W_eff that `scaling` multiplies
    scaling: Callable[[Any], float]  # config -> the scale the variant applies to `scaled_delta`
    inner_length: Callable[[LayerCase], int]  # longest accumulated inner product on the forward path
    random_state: Callable[[LayerCase, State, torch.Tensor, Any], State]  # a non-degenerate trainable state
    parameter_count: Callable[[LayerCase], int]
    claims: dict[str, Any] = field(default_factory=dict)  # claim id -> check instance
    buffers: tuple[Role, ...] = ()  # frozen tensors the checks read (SVD bases and values)
    identity: str = "exact"  # "exact": bit-exact at init; "recon": W rewritten, equal up to its rounding
    witness: LayerCase = PAPER_WITNESS  # the paper's own settings, run first by every property
    extra_witnesses: tuple[LayerCase, ...] = ()  # further deterministic examples (e.g. a non-default coeff)
    cases: Callable[[], st.SearchStrategy[LayerCase]] = layer_cases
    # (case, options) -> the case a claim's options imply, for options that change the shapes of the roles (RoAd's
    # road_1 / road_2 / road_4 set how many angles and magnitudes a layer trains); every case a check runs, witnesses
    # included, passes through it (Subject.adapt). The identity for variants whose options leave the shapes alone
    case_for_options: Callable[[LayerCase, dict], LayerCase] = lambda case, options: case
    rank_field: str = "r"  # the LayerCase field that is the rank of `scaled_delta` (padded by K07)
    pad_rank: Callable[[State, int], State] | None = None  # same update at a larger rank, or None
    max_rank: Callable[[LayerCase], int] = lambda case: 1 << 30  # the largest rank the variant accepts
    isolate_scaled: Callable[[State], State] = lambda state: {}  # trainables to reset so only scaled_delta moves
    sign_flip: Callable[[State, torch.Tensor], State] | None = None  # state under (U D, D Vh), D = diag(±1)
    distribution_layers: tuple[LayerCase, ...] = DISTRIBUTION_LAYERS
    calibration: Callable[[LayerCase], torch.Tensor | None] = lambda case: None  # input rows for data-driven inits
    # (case, state, original W, calibration, config) -> [SubspaceClaim] for the decomposition check (K09)
    subspaces: Callable[..., list] = lambda case, state, weight, calibration, config: []
    # Fraction of the profile's hypothesis examples run per property (witnesses always run): < 1 only for variants
    # whose attach is expensive (EVA's calibration through PEFT), stated and justified in the variant's module
    examples_fraction: float = 1.0
    # (state, config) -> the adapter's initial term that the rewritten base complements, W_res + term = W (K08, K20):
    # U diag(S) Vh for the frozen-SVD-basis variants; s B A for weight-rewriting LoRA inits (PiSSA, OLoRA)
    initial_term: Callable[[State, Any], torch.Tensor] = \
        lambda state, cfg: (state["basis_out"] * state["singular"]) @ state["basis_in"]
    # state -> Gram matrices of the init's factors (e.g. A Aᵀ, Bᵀ B) whose magnitudes an init-scaling law fixes (K07)
    factor_grams: Callable[[State], dict[str, torch.Tensor]] | None = None
    # (state, config, b) -> the paper's effective bias b_eff and its scale on absolute values, b the float64 base bias
    # (zeros without one): b itself for the additive variants and DoRA, g ⊙ b for IA3's output gate, R b for RoAd (K16)
    effective_bias: Callable[[State, Any, torch.Tensor], Pair] = lambda state, cfg, b: (b, b.abs())
    # (state, config) -> the paper's regulariser for this layer (the term added to the training loss, weight
    # included) and its scale on absolute values; None when the paper has none (HRA §3.4, AdaLoRA §3.1)
    regularizer: Callable[[State, Any], Pair] | None = None

    def role(self, name: str) -> Role:
        for r in self.roles + self.buffers:
            if r.name == name:
                return r
        raise KeyError(f"variant {self.name} has no role {name!r}")
