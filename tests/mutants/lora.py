"""Mutants of the reference LoRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import math

import torch
from torch import nn

from fidelity.impls.reference.lora import LoraLinear
from tests.mutants.base import Mutant


class BRandn(LoraLinear):
    """B initialised non-zero (N(0, 1)): ΔW ≠ 0 at init."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        with torch.no_grad():
            self.lora_B.normal_()


class BTinyEps(LoraLinear):
    """B = 1e-6 · randn (history C.15, near-zero init): catches an identity check with a loose tolerance."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        with torch.no_grad():
            self.lora_B.normal_().mul_(1e-6)


class BBelowRounding(LoraLinear):
    """B = 1e-30 · randn: the output is bit-exact at init (the update rounds away), but A's step-0 gradient is not
    zero, and an optimiser that normalises its steps (Adam) moves A at full size: A is live, not dead."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        with torch.no_grad():
            self.lora_B.normal_().mul_(1e-30)


class AlphaNotOverR(LoraLinear):
    """α applied instead of α/r."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        self.scaling = alpha


class SqrtRInPlainLora(LoraLinear):
    """rsLoRA's α/√r used although rank stabilisation is off."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        self.scaling = alpha / math.sqrt(r)


class RsloraIgnored(LoraLinear):
    """The rank-stabilisation flag is accepted but ignored: always α/r."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora=False)


class ScalingTwice(LoraLinear):
    """The scale multiplied in twice: s² B A x."""

    def forward(self, x):
        return self.base(x) + self.scaling * self.scaling * (x @ self.lora_A.T) @ self.lora_B.T


class AttributeRightForwardWrong(LoraLinear):
    """`self.scaling` holds α/r, but the forward pass never uses it (PEFT's tests read the attribute)."""

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T) @ self.lora_B.T


class RolesSwapped(LoraLinear):
    """Zero on the wrong side: A = 0 and B random. Still an identity at init, but A is the only live factor."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        with torch.no_grad():
            self.lora_B.copy_(torch.randn_like(self.lora_B) / math.sqrt(r))
            self.lora_A.zero_()


class ADetached(LoraLinear):
    """A is used through .detach(): trainable on paper, but it never receives a gradient (history C.10's kind)."""

    def forward(self, x):
        return self.base(x) + self.scaling * (x @ self.lora_A.detach().T) @ self.lora_B.T


class BaseTrainable(LoraLinear):
    """W0 left trainable."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        self.base.weight.requires_grad_(True)


class CitationMissing(LoraLinear):
    """A docstring that names no paper (history C.13)."""

    DOC = "Low-rank adapter: h = W0 x + (alpha/r) B A x, identity at init from B = 0."


class RankInflated(LoraLinear):
    """One rank more than configured: A (r+1, d_in), B (d_out, r+1)."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r + 1, alpha, use_rslora)
        self.scaling = alpha / math.sqrt(r) if use_rslora else alpha / r


class DeltaNotLowRank(LoraLinear):
    """Shapes as declared, but the forward adds a full-rank term 0.01 · W0 x, so rank(ΔW) > r."""

    def forward(self, x):
        return super().forward(x) + 0.01 * (x @ self.base.weight.T)


class AKaimingUniformWrongBound(LoraLinear):
    """A uniform with twice Kaiming's bound, U(−2/√d_in, 2/√d_in): breaks a declared Kaiming-uniform alternative."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        with torch.no_grad():
            self.lora_A.uniform_(-2 / math.sqrt(self.lora_A.shape[1]), 2 / math.sqrt(self.lora_A.shape[1]))


class AKaimingUniform(LoraLinear):
    """A drawn Kaiming-uniform (PEFT's and microsoft/LoRA's choice) where the paper says Gaussian."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))


class MergedForward(LoraLinear):
    """Equivalence control: the same math computed as one merged weight, x (W0 + s B A)ᵀ + b."""

    def forward(self, x):
        weight = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        return nn.functional.linear(x, weight, self.base.bias)


class ConfinedToTopR(LoraLinear):
    """B A projected onto W0's top-r output subspace: a PiSSA-like restriction where LoRA's update is free."""

    def __init__(self, base, r, alpha, use_rslora=False):
        super().__init__(base, r, alpha, use_rslora)
        u = torch.linalg.svd(base.weight.detach(), full_matrices=False)[0][:, :r]
        self.register_buffer("proj", u @ u.T)  # (d_out, d_out)

    def forward(self, x):
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T @ self.proj


class MergeUnscaled(LoraLinear):
    """The merge path stores W0 + BA without s (the forward is right): a deployment-only bug."""

    def merged(self):
        return self.base.weight + self.lora_B @ self.lora_A, self.base.bias


class UnmergeUnscaled(LoraLinear):
    """Unmerging subtracts BA without s, so W0 does not come back (merging is right)."""

    def unmerged(self):
        merged, _ = self.merged()
        return merged - self.lora_B @ self.lora_A


class MergeFactoredOtherwise(LoraLinear):
    """Control: the same merge computed as W0 + (s B) A."""

    def merged(self):
        return self.base.weight + (self.scaling * self.lora_B) @ self.lora_A, self.base.bias


MUTANTS = (
    Mutant("lora", "B_randn", BRandn, ("lora.identity-at-init", "lora.zero-init")),
    Mutant("lora", "B_tiny_eps", BTinyEps, ("lora.identity-at-init", "lora.zero-init", "lora.step0-gradient")),
    Mutant("lora", "B_below_rounding", BBelowRounding, ("lora.zero-init", "lora.step0-gradient"),
           survives=("lora.identity-at-init",)),
    Mutant("lora", "alpha_not_over_r", AlphaNotOverR, ("lora.scaling", "lora.forward"), survives=("lora.identity-at-init",)),
    Mutant("lora", "sqrt_r_in_plain_lora", SqrtRInPlainLora, ("lora.scaling", "lora.forward"),
           survives=("lora.identity-at-init", "rslora.scaling")),
    Mutant("lora", "rslora_ignored", RsloraIgnored, ("rslora.scaling", "rslora.forward"), survives=("lora.scaling",)),
    Mutant("lora", "scaling_twice", ScalingTwice, ("lora.scaling", "lora.forward"), survives=("lora.identity-at-init",)),
    Mutant("lora", "attribute_right_forward_wrong", AttributeRightForwardWrong, ("lora.scaling", "lora.forward"),
           survives=("lora.identity-at-init",)),
    Mutant("lora", "roles_swapped", RolesSwapped, ("lora.zero-init", "lora.step0-gradient"),
           survives=("lora.identity-at-init",)),
    Mutant("lora", "A_detached", ADetached, ("lora.step0-gradient",),
           survives=("lora.identity-at-init", "lora.zero-init", "lora.forward", "lora.frozen-base")),
    Mutant("lora", "base_trainable", BaseTrainable, ("lora.frozen-base",), survives=("lora.identity-at-init",)),
    Mutant("lora", "citation_missing", CitationMissing, ("lora.citation",)),
    Mutant("lora", "rank_inflated", RankInflated, ("lora.low-rank-form", "lora.frozen-base",
                                                          "lora.identity-at-init")),
    Mutant("lora", "delta_not_low_rank", DeltaNotLowRank, ("lora.low-rank-form", "lora.forward"),
           survives=("lora.frozen-base", "lora.zero-init")),
    Mutant("lora", "A_kaiming_uniform", AKaimingUniform, ("lora.gaussian-a",), survives=("lora.zero-init",)),
    Mutant("lora", "confined_to_top_r", ConfinedToTopR, ("lora.full-space", "lora.forward"),
           survives=("lora.identity-at-init", "lora.zero-init")),
    Mutant("lora", "merge_unscaled", MergeUnscaled, ("lora.merge", "lora.unmerge"), survives=("lora.forward",)),
    Mutant("lora", "unmerge_unscaled", UnmergeUnscaled, ("lora.unmerge",), survives=("lora.merge", "lora.forward")),
    Mutant("lora", "merge_factored_otherwise (control)", MergeFactoredOtherwise, (),
           survives=("lora.merge", "lora.unmerge")),
    Mutant("lora", "merged_forward (control)", MergedForward, (),
           survives=("lora.forward", "lora.scaling", "lora.identity-at-init", "rslora.forward", "lora.low-rank-form",
                     "lora.full-space")),
)

EXPECTED_MUTANTS = 20
EXPECTED_KILLS = 33
