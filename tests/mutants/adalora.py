"""Mutants of the reference AdaLoRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.adalora import AdaLoraLinear
from tests.mutants.base import Mutant


class AlphaNotOverR(AdaLoraLinear):
    """P Λ Q scaled by α instead of §4's α/r."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        self.scaling = alpha


class RankEpsilon(AdaLoraLinear):
    """The official code's α/(r + 1e-5) (PEFT's too): a relative 1e-5/r off §4's α/r, which float64 must resolve."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        self.scaling = alpha / (r + 1e-5)


class SingularNonZero(AdaLoraLinear):
    """Λ initialised non-zero (N(0, 1)): ∆ ≠ 0 at init, and P, Q get a gradient on step 0."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        with torch.no_grad():
            self.lora_E.normal_()


class VectorsZero(AdaLoraLinear):
    """P and Q initialised to zero: still an identity, but Λ's gradient ∝ P, Q is zero, so nothing ever trains."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        with torch.no_grad():
            self.lora_A.zero_()
            self.lora_B.zero_()


class VectorsUniform(AdaLoraLinear):
    """P and Q drawn uniform U(−√3·0.02, √3·0.02), the moment-matched non-Gaussian family."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        bound = 3**0.5 * 0.02
        with torch.no_grad():
            self.lora_A.uniform_(-bound, bound)
            self.lora_B.uniform_(-bound, bound)


class RegularizerUnsquared(AdaLoraLinear):
    """R(P, Q) with unsquared Frobenius norms, ‖PᵀP − I‖_F + ‖QQᵀ − I‖_F (what the authors' code and PEFT compute,
    before PEFT's averaging over matrices)."""

    def regularizer(self):
        eye = torch.eye(self.lora_E.shape[0], dtype=self.lora_E.dtype)
        p_gram, q_gram = self.lora_B.T @ self.lora_B, self.lora_A @ self.lora_A.T
        return self.orth_reg_weight * (torch.linalg.norm(p_gram - eye) + torch.linalg.norm(q_gram - eye))


class LastTripletUnused(AdaLoraLinear):
    """The last singular value is ignored (treated as pruned for good): a slice of Λ is unused."""

    def forward(self, x):
        singular = torch.cat([self.lora_E[:-1], torch.zeros_like(self.lora_E[-1:])])  # (r, 1), last entry dropped
        return self.base(x) + self.scaling * ((x @ self.lora_A.T) * singular.T) @ self.lora_B.T


class QOrientationByShape(AdaLoraLinear):
    """Q's orientation guessed from its shape, as code accepting either (r, d_in) or (d_in, r) storage does: right
    whenever the shape decides it, and Qᵀ on a square Q (r = d_in), where it cannot."""

    def forward(self, x):
        q = self.lora_A if self.lora_A.shape[0] != self.lora_A.shape[1] else self.lora_A.T  # read as (r, d_in)
        return self.base(x) + self.scaling * ((x @ q.T) * self.lora_E.T) @ self.lora_B.T


class SingularFrozen(AdaLoraLinear):
    """Λ registered frozen: only the singular vectors train, and nothing moves the (zero) update."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        self.lora_E.requires_grad_(False)


class RankTrainable(AdaLoraLinear):
    """The rank in the scale's denominator kept as a trainable parameter (PEFT's ranknum in float64 and bfloat16)."""

    def __init__(self, base, r, alpha, budget="pruned", orth_reg_weight=0.1):
        super().__init__(base, r, alpha, budget, orth_reg_weight)
        self.ranknum = nn.Parameter(torch.tensor([float(r)], dtype=base.weight.dtype))

    def forward(self, x):
        h = (x @ self.lora_A.T) * self.lora_E.T
        return self.base(x) + (self.scaling * self.lora_E.shape[0] / self.ranknum) * h @ self.lora_B.T


class CitationWrongId(AdaLoraLinear):
    """Cites LoRA (arXiv:2106.09685) as the method's paper."""

    DOC = 'AdaLoRA: low-rank adaptation, see Hu et al. 2021, "LoRA", arXiv:2106.09685.'


class MergedForward(AdaLoraLinear):
    """Equivalence control: ∆ = s P diag(Λ) Q built explicitly, then F.linear(x, W + ∆, b)."""

    def forward(self, x):
        delta = self.scaling * (self.lora_B * self.lora_E.T) @ self.lora_A  # (d_out, d_in)
        return F.linear(x, self.base.weight + delta, self.base.bias)


class SingularOnP(AdaLoraLinear):
    """Equivalence control: Λ carried by P's columns instead of Q's rows; (P diag Λ) Q = P (diag Λ Q)."""

    def forward(self, x):
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ (self.lora_B * self.lora_E.T).T


MUTANTS = (
    Mutant("adalora", "adalora_alpha_not_over_r", AlphaNotOverR, ("adalora.svd-form", "adalora.scaling"),
           survives=("adalora.identity-at-init",)),
    Mutant("adalora", "adalora_rank_epsilon", RankEpsilon, ("adalora.scaling", "adalora.svd-form"),
           survives=("adalora.identity-at-init", "adalora.orthogonal-regularizer")),
    Mutant("adalora", "adalora_singular_nonzero", SingularNonZero,
           ("adalora.identity-at-init", "adalora.zero-init", "adalora.step0-gradient"),
           survives=("adalora.svd-form",)),
    Mutant("adalora", "adalora_vectors_zero", VectorsZero, ("adalora.step0-gradient", "adalora.zero-init"),
           survives=("adalora.identity-at-init", "adalora.svd-form")),
    Mutant("adalora", "adalora_vectors_uniform", VectorsUniform, ("adalora.gaussian-q", "adalora.gaussian-p"),
           survives=("adalora.zero-init", "adalora.identity-at-init", "adalora.step0-gradient")),
    Mutant("adalora", "adalora_regularizer_unsquared", RegularizerUnsquared, ("adalora.orthogonal-regularizer",),
           survives=("adalora.svd-form", "adalora.identity-at-init")),
    Mutant("adalora", "adalora_last_triplet_unused", LastTripletUnused, ("adalora.influence", "adalora.svd-form"),
           survives=("adalora.identity-at-init", "adalora.step0-gradient")),
    Mutant("adalora", "adalora_q_transposed_when_square", QOrientationByShape, ("adalora.svd-form",),
           survives=("adalora.identity-at-init",)),
    Mutant("adalora", "adalora_singular_frozen", SingularFrozen, ("adalora.trainable", "adalora.step0-gradient"),
           survives=("adalora.identity-at-init", "adalora.svd-form")),
    Mutant("adalora", "adalora_rank_trainable", RankTrainable, ("adalora.trainable",),
           survives=("adalora.identity-at-init", "adalora.svd-form", "adalora.scaling")),
    Mutant("adalora", "adalora_citation_wrong_id", CitationWrongId, ("adalora.citation",)),
    Mutant("adalora", "adalora_merged_forward (control)", MergedForward, (),
           survives=("adalora.svd-form", "adalora.scaling", "adalora.identity-at-init", "adalora.influence",
                     "adalora.step0-gradient")),
    Mutant("adalora", "adalora_singular_on_p (control)", SingularOnP, (),
           survives=("adalora.svd-form", "adalora.scaling", "adalora.identity-at-init", "adalora.influence",
                     "adalora.step0-gradient")),
)

EXPECTED_MUTANTS = 13
EXPECTED_KILLS = 19
