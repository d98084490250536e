"""Mutants of the reference antipasto_dplr, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.antipasto_dplr import DplrLinear
from tests.mutants.base import Mutant, crop_bottom_triplets


class CoreUpRandom(DplrLinear):
    """The core's B initialised non-zero: not an identity at init."""

    def __init__(self, base, r, k, coeff=1.0):
        super().__init__(base, r, k, coeff)
        with torch.no_grad():
            self.lora_B.normal_()


class CoreBypassesCoeff(DplrLinear):
    """The core is added without coeff (claim-kinds K03 `coeff_applied_to_core_only`): coeff = 0 is not the base."""

    def forward(self, x):
        p = x @ self.lora_Vh.T
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
        return self.base(x) + (p * s_eff + (p @ self.lora_A.T) @ self.lora_B.T) @ self.lora_U.T


class CoreLeaks(DplrLinear):
    """The core writes through a perturbed basis U + 0.1 R: the update leaks out of span U_r."""

    def __init__(self, base, r, k, coeff=1.0):
        super().__init__(base, r, k, coeff)
        gen = torch.Generator().manual_seed(7)
        noise = torch.randn(self.lora_U.shape, generator=gen, dtype=torch.float64).to(self.lora_U.dtype)
        self.register_buffer("leaky_U", self.lora_U + 0.1 * noise)

    def forward(self, x):
        p = x @ self.lora_Vh.T
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
        core = self.coeff * (p @ self.lora_A.T) @ self.lora_B.T
        return self.base(x) + (p * s_eff) @ self.lora_U.T + core @ self.leaky_U.T


class ResidualFromBottom(DplrLinear):
    """The *bottom* r singular triplets are split off: still an identity at init, but the residual is not the tail."""

    def __init__(self, base, r, k, coeff=1.0):
        super().__init__(base, r, k, coeff)
        crop_bottom_triplets(self, base, r)


class SignCanonicalisedInForward(DplrLinear):
    """U's column signs are canonicalised inside the forward pass but Vh's are not."""

    def forward(self, x):
        u = self.lora_U * torch.sign(self.lora_U[0])
        p = x @ self.lora_Vh.T
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
        return self.base(x) + (p * s_eff + self.coeff * (p @ self.lora_A.T) @ self.lora_B.T) @ u.T


class PaperGaussianA(DplrLinear):
    """The core's A Gaussian, as the LoRA paper says: the declared Kaiming deviation must then turn STALE."""

    def __init__(self, base, r, k, coeff=1.0):
        super().__init__(base, r, k, coeff)
        with torch.no_grad():
            nn.init.normal_(self.lora_A, std=r**-0.5)


class SvdSignsFlipped(DplrLinear):
    """Equivalence control: every singular pair stored with the opposite sign; the function is the same."""

    def __init__(self, base, r, k, coeff=1.0):
        super().__init__(base, r, k, coeff)
        with torch.no_grad():
            self.lora_U.neg_()
            self.lora_Vh.neg_()


MUTANTS = (
    Mutant("antipasto_dplr", "dplr_core_up_random", CoreUpRandom, ("lora.identity-at-init", "lora.zero-init")),
    Mutant("antipasto_dplr", "dplr_core_bypasses_coeff", CoreBypassesCoeff, ("antipasto.coeff-zero", "lora.forward"),
           survives=("lora.identity-at-init", "antipasto.confinement")),
    Mutant("antipasto_dplr", "dplr_core_leaks", CoreLeaks, ("antipasto.confinement", "lora.forward"),
           survives=("lora.identity-at-init", "antipasto.reconstruction")),
    Mutant("antipasto_dplr", "dplr_residual_from_bottom", ResidualFromBottom, ("antipasto.reconstruction",),
           survives=("lora.identity-at-init", "lora.forward", "antipasto.confinement")),
    Mutant("antipasto_dplr", "dplr_sign_canonicalised_in_forward", SignCanonicalisedInForward,
           ("antipasto.sign-invariance",), survives=("antipasto.reconstruction",)),
    Mutant("antipasto_dplr", "dplr_svd_signs_flipped (control)", SvdSignsFlipped, (),
           survives=("lora.identity-at-init", "lora.forward", "antipasto.reconstruction", "antipasto.confinement",
                     "antipasto.sign-invariance", "antipasto.coeff-zero")),
)

# Not a mutant of a claim but of a declaration: with a Gaussian A the binding's Kaiming deviation is STALE.
STALE_DECLARATION = (PaperGaussianA, "lora.gaussian-a")

EXPECTED_MUTANTS = 6
EXPECTED_KILLS = 8
