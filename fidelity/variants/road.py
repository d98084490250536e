"""RoAd: Liao & Monz 2024, "3-in-1: 2D Rotary Adaptation for Efficient Finetuning, Efficient Batching and
Composability", arXiv:2409.00119 (§3.2, Eq. 2–4, Table 1).

    W_eff = R W,   b_eff = R b,   R = diag(R_1, …, R_{d_out/2}),
    R_i = [[α11 cos θ11, −α12 sin θ12], [α21 sin θ21, α22 cos θ22]]
    θ: angle, α: magnitude, each (r · d_out/2,) for RoAd_r, r ∈ {1, 2, 4} (Table 1)

The paper writes z = R h with h = W0ᵀ x and W0 stored (d_in, d_out), so R acts on nn.Linear's output: z = R (W x + b).
It has no bias; the suite reads h as the linear layer's output, bias included, so b_eff = R b (PEFT's merge does the
same, R @ b); the rival reading, the merged W0 Rᵀ with b left alone, is the bias claim's contrast. R_i rotates the
*adjacent* output dimensions (2i−1, 2i) (§3.2); the config's `layout="half_group"` pairs element i with i + g/2 inside
each group of g = group_size outputs instead, which is PEFT's layout (a fixed permutation of the outputs). Sharing
(Table 1): RoAd1 one (α, θ) per block, RoAd2 one per row of a block, RoAd4 one per entry. The paper leaves the order
of a flat parameter vector open; the suite uses PEFT's, in both layouts: RoAd1 entry p belongs to pair p, RoAd2 entry i
to output row i, RoAd4 stores per group of g outputs first the g diagonal (cos) entries' parameters, then the g
off-diagonal (sin) ones. Identity at init from α = 1 and θ = 0 (§3.2), with θ and α both live at step 0.

The variant option changes the roles' shapes, which a Role sees only through the case: `case_for_options` writes RoAd's
r into LayerCase.r (RoAd has no rank; r is the subscript of RoAd_r, its (α, θ) count per block of two rows), and
`make_config` reads the variant from the options, so each road_1 / road_2 / road_4 claim is its own option cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from fidelity.cases import LayerCase
from fidelity.checks import (Bias, Citation, Formula, Identity, Influence, InitValue, Inventory, Liveness,
                             Orthogonality, Validation)
from fidelity.variants.base import Role, VariantSpec

SHARING = {"road_1": 1, "road_2": 2, "road_4": 4}  # Table 1: (α, θ) pairs per 2×2 block, per two output rows


@dataclass(frozen=True)
class RoadConfig:
    group_size: int  # PEFT's grouping of the outputs (even, divides d_out); the paper has none
    variant: str = "road_1"
    layout: str = "adjacent"  # the paper's pairs (2i−1, 2i); "half_group": (i, i + g/2) in each group, as PEFT


def pairs(d_out: int, cfg) -> tuple[torch.Tensor, torch.Tensor]:
    """Output indices (top, bottom) of block p = 0 … d_out/2 − 1 in the config's layout."""
    if cfg.layout == "adjacent":  # §3.2: "dimensions 2i − 1 and 2i"
        top = torch.arange(0, d_out, 2)
        return top, top + 1
    g = cfg.group_size  # half_group: block p = k·g/2 + j pairs k·g + j with k·g + j + g/2
    top = (torch.arange(d_out // g)[:, None] * g + torch.arange(g // 2)[None, :]).flatten()
    return top, top + g // 2


def entry_parameters(state, cfg, d_out: int):
    """Per output row, the (α, θ) of its diagonal entry and of its off-diagonal entry: four (d_out,) tensors."""
    theta, alpha = state["angle"], state["magnitude"]
    if cfg.variant == "road_1":  # one (α, θ) per block, shared by its four entries
        top, bottom = pairs(d_out, cfg)
        block = torch.empty(d_out, dtype=torch.long)
        block[top] = block[bottom] = torch.arange(d_out // 2)
        return alpha[block], theta[block], alpha[block], theta[block]
    if cfg.variant == "road_2":  # α_{i,11} = α_{i,12}, α_{i,21} = α_{i,22}: one per row
        return alpha, theta, alpha, theta
    g = cfg.group_size  # road_4: per group, g diagonal entries then g off-diagonal entries

    def split(v):
        v = v.reshape(-1, 2, g)
        return v[:, 0].flatten(), v[:, 1].flatten()

    (alpha_diag, alpha_off), (theta_diag, theta_off) = split(alpha), split(theta)
    return alpha_diag, theta_diag, alpha_off, theta_off


def rotation(state, cfg) -> torch.Tensor:
    """The explicit block rotation R (d_out, d_out) of Eq. (3), built entry by entry from the realised θ and α."""
    d_out = state["weight"].shape[0]
    alpha_diag, theta_diag, alpha_off, theta_off = entry_parameters(state, cfg, d_out)
    top, bottom = pairs(d_out, cfg)
    R = torch.zeros(d_out, d_out, dtype=torch.float64)
    R[torch.arange(d_out), torch.arange(d_out)] = alpha_diag * torch.cos(theta_diag)  # α11 cos θ11, α22 cos θ22
    R[top, bottom] = -alpha_off[top] * torch.sin(theta_off[top])  # −α12 sin θ12
    R[bottom, top] = alpha_off[bottom] * torch.sin(theta_off[bottom])  # α21 sin θ21
    return R


def effective_weight(state, cfg):
    """W_eff = R W (the merged weight W0 Rᵀ of §3.2 in nn.Linear storage), and |R| |W|."""
    R = rotation(state, cfg)
    return R @ state["weight"], R.abs() @ state["weight"].abs()


def effective_bias(state, cfg, b):
    """b_eff = R b: R rotates the layer's output h = W x + b, bias included."""
    R = rotation(state, cfg)
    return R @ b, R.abs() @ b.abs()


def bias_unrotated(state, cfg, b):
    """The rival reading: z = R W x + b (the paper's h has no bias; merging W = W0 Rᵀ alone keeps b)."""
    return b


def scaled_delta(state, cfg):
    """ΔW = (R − I) W; RoAd has no scaling constant."""
    R = rotation(state, cfg) - torch.eye(state["weight"].shape[0], dtype=torch.float64)
    return R @ state["weight"], R.abs() @ state["weight"].abs()


def size(case, cfg) -> int:
    return SHARING[cfg.variant] * case.d_out // 2


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """θ ~ U(−π, π) kept 0.2 rad away from multiples of π/2, α ~ U(0.5, 1.5), per entry (claim-kinds.md §1.4).

    At a multiple of π/2 cos or sin is stationary: a RoAd4 angle that only feeds one cos (or sin) entry would then
    move the output only to second order, and the influence check could not see it is used."""
    gen = case.generator(stream=4)
    n = size(case, cfg)
    quarter, margin = math.pi / 2, 0.2
    turn = torch.randint(-2, 2, (n,), generator=gen).to(torch.float64) * quarter  # a quarter turn of (−π, π)
    theta = turn + margin + torch.rand(n, generator=gen, dtype=torch.float64) * (quarter - 2 * margin)
    alpha = 0.5 + torch.rand(n, generator=gen, dtype=torch.float64)
    return {"angle": theta, "magnitude": alpha}


def unit_magnitudes(state) -> dict[str, torch.Tensor]:
    """α = 1 everywhere (RoAd1 is then Eq. (2)'s pure rotation); the random angles stay."""
    return {"magnitude": torch.ones_like(state["magnitude"])}


def unit_magnitudes_one_angle(state) -> dict[str, torch.Tensor]:
    """α = 1 and one angle for every entry (the random angle farthest from 0 and π): Eq. (3) reduces to Eq. (2)."""
    theta = state["angle"]
    return {"magnitude": torch.ones_like(state["magnitude"]),
            "angle": torch.full_like(theta, float(theta[torch.sin(theta).abs().argmax()]))}


@st.composite
def road_cases(draw, max_dim: int = 48) -> LayerCase:
    """Layers whose d_out ≥ 4 is a multiple of an even group size g ∈ {2, …, 16}; d_in ∈ [2, 48] drawn independently.

    At least two blocks: with one, RoAd1's α is a single scalar, and the liveness check's unit SGD step (α − g/|g|)
    lands on α = 0 exactly half the time, where θ has no gradient (a property of that step, not of RoAd)."""
    group = draw(st.sampled_from([2, 4, 6, 8, 12, 16]), label="group")
    d_out = group * draw(st.integers(2 if group == 2 else 1, max_dim // group), label="groups")
    return LayerCase(
        d_in=draw(st.integers(2, max_dim), label="d_in"), d_out=d_out, r=1, alpha=1.0, group=group,
        dtype=draw(st.sampled_from(("float64", "float32")), label="dtype"), bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**16), label="seed"), rows=draw(st.integers(1, 8), label="rows"),
    )


def with_variant(case: LayerCase, options: dict) -> LayerCase:
    """The case of an option cell: r = RoAd's subscript (1, 2 or 4), which sizes θ and α."""
    return case.with_(r=SHARING[options.get("variant", "road_1")])


def not_a_multiple(case: LayerCase) -> LayerCase:
    """An even d_out = m·g + 2 that a group size g ≥ 4 does not divide (pairs exist, whole groups do not)."""
    group = max(case.group, 4)
    return case.with_(group=group, d_out=group * max(1, case.d_out // group) + 2)


def zero_angles(case, weight, cfg) -> torch.Tensor:
    return torch.zeros(size(case, cfg), dtype=torch.float64)


def unit_alphas(case, weight, cfg) -> torch.Tensor:
    return torch.ones(size(case, cfg), dtype=torch.float64)


ROAD2, ROAD4 = {"variant": "road_2"}, {"variant": "road_4"}
DTYPES = ("float64", "float32", "bfloat16")

SPEC = VariantSpec(
    name="road",
    title="RoAd (2D rotary adaptation)",
    papers=("2409.00119",),
    roles=(
        Role("angle", lambda c: (c.r * c.d_out // 2,), "θ (r·d_out/2,) for RoAd_r: per block (r = 1), per row (2), "
             "per entry (4)"),
        Role("magnitude", lambda c: (c.r * c.d_out // 2,), "α (r·d_out/2,), shared like θ"),
    ),
    zero_at_init=frozenset({"angle"}),
    live_at_step0=frozenset({"angle", "magnitude"}),
    make_config=lambda case, **options: RoadConfig(group_size=case.group, **options),
    effective_weight=effective_weight,
    effective_bias=effective_bias,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,
    # y = x Wᵀ + b has products of length d_in; R adds two terms per output, and cos, sin, α· one rounding each
    inner_length=lambda case: case.d_in + 2,
    random_state=random_state,
    parameter_count=lambda case: case.r * case.d_out,  # Table 1: d2, 2 d2, 4 d2 (θ and α together)
    # RoAd1 (the paper's default, α = 1, θ = 0) at PEFT's default group_size 64, two groups, on a non-square layer
    witness=LayerCase(d_in=48, d_out=128, r=1, alpha=1.0, group=64),
    extra_witnesses=(LayerCase(d_in=20, d_out=24, r=1, alpha=1.0, group=8, dtype="float32", seed=1),
                     LayerCase(d_in=12, d_out=18, r=1, alpha=1.0, group=6, seed=2, bias=False)),
    cases=road_cases,
    case_for_options=with_variant,
    claims={
        "road.rotation": Formula(),
        "road.rotation-road2": Formula(options=ROAD2),
        "road.rotation-road4": Formula(options=ROAD4),
        "road.bias-rotated": Bias(contrast=bias_unrotated, contrast_text="bias left unrotated (z = R W x + b)"),
        "road.norm-preserving": Orthogonality(fix=unit_magnitudes, fix_text="α = 1"),
        "road.relaxed-road2": Orthogonality(fix=unit_magnitudes_one_angle, fix_text="α = 1 and one shared angle",
                                            options=ROAD2),
        "road.relaxed-road4": Orthogonality(fix=unit_magnitudes_one_angle, fix_text="α = 1 and one shared angle",
                                            options=ROAD4),
        "road.init-angle": InitValue(role="angle", expected=zero_angles, text="θ = 0"),
        "road.init-magnitude": InitValue(role="magnitude", expected=unit_alphas, text="α = 1"),
        "road.identity-at-init": Identity(),
        "road.identity-road2": Identity(options=ROAD2),
        "road.identity-road4": Identity(options=ROAD4),
        "road.step0-gradient": Liveness(),
        "road.trainable": Inventory(dtypes=DTYPES),
        # the other dtypes once, on RoAd1: the dtype path does not depend on the sharing
        "road.trainable-road2": Inventory(options=ROAD2),
        "road.trainable-road4": Inventory(options=ROAD4),
        "road.influence": Influence(),
        "road.influence-road4": Influence(options=ROAD4),
        "road.group-divides": Validation(invalid=not_a_multiple, text="d_out not a multiple of group_size"),
        "road.group-even": Validation(invalid=lambda c: c.with_(group=c.group + 1, d_out=2 * (c.group + 1)),
                                      text="odd group_size"),
        "road.citation": Citation(paper="2409.00119"),
    },
)
