"""Mutants of the reference RoAd, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.road import RoadLinear
from tests.mutants.base import Mutant


class PairsHalfGroup(RoadLinear):
    """The layout swapped without declaring it (claim-kinds.md K12 `road_pairs_adjacent`, here the other way round):
    PEFT's half-group pairs (i, i + g/2) while the config asks for the paper's adjacent pairs. An identity at init."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout="half_group")


class BiasUnrotated(RoadLinear):
    """z = R (W x) + b, written R h − (R − I) b: the bias kept out of the rotation (the merged W0 Rᵀ alone). Exactly
    an identity at init, where R − I = 0."""

    def forward(self, x):
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        r1, r2 = alpha_d * torch.cos(theta_d), alpha_o * torch.sin(theta_o)
        h = self.base(x)
        z = r1 * h + r2 * self.sign * h[:, self.partner]
        if self.base.bias is None:
            return z
        b = self.base.bias
        return z - (r1 * b + r2 * self.sign * b[self.partner] - b)


class ThetaSignFlipped(RoadLinear):
    """R(−θ) instead of R(θ): the sine entries change sign. Still orthogonal at α = 1, an identity at init."""

    def forward(self, x):
        h = self.base(x)
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        return alpha_d * torch.cos(theta_d) * h + alpha_o * torch.sin(-theta_o) * self.sign * h[:, self.partner]


class SinCosSwapped(RoadLinear):
    """sin on the diagonal, cos off it: R_i = α [[sin θ, −cos θ], [cos θ, sin θ]], a quarter turn at θ = 0."""

    def forward(self, x):
        h = self.base(x)
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        return alpha_d * torch.sin(theta_d) * h + alpha_o * torch.cos(theta_o) * self.sign * h[:, self.partner]


class MinusDropped(RoadLinear):
    """ĥ = (h2, h1, h4, h3, …) without the minus sign: R_i = α [[cos θ, sin θ], [sin θ, cos θ]], symmetric and not
    orthogonal at α = 1. An identity at init."""

    def forward(self, x):
        h = self.base(x)
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        return alpha_d * torch.cos(theta_d) * h + alpha_o * torch.sin(theta_o) * h[:, self.partner]


class MagnitudePerRow(RoadLinear):
    """RoAd1 with one α per output row (d_out of them) instead of one per block shared by both rows."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout)
        if variant == "road_1":
            self.road_alpha = nn.Parameter(torch.ones(base.weight.shape[0], dtype=base.weight.dtype))

    def rows(self, v):
        if self.variant == "road_1" and v is self.road_alpha:
            return v, v
        return super().rows(v)


class MagnitudeHalfUnused(RoadLinear):
    """RoAd1's blocks 2p and 2p + 1 both read α_p: the second half of the magnitude vector is never used."""

    def rows(self, v):
        if self.variant == "road_1" and v is self.road_alpha:
            return v[self.block // 2], v[self.block // 2]
        return super().rows(v)


class OffDiagonalUnused(RoadLinear):
    """RoAd4 reads the diagonal entries' (α, θ) for the off-diagonal entries too: half of each vector unused."""

    def rows(self, v):
        diagonal, off_diagonal = super().rows(v)
        return (diagonal, diagonal) if self.variant == "road_4" else (diagonal, off_diagonal)


class ThetaInitNonzero(RoadLinear):
    """θ ~ N(0, 0.5) at init (PEFT's init_weights=False draw for θ): not an identity."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout)
        with torch.no_grad():
            self.road_theta.normal_(0.0, 0.5)


class AlphaInitRandom(RoadLinear):
    """α ~ N(1, 0.5) at init (PEFT's init_weights=False draw for α), θ = 0 kept: not an identity."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout)
        with torch.no_grad():
            self.road_alpha.normal_(1.0, 0.5)


class AngleDetached(RoadLinear):
    """cos θ and sin θ of a detached θ: the forward is right, but θ never gets a gradient."""

    def rows(self, v):
        return super().rows(v.detach() if v is self.road_theta else v)


class GroupUnchecked(RoadLinear):
    """No validation: any group_size is accepted and silently replaced by one group of all d_out outputs (which RoAd1's
    adjacent layout does not even read)."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, base.weight.shape[0], variant, layout)


class CitationWrong(RoadLinear):
    """Cites RoFormer (RoPE, arXiv:2104.09864), the paper RoAd mirrors, instead of RoAd."""

    DOC = "RoAd: a trainable rotary embedding of the layer output, after Su et al. 2021, arXiv:2104.09864."


class MergedForward(RoadLinear):
    """Equivalence control: R built explicitly as a (d_out, d_out) matrix, then F.linear(x, R W, R b) (PEFT's merge)."""

    def forward(self, x):
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        d_out = self.partner.shape[0]
        R = torch.diag(alpha_d * torch.cos(theta_d))  # (d_out, d_out)
        R = R.index_put((torch.arange(d_out), self.partner), alpha_o * torch.sin(theta_o) * self.sign)
        bias = R @ self.base.bias if self.base.bias is not None else None
        return F.linear(x, R @ self.base.weight, bias)


class ExplicitBlocks(RoadLinear):
    """Equivalence control: each pair (top, bottom) gathered into a 2-vector and multiplied by its 2×2 block R_i."""

    def forward(self, x):
        h = self.base(x)  # (N, d_out)
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        top = torch.nonzero(self.sign < 0).flatten()  # (d_out/2,)
        bottom = self.partner[top]
        t, b = top, bottom
        upper = torch.stack([alpha_d[t] * torch.cos(theta_d[t]), -alpha_o[t] * torch.sin(theta_o[t])], -1)
        lower = torch.stack([alpha_o[b] * torch.sin(theta_o[b]), alpha_d[b] * torch.cos(theta_d[b])], -1)
        blocks = torch.stack([upper, lower], -2)  # (d_out/2, 2, 2): R_i = [[upper], [lower]]
        z = torch.einsum("pij,npj->npi", blocks, torch.stack([h[:, top], h[:, bottom]], -1))  # (N, d_out/2, 2)
        out = torch.empty_like(h)
        out[:, top], out[:, bottom] = z[..., 0], z[..., 1]
        return out


FORMULAS = ("road.rotation", "road.rotation-road2", "road.rotation-road4")
IDENTITY = ("road.identity-at-init", "road.identity-road2", "road.identity-road4")
ORTHOGONAL = ("road.norm-preserving", "road.relaxed-road2", "road.relaxed-road4")
TRAINABLE = ("road.trainable", "road.trainable-road2", "road.trainable-road4")

class AdjacentOnly(RoadLinear):
    """RoAd that ignores the layout option and always rotates adjacent pairs (the paper's layout, not PEFT's): not a
    mutant of the paper, the implementation PEFT's declared layout alternative must fail for."""

    def __init__(self, base, group_size, variant="road_1", layout="adjacent"):
        super().__init__(base, group_size, variant, layout="adjacent")


MUTANTS = (
    Mutant("road", "road_pairs_half_group", PairsHalfGroup, FORMULAS + ("road.bias-rotated",),
           survives=IDENTITY + ORTHOGONAL + TRAINABLE),
    Mutant("road", "road_bias_unrotated", BiasUnrotated, ("road.bias-rotated", "road.rotation"),
           survives=IDENTITY + ("road.norm-preserving",)),
    Mutant("road", "road_theta_sign_flipped", ThetaSignFlipped, FORMULAS + ("road.bias-rotated",),
           survives=IDENTITY + ORTHOGONAL + ("road.step0-gradient",)),
    Mutant("road", "road_sin_cos_swapped", SinCosSwapped, FORMULAS + ("road.identity-at-init",),
           survives=("road.init-angle", "road.init-magnitude", "road.trainable")),
    Mutant("road", "road_minus_dropped", MinusDropped, ORTHOGONAL + FORMULAS, survives=IDENTITY),
    Mutant("road", "road1_magnitude_per_row", MagnitudePerRow, ("road.trainable", "road.rotation", "road.influence",
                                                                    "road.identity-at-init"),
           survives=("road.trainable-road2", "road.rotation-road4")),
    Mutant("road", "road1_magnitude_half_unused", MagnitudeHalfUnused, ("road.influence", "road.rotation"),
           survives=("road.identity-at-init", "road.trainable", "road.step0-gradient", "road.norm-preserving")),
    Mutant("road", "road4_off_diagonal_unused", OffDiagonalUnused, ("road.influence-road4", "road.rotation-road4"),
           survives=("road.identity-road4", "road.trainable-road4", "road.relaxed-road4", "road.rotation",
                     "road.rotation-road2")),
    Mutant("road", "road_theta_init_nonzero", ThetaInitNonzero, ("road.init-angle", "road.identity-at-init"),
           survives=("road.init-magnitude", "road.trainable", "road.rotation")),
    Mutant("road", "road_alpha_init_random", AlphaInitRandom, ("road.init-magnitude", "road.identity-at-init"),
           survives=("road.init-angle", "road.trainable", "road.rotation")),
    Mutant("road", "road_angle_detached", AngleDetached, ("road.step0-gradient",),
           survives=FORMULAS + IDENTITY + ("road.trainable", "road.influence")),
    Mutant("road", "road_group_unchecked", GroupUnchecked, ("road.group-divides", "road.group-even"),
           survives=("road.identity-at-init", "road.rotation")),
    Mutant("road", "road_citation_wrong", CitationWrong, ("road.citation",), survives=("road.rotation",)),
    Mutant("road", "road_merged_forward (control)", MergedForward, (),
           survives=FORMULAS + IDENTITY + ORTHOGONAL + ("road.bias-rotated", "road.influence", "road.step0-gradient")),
    Mutant("road", "road_explicit_blocks (control)", ExplicitBlocks, (),
           survives=FORMULAS + IDENTITY + ORTHOGONAL + ("road.bias-rotated", "road.influence", "road.influence-road4",
                                                         "road.step0-gradient")),
)

EXPECTED_MUTANTS = 15
EXPECTED_KILLS = 36
