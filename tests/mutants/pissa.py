"""Mutants of the reference PiSSA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch

from fidelity.impls.reference.pissa import PissaLinear
from tests.mutants.base import Mutant


def _resplit(module: PissaLinear, u: torch.Tensor, s: torch.Tensor, vh: torch.Tensor, divisor: float):
    """Undo the reference's crop, then split (u, s, vh) with √(s/divisor) factors and crop W − scale B A again."""
    base = module.base.weight
    with torch.no_grad():
        base.add_(module.scaling * module.lora_B @ module.lora_A)  # back to W
        root = torch.sqrt(s / divisor)
        module.lora_A.copy_(root[:, None] * vh)
        module.lora_B.copy_(u * root)
        base.sub_(module.scaling * module.lora_B @ module.lora_A)


class NoPredivide(PissaLinear):
    """History C.7 (lora-lite before 74c374e): B = U_r √S_r, A = √S_r Vh_r with no division by s, then
    W_res = W − s B A. An identity at init, but for α ≠ r the residual keeps (1 − s) U_r S_r Vh_r."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        u, s, vh = torch.linalg.svd(base.weight.detach() + self.scaling * self.lora_B.detach() @ self.lora_A.detach(),
                                    full_matrices=False)
        _resplit(self, u[:, :r], s[:r], vh[:r], divisor=1.0)


class SvdMinorInsteadOfMajor(PissaLinear):
    """The bottom-r singular triplets initialise A and B (`svd_minor_instead_of_major`): still an identity."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        u, s, vh = torch.linalg.svd(base.weight.detach() + self.scaling * self.lora_B.detach() @ self.lora_A.detach(),
                                    full_matrices=False)
        _resplit(self, u[:, -r:], s[-r:], vh[-r:], divisor=self.scaling)


class SvdSignFlipOnly(PissaLinear):
    """Equivalence control (`svd_sign_flip_only`): singular pairs stored with flipped signs, B D and D A; the same
    B A, W_res and function."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        d = torch.where(torch.arange(r) % 2 == 0, -1.0, 1.0).to(self.lora_A.dtype)  # (r,) flips pairs 0, 2, 4, …
        with torch.no_grad():
            self.lora_A.mul_(d[:, None])
            self.lora_B.mul_(d)


class ResidualNotRewritten(PissaLinear):
    """The base weight is left as W: the principal part is counted twice at init."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        with torch.no_grad():
            base.weight.add_(self.scaling * self.lora_B @ self.lora_A)


class ScaleTwiceSelfConsistent(PissaLinear):
    """s² in the forward pass and in the crop (`scale_applied_twice`): an identity at init, wrong once trained."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        with torch.no_grad():
            base.weight.sub_((self.scaling**2 - self.scaling) * self.lora_B @ self.lora_A)

    def forward(self, x):
        return self.base(x) + self.scaling**2 * (x @ self.lora_A.T) @ self.lora_B.T


class ADetached(PissaLinear):
    """A is used through .detach(): trainable on paper, but it never receives a gradient."""

    def forward(self, x):
        return self.base(x) + self.scaling * (x @ self.lora_A.detach().T) @ self.lora_B.T


class ResidualTrainable(PissaLinear):
    """W_res left trainable, where the paper freezes it."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha, niter)
        self.base.weight.requires_grad_(True)


class FastSvdWithoutIterations(PissaLinear):
    """pissa_niter_K ignores K: a single randomised pass (niter = 0), far from the top-r subspaces on a slow spectrum."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, alpha)
        if niter:
            w = base.weight.detach() + self.scaling * self.lora_B.detach() @ self.lora_A.detach()
            u, s, v = torch.svd_lowrank(w, q=r, niter=0)
            _resplit(self, u, s, v.T, divisor=self.scaling)


class CitationWrongId(PissaLinear):
    """A docstring citing a mistyped arXiv id (history C.13's kind)."""

    DOC = "PiSSA (Meng et al. 2024, arXiv:2404.02984): A and B from the top-r SVD of W, W_res the tail."


class PaperNoAlpha(PissaLinear):
    """The paper read literally: no α anywhere (s = 1), factors √S_r, W_res the tail. The declared pre-division
    deviation must then turn STALE on `pissa.scaling`."""

    def __init__(self, base, r, alpha, niter=0):
        super().__init__(base, r, float(r), niter)


MUTANTS = (
    Mutant("pissa", "pissa_no_predivide", NoPredivide, ("pissa.residual", "pissa.optimality"),
           survives=("pissa.identity-at-init", "pissa.forward", "pissa.init-subspaces", "pissa.step0-gradient")),
    Mutant("pissa", "pissa_svd_minor_instead_of_major", SvdMinorInsteadOfMajor,
           ("pissa.init-subspaces", "pissa.residual", "pissa.optimality"),
           survives=("pissa.identity-at-init", "pissa.forward")),
    Mutant("pissa", "pissa_svd_sign_flip_only (control)", SvdSignFlipOnly, (),
           survives=("pissa.init-subspaces", "pissa.residual", "pissa.optimality", "pissa.identity-at-init",
                     "pissa.forward", "pissa.step0-gradient", "pissa.trainable")),
    Mutant("pissa", "pissa_residual_not_rewritten", ResidualNotRewritten,
           ("pissa.identity-at-init", "pissa.residual"), survives=("pissa.init-subspaces", "pissa.optimality")),
    Mutant("pissa", "pissa_scale_twice", ScaleTwiceSelfConsistent, ("pissa.forward", "pissa.residual"),
           survives=("pissa.identity-at-init", "pissa.init-subspaces")),
    Mutant("pissa", "pissa_A_detached", ADetached, ("pissa.step0-gradient",),
           survives=("pissa.identity-at-init", "pissa.forward", "pissa.trainable")),
    Mutant("pissa", "pissa_residual_trainable", ResidualTrainable, ("pissa.trainable",),
           survives=("pissa.identity-at-init", "pissa.residual")),
    Mutant("pissa", "pissa_fast_svd_without_iterations", FastSvdWithoutIterations, ("pissa.fast-svd",),
           survives=("pissa.init-subspaces", "pissa.identity-at-init")),
    Mutant("pissa", "pissa_citation_wrong_id", CitationWrongId, ("pissa.citation",)),
)

# Judged with the reference's declared pre-division in force (tests/test_declared_mutants.py): C.7 keeps the
# paper's √S_r magnitudes but breaks the declared alternative (W_res the same at every α, factors √(S_r/s)), so the
# deviation is not honoured; the literal paper reading (no α at all) makes the declaration STALE.
DECLARED_MUTANTS = (
    Mutant("pissa", "pissa_no_predivide (declared pre-division)", NoPredivide, ("pissa.scaling",),
           survives=("pissa.identity-at-init",)),
)
STALE_DECLARATIONS = (("pissa", PaperNoAlpha, "pissa.scaling"),)
EXPECTED_DECLARED_MUTANTS = 1
EXPECTED_DECLARED_KILLS = 1

EXPECTED_MUTANTS = 9
EXPECTED_KILLS = 13
