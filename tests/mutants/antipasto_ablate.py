"""Mutants of the reference antipasto_ablate (trainable directional ablation on the AntiPaSTO basis), each breaking
exactly one property.

MUTANTS are judged against the papers with nothing declared (tests/test_mutants.py). DECLARED_MUTANTS break a property
that one of the reference's declarations puts in place of the paper's (the 1e-6 guard's spectrum for the unit
direction, the confinement for the whole-stream direction): judged with the declarations in force, each must turn the
reference's DEVIATES-OK into a DEVIATES (tests/test_declared_mutants.py). STALE_DECLARATIONS are paper-faithful classes.
"""

from __future__ import annotations

import torch

from fidelity.impls.reference.antipasto_ablate import AblateLinear
from tests.mutants.base import Mutant, crop_bottom_triplets


def _noise(shape, dtype, seed=7) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)


class AlphaUnclamped(AblateLinear):
    """The strength used raw, without clamp(α, 0, 1): α > 1 over-ablates (eigenvalue 1 − coeff α < 0), α < 0
    amplifies (history: `ablate_alpha_unclamped`, claim-kinds.md K14)."""

    def strength(self):
        return self.lora_alpha


class AblatedBeforeSingularValues(AblateLinear):
    """The ablation applied to x Vhᵀ before the S scaling: h = (p − coeff ((p Ĉ) ⊙ α̂) Ĉᵀ) ⊙ S, so the operator is
    diag(S)-conjugated, not symmetric, and no longer a contraction of the output coordinates."""

    def forward(self, x):
        chat, alpha = self.directions(), self.strength()
        p = x @ self.lora_Vh.T
        p = p - self.coeff * ((p @ chat) * alpha) @ chat.T
        return self.base(x) + (p * self.lora_S) @ self.lora_U.T


class CoeffMagnitude(AblateLinear):
    """|coeff| in place of coeff: a negative coefficient ablates too instead of adding the directions back."""

    def forward(self, x):
        chat, alpha = self.directions(), self.strength()
        h = (x @ self.lora_Vh.T) * self.lora_S
        h = h - abs(self.coeff) * ((h @ chat) * alpha) @ chat.T
        return self.base(x) + h @ self.lora_U.T


class CoeffZeroFalsy(AblateLinear):
    """`coeff = cfg.coeff or 1.0`: a Python default that reads coeff = 0 as 'unset', so 0 ablates at coefficient 1."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff or 1.0, init_alpha)


class ColumnsNormalisedOnly(AblateLinear):
    """k > 1: each column of c normalised, not orthogonalised (no QR): ĈᵀĈ ≠ I, so α = 1 is not a projector."""

    def directions(self):
        c = self.lora_c
        return c / (c.norm(dim=0, keepdim=True) + 1e-6)


class QrAlwaysFloat32(AblateLinear):
    """The QR of c always run in float32 (lora-lite's literal `torch.linalg.qr(c.float())`), also for a float64 layer:
    Ĉ is then orthonormal only to float32 rounding."""

    def directions(self):
        c = self.lora_c
        if c.shape[1] == 1:
            return super().directions()
        q, _ = torch.linalg.qr(c.float())
        return q.to(c.dtype)


class InitAlphaIgnored(AblateLinear):
    """The config's init_alpha ignored: α always starts at 0.05 (a config field with no effect, history C.5)."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, 0.05)


class AlphaZeroInit(AblateLinear):
    """claim-kinds.md K02 `ablate_alpha_zero`: α = 0 at init, so the declared near-identity is an exact identity (and c
    gets no gradient at step 0)."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, 0.0)


class DirectionDetached(AblateLinear):
    """c used through .detach(): trainable on paper, never given a gradient."""

    def directions(self):
        c = self.lora_c.detach()
        if c.shape[1] == 1:
            return c / (c.norm() + 1e-6)
        return torch.linalg.qr(c.to(torch.promote_types(c.dtype, torch.float32)))[0].to(c.dtype)


class DirectionLeaks(AblateLinear):
    """The removed component written back through a perturbed output basis U + 0.1 N: the ablation leaks out of
    span U_r (its input side stays in span Vh_r)."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, init_alpha)
        self.register_buffer("leaky_U", self.lora_U + 0.1 * _noise(self.lora_U.shape, self.lora_U.dtype))

    def forward(self, x):
        chat, alpha = self.directions(), self.strength()
        h = (x @ self.lora_Vh.T) * self.lora_S
        removed = self.coeff * ((h @ chat) * alpha) @ chat.T
        return self.base(x) + h @ self.lora_U.T - removed @ self.leaky_U.T


class ResidualFromBottom(AblateLinear):
    """The *bottom* r singular triplets are split off: the residual is not the tail."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, init_alpha)
        crop_bottom_triplets(self, base, r)


class SignCanonicalisedInForward(AblateLinear):
    """U's column signs are canonicalised inside the forward pass but Vh's (and c's) are not."""

    def forward(self, x):
        chat, alpha = self.directions(), self.strength()
        h = (x @ self.lora_Vh.T) * self.lora_S
        h = h - self.coeff * ((h @ chat) * alpha) @ chat.T
        return self.base(x) + h @ (self.lora_U * torch.sign(self.lora_U[0])).T


class BaseTrainable(AblateLinear):
    """W_res left trainable."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, init_alpha)
        self.base.weight.requires_grad_(True)


class CitationWrongId(AblateLinear):
    """The Arditi id with two digits swapped (2406.11771); the AntiPaSTO id is right."""

    DOC = ("Trainable directional ablation (Arditi et al. 2024, arXiv:2406.11771) on the AntiPaSTO basis (Clark 2026, "
           "arXiv:2601.07473).")


class CitationBaseMissing(AblateLinear):
    """Cites the ablation paper only: the frozen SVD basis it steers on is not attributed."""

    DOC = "Trainable directional ablation, after Arditi et al. 2024, arXiv:2406.11717."


class GuardTooLarge(AblateLinear):
    """k = 1: ĉ = c / (‖c‖ + 1e-3), a guard a thousand times the declared one: ĉᵀĉ falls short of 1 by ~2e-3/‖c‖."""

    def directions(self):
        c = self.lora_c
        if c.shape[1] == 1:
            return c / (c.norm() + 1e-3)
        return super().directions()


class UnitNormExact(AblateLinear):
    """Paper-faithful k = 1: ĉ = c / ‖c‖, a unit vector (the declared guard's deviation must then turn STALE)."""

    def directions(self):
        c = self.lora_c
        if c.shape[1] == 1:
            return c / c.norm()
        return super().directions()


class AblatesWholeOutput(AblateLinear):
    """Paper-faithful scope: the paper's W − r̂ r̂ᵀ W on the layer's whole output, with r̂ = Q Ĉ for a fixed orthonormal
    Q (d_out, r) that is not U, so the ablated directions are anywhere in the output space (the declared confinement
    must then turn STALE)."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, init_alpha)
        q, _ = torch.linalg.qr(_noise((self.lora_U.shape[0], r), torch.float64, seed=11))
        self.register_buffer("stream_Q", q.to(self.lora_U.dtype))

    def forward(self, x):
        chat, alpha = self.directions(), self.strength()
        rhat = self.stream_Q @ chat  # (d_out, k) orthonormal directions of the output space
        z = x @ self.base.weight.T + ((x @ self.lora_Vh.T) * self.lora_S) @ self.lora_U.T  # x Wᵀ
        z = z - self.coeff * ((z @ rhat) * alpha) @ rhat.T
        return z + (self.base.bias if self.base.bias is not None else 0)


class SvdSignsFlipped(AblateLinear):
    """Equivalence control: every singular pair stored with the opposite sign; M → D M D = M for D = −I."""

    def __init__(self, base, r, k=1, coeff=1.0, init_alpha=0.05):
        super().__init__(base, r, k, coeff, init_alpha)
        with torch.no_grad():
            self.lora_U.neg_()
            self.lora_Vh.neg_()


class GramSchmidt(AblateLinear):
    """Equivalence control: k > 1 orthonormalised by modified Gram–Schmidt instead of a Householder QR (the same Q up
    to column signs, which Ĉ diag(α̂) Ĉᵀ does not see)."""

    def directions(self):
        c = self.lora_c
        if c.shape[1] == 1:
            return super().directions()
        work = c.to(torch.promote_types(c.dtype, torch.float32))
        cols = []
        for j in range(work.shape[1]):
            v = work[:, j]
            for q in cols:
                v = v - (q @ v) * q
            cols.append(v / v.norm())
        return torch.stack(cols, dim=1).to(c.dtype)


V = "antipasto_ablate"
FORWARD, CONTRACTION, NEGATIVE, ORTHO = ("ablate.forward", "ablate.contraction", "ablate.negative-coeff",
                                         "ablate.orthonormal-directions")
NEAR, LIVE, ZERO_ALPHA = "ablate.init-moves-output", "ablate.step0-gradient", "ablate.strength-zero"
MUTANTS = (
    Mutant(V, "ablate_alpha_unclamped", AlphaUnclamped, (CONTRACTION, FORWARD), survives=(ORTHO, NEAR, ZERO_ALPHA)),
    Mutant(V, "ablate_before_singular_values", AblatedBeforeSingularValues, (CONTRACTION, FORWARD),
           survives=("antipasto.confinement", ZERO_ALPHA)),
    Mutant(V, "ablate_coeff_magnitude", CoeffMagnitude, (NEGATIVE, FORWARD), survives=(CONTRACTION, ORTHO, NEAR)),
    Mutant(V, "ablate_coeff_zero_falsy", CoeffZeroFalsy, ("antipasto.coeff-zero",), survives=(FORWARD, CONTRACTION)),
    Mutant(V, "ablate_columns_normalised_only", ColumnsNormalisedOnly, (ORTHO, FORWARD),
           survives=("antipasto.confinement", ZERO_ALPHA)),
    Mutant(V, "ablate_qr_always_float32", QrAlwaysFloat32, (ORTHO, FORWARD), survives=(NEAR, ZERO_ALPHA)),
    Mutant(V, "ablate_init_alpha_ignored", InitAlphaIgnored, (ZERO_ALPHA,), survives=(FORWARD, NEAR, LIVE)),
    Mutant(V, "ablate_alpha_zero", AlphaZeroInit, (NEAR, LIVE), survives=(FORWARD, CONTRACTION, ZERO_ALPHA)),
    Mutant(V, "ablate_direction_detached", DirectionDetached, (LIVE,), survives=(FORWARD, CONTRACTION, NEAR)),
    Mutant(V, "ablate_direction_leaks", DirectionLeaks, ("antipasto.confinement", FORWARD),
           survives=("antipasto.reconstruction", ZERO_ALPHA)),
    Mutant(V, "ablate_residual_from_bottom", ResidualFromBottom, ("antipasto.reconstruction",),
           survives=(FORWARD, CONTRACTION, "antipasto.confinement")),
    Mutant(V, "ablate_sign_canonicalised_in_forward", SignCanonicalisedInForward, ("antipasto.sign-invariance",),
           survives=("antipasto.reconstruction", "ablate.trainable")),
    Mutant(V, "ablate_base_trainable", BaseTrainable, ("ablate.trainable",), survives=(NEAR, FORWARD)),
    Mutant(V, "ablate_citation_wrong_id", CitationWrongId, ("ablate.citation",), survives=("antipasto.citation",)),
    Mutant(V, "ablate_citation_base_missing", CitationBaseMissing, ("antipasto.citation",),
           survives=("ablate.citation",)),
    Mutant(V, "ablate_svd_signs_flipped (control)", SvdSignsFlipped, (),
           survives=(FORWARD, CONTRACTION, NEGATIVE, ORTHO, ZERO_ALPHA, NEAR, LIVE, "antipasto.reconstruction",
                     "antipasto.confinement", "antipasto.sign-invariance", "antipasto.coeff-zero")),
    Mutant(V, "ablate_gram_schmidt (control)", GramSchmidt, (),
           survives=(FORWARD, CONTRACTION, NEGATIVE, ORTHO, NEAR, LIVE, "antipasto.sign-invariance")),
)

EXPECTED_MUTANTS = 17
EXPECTED_KILLS = 22

# Judged with the reference's declarations: each must break a declared alternative.
DECLARED_MUTANTS = (
    Mutant(V, "ablate_guard_too_large", GuardTooLarge, ("ablate.unit-direction",), survives=(CONTRACTION, ORTHO)),
    Mutant(V, "ablate_direction_leaks", DirectionLeaks, ("ablate.full-space",), survives=("antipasto.reconstruction",)),
)

EXPECTED_DECLARED_MUTANTS = 2
EXPECTED_DECLARED_KILLS = 2

# Paper-faithful classes make the declarations STALE: (variant, class, claim).
STALE_DECLARATIONS = ((V, UnitNormExact, "ablate.unit-direction"), (V, AblatesWholeOutput, "ablate.full-space"))
