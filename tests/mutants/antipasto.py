"""Mutants of the reference antipasto (1+ELU gain on the AntiPaSTO basis), each breaking exactly one property.

MUTANTS are judged against the paper with nothing declared (tests/test_mutants.py). DECLARED_MUTANTS break the
property that the reference's declared deviation of `antipasto.additive-steering` puts in place of the paper's
(the gain's positivity, piecewise form, C¹ join and suppress_only bound): they are judged with the reference's
declarations in force and must turn its DEVIATES-OK into a DEVIATES (tests/test_declared_mutants.py).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from fidelity.impls.reference.antipasto import AntipastoLinear
from tests.mutants.base import Mutant, crop_bottom_triplets


class GainExpInsteadOfElu(AntipastoLinear):
    """S ⊙ e^(coeff g): positive and right for coeff·g ≤ 0, but exponential where 1 + ELU is linear (K14)."""

    def forward(self, x):
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g
        s_eff = self.lora_S * torch.exp(self.coeff * g)
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


class GainEluMirrored(AntipastoLinear):
    """A sign slip, S ⊙ (1 − ELU(−coeff g)): C¹ at 0 with the right slope, but S_eff ≤ 0 once coeff·g ≤ −1."""

    def forward(self, x):
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g
        s_eff = self.lora_S * (1 - F.elu(-self.coeff * g))
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


class SuppressOnlyIgnored(AntipastoLinear):
    """The suppress_only flag is accepted but does nothing: S_eff > S for coeff·g > 0 although it is set."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only=False)


class GainSlopeDetachedBelowZero(AntipastoLinear):
    """The right value everywhere, but the e^z branch is detached: the slope is 0 for coeff·g ≤ 0 (not C¹)."""

    def forward(self, x):
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g
        z = self.coeff * g
        s_eff = self.lora_S * torch.where(z > 0, 1 + z, torch.exp(z.clamp(max=0)).detach())
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


class GainNearZeroInit(AntipastoLinear):
    """g = 1e-6 · randn at init (history C.15, `near_zero_init`): not an identity at init."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only)
        with torch.no_grad():
            self.lora_g.normal_().mul_(1e-6)


class GainIgnoresCoeff(AntipastoLinear):
    """S ⊙ (1 + ELU(g)): the steering coefficient is never applied, so coeff = 0 is not the base model."""

    def forward(self, x):
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g
        s_eff = self.lora_S * (1 + F.elu(g))
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


class GainDetached(AntipastoLinear):
    """The gain is used through .detach(): a parameter on paper that never receives a gradient."""

    def forward(self, x):
        g = self.lora_g.detach().clamp(max=0) if self.suppress_only else self.lora_g.detach()
        s_eff = self.lora_S * (1 + F.elu(self.coeff * g))
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


class GainLeaks(AntipastoLinear):
    """The gain's change S_eff − S is written through a perturbed basis U + 0.1 N: it leaks out of span U_r."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only)
        gen = torch.Generator().manual_seed(7)
        noise = torch.randn(self.lora_U.shape, generator=gen, dtype=torch.float64).to(self.lora_U.dtype)
        self.register_buffer("leaky_U", self.lora_U + 0.1 * noise)

    def forward(self, x):
        p = x @ self.lora_Vh.T
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
        return self.base(x) + (p * self.lora_S) @ self.lora_U.T + (p * (s_eff - self.lora_S)) @ self.leaky_U.T


class ResidualFromBottom(AntipastoLinear):
    """The *bottom* r singular triplets are split off: an identity at init, but the residual is not the tail."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only)
        crop_bottom_triplets(self, base, r)


class SignCanonicalisedInForward(AntipastoLinear):
    """U's column signs are canonicalised inside the forward pass but Vh's are not (with the whole S U Vh sandwich
    in the forward, unlike dplr's, this breaks the identity at init too)."""

    def forward(self, x):
        u = self.lora_U * torch.sign(self.lora_U[0])
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ u.T


class BaseTrainable(AntipastoLinear):
    """W_res left trainable."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only)
        self.base.weight.requires_grad_(True)


class CitationWrongId(AntipastoLinear):
    """History C.13: the id an older lora-lite README carried (2503.08696) instead of 2601.07473."""

    DOC = "AntiPaSTO gain (Clark 2026, arXiv:2503.08696): S_eff = S (1 + ELU(coeff g)) on the top-r SVD basis."


class CitationMissing(AntipastoLinear):
    """History C.13: a docstring with no citeable reference."""

    DOC = "SVD gain adapter: S_eff = S (1 + ELU(coeff g)) on the top-r singular basis, identity at g = 0."


class SvdSignsFlipped(AntipastoLinear):
    """Equivalence control: every singular pair stored with the opposite sign; the function is the same."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False):
        super().__init__(base, r, coeff, suppress_only)
        with torch.no_grad():
            self.lora_U.neg_()
            self.lora_Vh.neg_()


class PaperAdditiveGain(AntipastoLinear):
    """The paper's additive reading S + coeff·∆S with ∆S = S ⊙ g: the declared deviation must then turn STALE."""

    def forward(self, x):
        s_eff = self.lora_S * (1 + self.coeff * self.lora_g)
        return self.base(x) + ((x @ self.lora_Vh.T) * s_eff) @ self.lora_U.T


V = "antipasto"
MUTANTS = (
    Mutant(V, "gain_exp_instead_of_elu", GainExpInsteadOfElu, ("antipasto.forward",),
           survives=("antipasto.identity-at-init", "antipasto.coeff-zero", "antipasto.confinement",
                     "antipasto.sign-invariance", "antipasto.step0-gradient")),
    Mutant(V, "gain_elu_mirrored", GainEluMirrored, ("antipasto.forward",),
           survives=("antipasto.identity-at-init", "antipasto.coeff-zero", "antipasto.step0-gradient",
                     "antipasto.confinement")),
    Mutant(V, "gain_near_zero_init", GainNearZeroInit, ("antipasto.identity-at-init",),
           survives=("antipasto.forward", "antipasto.coeff-zero", "antipasto.reconstruction")),
    Mutant(V, "gain_ignores_coeff", GainIgnoresCoeff, ("antipasto.coeff-zero", "antipasto.forward"),
           survives=("antipasto.identity-at-init",)),
    Mutant(V, "gain_detached", GainDetached, ("antipasto.step0-gradient",),
           survives=("antipasto.forward", "antipasto.identity-at-init", "antipasto.trainable")),
    Mutant(V, "gain_leaks", GainLeaks, ("antipasto.confinement", "antipasto.forward"),
           survives=("antipasto.identity-at-init", "antipasto.reconstruction")),
    Mutant(V, "antipasto_residual_from_bottom", ResidualFromBottom, ("antipasto.reconstruction",),
           survives=("antipasto.identity-at-init", "antipasto.forward", "antipasto.confinement")),
    Mutant(V, "antipasto_sign_canonicalised_in_forward", SignCanonicalisedInForward,
           ("antipasto.sign-invariance", "antipasto.identity-at-init"),
           survives=("antipasto.reconstruction", "antipasto.trainable")),
    Mutant(V, "antipasto_base_trainable", BaseTrainable, ("antipasto.trainable",),
           survives=("antipasto.identity-at-init",)),
    Mutant(V, "antipasto_citation_wrong_id", CitationWrongId, ("antipasto.citation",)),
    Mutant(V, "antipasto_citation_missing", CitationMissing, ("antipasto.citation",)),
    Mutant(V, "antipasto_svd_signs_flipped (control)", SvdSignsFlipped, (),
           survives=("antipasto.identity-at-init", "antipasto.forward", "antipasto.reconstruction",
                     "antipasto.confinement", "antipasto.sign-invariance", "antipasto.coeff-zero",
                     "antipasto.step0-gradient")),
)

EXPECTED_MUTANTS = 12
EXPECTED_KILLS = 14

# Judged with the reference's declarations: each must break the declared alternative (GainBounds).
DECLARED_MUTANTS = (
    Mutant(V, "gain_exp_instead_of_elu", GainExpInsteadOfElu, ("antipasto.additive-steering",),
           survives=("antipasto.coeff-zero",)),
    Mutant(V, "gain_elu_mirrored", GainEluMirrored, ("antipasto.additive-steering",),
           survives=("antipasto.coeff-zero",)),
    Mutant(V, "suppress_only_ignored", SuppressOnlyIgnored, ("antipasto.additive-steering",),
           survives=("antipasto.forward", "antipasto.coeff-zero")),
    Mutant(V, "gain_slope_detached_below_zero", GainSlopeDetachedBelowZero, ("antipasto.additive-steering",),
           survives=("antipasto.forward", "antipasto.coeff-zero")),
)

EXPECTED_DECLARED_MUTANTS = 4
EXPECTED_DECLARED_KILLS = 4

# A paper-faithful implementation makes the declaration STALE: (variant, class, claim).
STALE_DECLARATIONS = ((V, PaperAdditiveGain, "antipasto.additive-steering"),)
