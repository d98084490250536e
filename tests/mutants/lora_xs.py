"""Mutants of the reference LoRA-XS, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn

from fidelity.impls.reference.lora_xs import LoraXsLinear
from tests.mutants.base import Mutant


class ScaleTwo(LoraXsLinear):
    """History C.25c (`loraxs_scale_two`): lora-lite's default α = 16 instead of the authors' α = r (s = 2 at r = 8)."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, 16.0 if alpha is None else alpha)


class RZero(LoraXsLinear):
    """R = 0 at init (the `rot_delta_zero` kind): declared a near-identity, but exactly the identity."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            self.lora_R.zero_()


class RWrongScale(LoraXsLinear):
    """R ~ N(0, 1e-4): ten times the authors' standard deviation (still a small near-identity)."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            self.lora_R.mul_(10)


class WCropped(LoraXsLinear):
    """PiSSA's residual crop W ← W − U_r diag(S_r) Vh_r applied although LoRA-XS keeps W: the forward formula still
    holds on the live weight, but at init the output moves far beyond the near-identity bound."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            base.weight.sub_(self.lora_B @ self.lora_A)


class SvdMinor(LoraXsLinear):
    """A and B from the *bottom* r singular triplets of W."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        u, s, vh = torch.linalg.svd(base.weight.detach().to(torch.float64), full_matrices=False)
        with torch.no_grad():
            self.lora_A.copy_(s[-r:, None] * vh[-r:])
            self.lora_B.copy_(u[:, -r:])


class ATrainable(LoraXsLinear):
    """A left trainable (a parameter, not a frozen buffer): r·d_in extra trainable scalars."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        a = self.lora_A
        del self.lora_A
        self.lora_A = nn.Parameter(a.clone())


class RDetached(LoraXsLinear):
    """R is used through .detach(): trainable on paper, but it never receives a gradient."""

    def forward(self, x):
        return self.base(x) + self.scaling * ((x @ self.lora_A.T) @ self.lora_R.detach().T) @ self.lora_B.T


class AlphaNotOverR(LoraXsLinear):
    """α applied instead of α/r."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        self.scaling = r if alpha is None else alpha


class RTransposed(LoraXsLinear):
    """R applied transposed, B Rᵀ A (the row/column orientation of the latent map confused): invisible at init."""

    def forward(self, x):
        return self.base(x) + self.scaling * ((x @ self.lora_A.T) @ self.lora_R) @ self.lora_B.T


class CitationWrongId(LoraXsLinear):
    """A neighbouring arXiv id (2405.17484 is HRA's) in place of 2405.17604."""

    DOC = "LoRA-XS (Bałazy et al. 2024, arXiv:2405.17484): h = W x + s B R A x with frozen SVD factors A, B."


class SvdSignsFlipped(LoraXsLinear):
    """Equivalence control: singular pairs stored with random signs, (B D, D A), and R mapped to D R D."""

    def __init__(self, base, r, alpha=None):
        super().__init__(base, r, alpha)
        d = torch.where(torch.arange(r) % 2 == 0, -1.0, 1.0).to(self.lora_R.dtype)
        with torch.no_grad():
            self.lora_B.mul_(d)
            self.lora_A.mul_(d[:, None])
            self.lora_R.copy_(d[:, None] * self.lora_R * d)


V = "lora_xs"
MUTANTS = (
    Mutant(V, "loraxs_scale_two", ScaleTwo, ("lora_xs.default-scale",),
           survives=("lora_xs.scaling", "lora_xs.forward", "lora_xs.near-identity")),
    Mutant(V, "loraxs_R_zero", RZero, ("lora_xs.near-identity", "lora_xs.gaussian-r"),
           survives=("lora_xs.forward", "lora_xs.step0-gradient", "lora_xs.trainable")),
    Mutant(V, "loraxs_R_wrong_scale", RWrongScale, ("lora_xs.gaussian-r",),
           survives=("lora_xs.near-identity", "lora_xs.forward")),
    Mutant(V, "loraxs_W_cropped", WCropped, ("lora_xs.near-identity",),
           survives=("lora_xs.forward", "lora_xs.svd-factors", "lora_xs.trainable", "lora_xs.scaling")),
    Mutant(V, "loraxs_svd_minor", SvdMinor, ("lora_xs.svd-factors",),
           survives=("lora_xs.forward", "lora_xs.near-identity")),
    Mutant(V, "loraxs_A_trainable", ATrainable, ("lora_xs.trainable",), survives=("lora_xs.forward",)),
    Mutant(V, "loraxs_R_detached", RDetached, ("lora_xs.step0-gradient",),
           survives=("lora_xs.forward", "lora_xs.near-identity", "lora_xs.trainable")),
    Mutant(V, "loraxs_alpha_not_over_r", AlphaNotOverR, ("lora_xs.scaling", "lora_xs.forward")),
    Mutant(V, "loraxs_R_transposed", RTransposed, ("lora_xs.forward",),
           survives=("lora_xs.near-identity", "lora_xs.step0-gradient", "lora_xs.svd-factors")),
    Mutant(V, "loraxs_citation_wrong_id", CitationWrongId, ("lora_xs.citation",)),
    Mutant(V, "loraxs_svd_signs_flipped (control)", SvdSignsFlipped, (),
           survives=("lora_xs.forward", "lora_xs.svd-factors", "lora_xs.near-identity", "lora_xs.scaling",
                     "lora_xs.default-scale", "lora_xs.step0-gradient", "lora_xs.gaussian-r")),
)

EXPECTED_MUTANTS = 11
EXPECTED_KILLS = 12
