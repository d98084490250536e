"""Mutants of the reference antipasto_rot (AntiPaSTO's additive shift plus block Cayley rotation), each breaking exactly
one property.

MUTANTS are judged against the paper with nothing declared (tests/test_mutants.py). DECLARED_MUTANTS break a property
that one of the reference's declarations puts in place of the paper's (R(−T) = R(T)^{-1} for the missing α, the 0.5 rad
default limit, the block-size angle bound): judged with the declarations in force, each must turn the reference's
DEVIATES-OK into a DEVIATES (tests/test_declared_mutants.py).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fidelity.impls.reference.antipasto_rot import RotLinear
from tests.mutants.base import Mutant, crop_bottom_triplets


def cayley(a: torch.Tensor) -> torch.Tensor:
    eye = torch.eye(a.shape[-1], dtype=a.dtype)
    return torch.linalg.solve(eye - a / 2, eye + a / 2)


class RotMutant(RotLinear):
    """The reference with its rotation assembled from overridable steps: generator -> clamp -> Cayley -> blocks."""

    def generator(self) -> torch.Tensor:
        b = self.block_size
        rows, cols = torch.triu_indices(b, b, offset=1)
        t = self.lora_rot_T.new_zeros(self.lora_rot_T.shape[0], b, b)
        t[:, rows, cols] = self.lora_rot_T
        return 0.5 * (t - t.transpose(1, 2))

    def clamp(self, a: torch.Tensor) -> torch.Tensor:
        return self.a_lim * torch.tanh(a / self.a_lim)

    def blocks(self, a: torch.Tensor) -> torch.Tensor:
        return cayley(a)

    def rotation(self) -> torch.Tensor:
        return torch.block_diag(*self.blocks(self.clamp(self.generator())))


class DeltaZero(RotLinear):
    """History C.16 `rot_delta_zero`: δ = 0 at init, so the declared near-identity is an exact identity (mis-declared)."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        with torch.no_grad():
            self.lora_delta_s.zero_()


class RotationRandomInit(RotLinear):
    """T ~ N(0, 0.1) at init: the layer starts rotated, beyond the near-identity's bound ‖x Vhᵀ‖ max|δ|."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        with torch.no_grad():
            self.lora_rot_T.normal_(0, 0.1)


class ShiftMultiplicative(RotLinear):
    """S ⊙ (1 + δ) in place of the paper's additive S + ∆S."""

    def forward(self, x):
        vh = self.rotation() @ self.lora_Vh if self.rotate_basis == "V" else self.lora_Vh
        u = self.lora_U if self.rotate_basis == "V" else self.lora_U @ self.rotation().T
        return self.base(x) + ((x @ vh.T) * (self.lora_S * (1 + self.lora_delta_s))) @ u.T


class CayleyInverseAsTranspose(RotMutant):
    """(I − A/2)^{-1} taken as (I − A/2)ᵀ = I + A/2, as if it were orthogonal: R = (I + A/2)², not orthogonal."""

    def blocks(self, a):
        half = torch.eye(a.shape[-1], dtype=a.dtype) + a / 2
        return half @ half


class BlockReflected(RotMutant):
    """The first row of every block negated: orthogonal blocks of det −1, reflections (not an identity at init)."""

    def blocks(self, a):
        r = cayley(a).clone()
        r[:, 0] = -r[:, 0]
        return r


class BlocksMisaligned(RotMutant):
    """The block-diagonal rotation shifted by one index (P R Pᵀ): still a rotation, but its blocks straddle the
    intended ones, mixing singular directions of different blocks (R = I at init, so the identity survives)."""

    def rotation(self):
        return torch.roll(super().rotation(), shifts=(1, 1), dims=(0, 1))


class NoClamp(RotMutant):
    """The tanh soft clamp of Eq. (8) left out: the angle is unbounded."""

    def clamp(self, a):
        return a


class ClampLimitNotHalved(RotMutant):
    """a_lim = 2 tan(θ_max) (the /2 dropped): a saturated 2 × 2 block rotates by 2 θ_max."""

    def clamp(self, a):
        lim = 2 * math.tan(2 * math.atan(self.a_lim / 2))
        return lim * torch.tanh(a / lim)


class ClampStopsShort(RotMutant):
    """a_lim = tan(θ_max/2) (the factor 2 dropped): a saturated 2 × 2 block stops at 2 arctan(tan(θ_max/2)/2) < θ_max."""

    def clamp(self, a):
        lim = self.a_lim / 2
        return lim * torch.tanh(a / lim)


class SkewNotHalved(RotMutant):
    """A = T − Tᵀ, without the 1/2: every generator twice as large before the clamp."""

    def generator(self):
        return 2 * super().generator()


class RotationLeaks(RotLinear):
    """The rotated part of the input basis, (R − I) Vh, read through a perturbed basis Vh + 0.1 N: it leaks out of span
    Vh_r (R = I at init, so the near-identity survives)."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        gen = torch.Generator().manual_seed(7)
        noise = torch.randn(self.lora_Vh.shape, generator=gen, dtype=torch.float64).to(self.lora_Vh.dtype)
        self.register_buffer("leaky_Vh", self.lora_Vh + 0.1 * noise)

    def forward(self, x):
        rot = self.rotation()
        vh = self.lora_Vh + (rot - torch.eye(rot.shape[0], dtype=rot.dtype)) @ self.leaky_Vh
        return self.base(x) + ((x @ vh.T) * (self.lora_S + self.lora_delta_s)) @ self.lora_U.T


class ResidualFromBottom(RotLinear):
    """The *bottom* r singular triplets are split off: the residual is not the tail."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        crop_bottom_triplets(self, base, r)


class SignCanonicalisedInForward(RotLinear):
    """U's column signs are canonicalised inside the forward pass but Vh's are not."""

    def forward(self, x):
        u = self.lora_U * torch.sign(self.lora_U[0])
        vh = self.rotation() @ self.lora_Vh
        return self.base(x) + ((x @ vh.T) * (self.lora_S + self.lora_delta_s)) @ u.T


class RotationDetached(RotMutant):
    """The rotation parameters used through .detach(): trainable on paper, never given a gradient."""

    def generator(self):
        b = self.block_size
        rows, cols = torch.triu_indices(b, b, offset=1)
        t = self.lora_rot_T.new_zeros(self.lora_rot_T.shape[0], b, b)
        t[:, rows, cols] = self.lora_rot_T.detach()
        return 0.5 * (t - t.transpose(1, 2))


class UModeUntransposed(RotLinear):
    """rotate_basis='U' applies U R instead of U Rᵀ (the V mode is unchanged)."""

    def forward(self, x):
        if self.rotate_basis == "V":
            return super().forward(x)
        u = self.lora_U @ self.rotation()
        return self.base(x) + ((x @ self.lora_Vh.T) * (self.lora_S + self.lora_delta_s)) @ u.T


class BaseTrainable(RotLinear):
    """W_res left trainable."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        self.base.weight.requires_grad_(True)


class CitationWrongId(RotLinear):
    """History C.13: the id an older lora-lite README carried (2503.08696) instead of 2601.07473."""

    DOC = "AntiPaSTO rotation adapter (Clark 2026, arXiv:2503.08696): S + δ and a block Cayley rotation of V."


class PartialBlockDropped(RotLinear):
    """r % block_size ≠ 0 accepted: the last r mod b directions are silently left unrotated."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, r, max_rotation_angle, rotate_basis)  # one block of r passes the reference's check
        self.block_size, self.extra = block_size, r % block_size
        self.lora_rot_T = nn.Parameter(self.lora_rot_T.new_zeros(r // block_size, block_size * (block_size - 1) // 2))

    def rotation(self):
        rot = super().rotation()
        return torch.block_diag(rot, torch.eye(self.extra, dtype=rot.dtype)) if self.extra else rot


class RankTruncated(RotLinear):
    """r % block_size ≠ 0 accepted by silently adapting only b · floor(r/b) directions: it builds, with roles of the
    wrong shape (the validation check must not count the suite's shape violation as the implementation's refusal)."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, block_size * max(1, r // block_size), block_size, max_rotation_angle, rotate_basis)


class SvdSignsFlipped(RotLinear):
    """Equivalence control: every singular pair stored with the opposite sign; the function is the same."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, max_rotation_angle, rotate_basis)
        with torch.no_grad():
            self.lora_U.neg_()
            self.lora_Vh.neg_()


class CayleyAsResolvent(RotMutant):
    """Equivalence control: the Cayley map computed another way, 2 (I − A/2)^{-1} − I = (I − A/2)^{-1}(I + A/2)."""

    def blocks(self, a):
        eye = torch.eye(a.shape[-1], dtype=a.dtype)
        return 2 * torch.linalg.inv(eye - a / 2) - eye


class RotationOffset(RotMutant):
    """A fixed skew offset added to every generator after the clamp (a symmetry breaker on the rotation, like δ's):
    still a proper rotation, but T → −T no longer inverts it."""

    def clamp(self, a):
        b = a.shape[-1]
        offset = torch.zeros(b, b, dtype=a.dtype)
        offset[0, 1], offset[1, 0] = 0.05, -0.05
        return super().clamp(a) + offset


class DefaultAngleHalfPi(RotLinear):
    """The default θ_max read from App. A.4 (π/2) instead of the implementation's 0.5 rad."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, math.pi / 2 if max_rotation_angle is None else max_rotation_angle,
                         rotate_basis)


class DefaultAnglePaper(RotLinear):
    """The default θ_max of App. A.5, π/3: the declared 0.5 rad deviation must then turn STALE."""

    def __init__(self, base, r, block_size=4, max_rotation_angle=None, rotate_basis="V"):
        super().__init__(base, r, block_size, math.pi / 3 if max_rotation_angle is None else max_rotation_angle,
                         rotate_basis)


V = "antipasto_rot"
NEAR, FORWARD, PROPER, BOUND = ("antipasto.rot-near-identity", "antipasto.forward", "antipasto.rotation-proper",
                                "antipasto.angle-bound")
MUTANTS = (
    Mutant(V, "rot_delta_zero", DeltaZero, (NEAR,), survives=(FORWARD, PROPER, "antipasto.reconstruction")),
    Mutant(V, "rot_rotation_random_init", RotationRandomInit, (NEAR,), survives=(FORWARD, PROPER, BOUND)),
    Mutant(V, "rot_shift_multiplicative", ShiftMultiplicative, (FORWARD, NEAR), survives=(PROPER, BOUND)),
    Mutant(V, "rot_cayley_inverse_as_transpose", CayleyInverseAsTranspose, (PROPER, FORWARD), survives=(NEAR,)),
    Mutant(V, "rot_block_reflected", BlockReflected, (PROPER, NEAR), survives=("antipasto.confinement",)),
    Mutant(V, "rot_blocks_misaligned", BlocksMisaligned, (PROPER, FORWARD), survives=(NEAR, "antipasto.confinement")),
    Mutant(V, "rot_no_clamp", NoClamp, (BOUND, FORWARD), survives=(PROPER, NEAR)),
    Mutant(V, "rot_clamp_limit_not_halved", ClampLimitNotHalved, (BOUND, FORWARD), survives=(PROPER, NEAR)),
    Mutant(V, "rot_clamp_stops_short", ClampStopsShort, (BOUND, FORWARD), survives=(PROPER, NEAR)),
    Mutant(V, "rot_skew_not_halved", SkewNotHalved, (FORWARD,), survives=(PROPER, BOUND, NEAR)),
    Mutant(V, "rot_rotation_leaks", RotationLeaks, ("antipasto.confinement", FORWARD), survives=(NEAR,)),
    Mutant(V, "rot_residual_from_bottom", ResidualFromBottom, ("antipasto.reconstruction",),
           survives=(NEAR, FORWARD, "antipasto.confinement")),
    Mutant(V, "rot_sign_canonicalised_in_forward", SignCanonicalisedInForward, ("antipasto.sign-invariance",),
           survives=("antipasto.reconstruction", "antipasto.trainable")),
    Mutant(V, "rot_rotation_detached", RotationDetached, ("antipasto.step0-gradient",),
           survives=(FORWARD, NEAR, PROPER, "antipasto.trainable")),
    Mutant(V, "rot_u_mode_untransposed", UModeUntransposed, ("antipasto.rot-forward-u",), survives=(FORWARD,)),
    Mutant(V, "rot_base_trainable", BaseTrainable, ("antipasto.trainable",), survives=(NEAR,)),
    Mutant(V, "rot_citation_wrong_id", CitationWrongId, ("antipasto.citation",)),
    Mutant(V, "rot_partial_block_dropped", PartialBlockDropped, ("antipasto.rot-block-divides",),
           survives=(FORWARD, NEAR)),
    Mutant(V, "rot_rank_truncated", RankTruncated, ("antipasto.rot-block-divides",), survives=(FORWARD, NEAR)),
    Mutant(V, "rot_svd_signs_flipped (control)", SvdSignsFlipped, (),
           survives=(NEAR, FORWARD, "antipasto.reconstruction", "antipasto.confinement", "antipasto.sign-invariance",
                     PROPER, BOUND, "antipasto.step0-gradient")),
    Mutant(V, "rot_cayley_as_resolvent (control)", CayleyAsResolvent, (),
           survives=(NEAR, FORWARD, "antipasto.rot-forward-u", PROPER, BOUND, "antipasto.sign-invariance",
                     "antipasto.step0-gradient")),
)

EXPECTED_MUTANTS = 21
EXPECTED_KILLS = 27

# Judged with the reference's declarations: each must break a declared alternative.
DECLARED_MUTANTS = (
    Mutant(V, "rot_rotation_offset", RotationOffset, ("antipasto.reversibility",), survives=(PROPER,)),
    Mutant(V, "rot_clamp_limit_not_halved", ClampLimitNotHalved, ("antipasto.max-angle", "antipasto.angle-bound-blocks"),
           survives=(PROPER,)),
    Mutant(V, "rot_default_angle_half_pi", DefaultAngleHalfPi, ("antipasto.max-angle",),
           survives=(PROPER, BOUND, FORWARD)),
)

EXPECTED_DECLARED_MUTANTS = 3
EXPECTED_DECLARED_KILLS = 4

# A paper-faithful implementation makes the declaration STALE: (variant, class, claim).
STALE_DECLARATIONS = ((V, DefaultAnglePaper, "antipasto.max-angle"),)
