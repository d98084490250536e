"""Mutants of the reference DoRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.dora import DoraLinear
from tests.mutants.base import Mutant


class BiasScaled(DoraLinear):
    """History C.8: the bias multiplied by m/‖V + ∆V‖_c along with W x. Exactly an identity at init."""

    def forward(self, x):
        scale = self.lora_m / self.column_norm()
        return scale * (F.linear(x, self.base.weight, self.base.bias) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T)


class NormNotDetached(DoraLinear):
    """History C.9: the gradient flows through ‖V + ∆V‖_c (same forward values, §4.3 not followed)."""

    def column_norm(self):
        return torch.linalg.norm(self.base.weight + self.scaling * self.lora_B @ self.lora_A, dim=1)


class NormPlusEps(DoraLinear):
    """A "+ eps" guard in the norm (LyCORIS's finfo(dtype).eps): m/(‖V + ∆V‖_c + eps), exact only where ‖·‖ ≫ eps/tol."""

    def column_norm(self):
        return super().column_norm() + torch.finfo(self.base.weight.dtype).eps


class MagnitudePerInputColumn(DoraLinear):
    """The literal reading of m ∈ R^{1×k}, ‖·‖_c over columns of W0 (d, k): one magnitude per input feature, scaling
    the columns of W0 + sBA (huggingface/peft#2348's question). An identity at init too, but every check now sees that
    m has d_in entries where the paper's has d_out (the roles are validated before any property runs)."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a)
        self.lora_m = nn.Parameter(torch.linalg.norm(base.weight.detach(), dim=0))  # (d_in,)

    def forward(self, x):
        direction = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        weight = direction * (self.lora_m / torch.linalg.norm(direction, dim=0).detach())  # columns rescaled
        return F.linear(x, weight, self.base.bias)


class MagnitudeFrobenius(DoraLinear):
    """m initialised to ‖W0‖_F / √d_out for every row (a scalar norm broadcast): not an identity at init."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a)
        with torch.no_grad():
            self.lora_m.fill_(float(base.weight.norm()) / math.sqrt(base.weight.shape[0]))


class MagnitudeLastIgnored(DoraLinear):
    """The last output row ignores its magnitude (uses m/‖·‖ = 1 there): a slice of m is unused."""

    def forward(self, x):
        norm = self.column_norm()
        magnitude = torch.cat([self.lora_m[:-1], norm[-1:]])
        scale = magnitude / norm
        lora = self.scaling * (x @ self.lora_A.T) @ self.lora_B.T
        return self.base(x) + (scale - 1) * F.linear(x, self.base.weight) + scale * lora


class AlphaNotOverR(DoraLinear):
    """∆V scaled by α instead of LoRA's α/r."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a)
        self.scaling = alpha


class BRandn(DoraLinear):
    """B initialised non-zero: W' ≠ W0 at init."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a)
        with torch.no_grad():
            self.lora_B.normal_()


class AGaussian(DoraLinear):
    """A drawn Gaussian N(0, 1/r) where the paper says uniform Kaiming."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a="gaussian")


class MagnitudeFrozen(DoraLinear):
    """m registered as a buffer, not trained: DoRA without its magnitude."""

    def __init__(self, base, r, alpha, use_rslora=False, init_a="kaiming"):
        super().__init__(base, r, alpha, use_rslora, init_a)
        self.lora_m.requires_grad_(False)


class MergedForward(DoraLinear):
    """Equivalence control: W' built explicitly, then F.linear(x, W', b)."""

    def forward(self, x):
        direction = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        weight = (self.lora_m / self.column_norm())[:, None] * direction
        return F.linear(x, weight, self.base.bias)


class MergeBiasScaled(DoraLinear):
    """The merge scales the bias by m/‖V + ∆V‖_c with the weight (the forward is right): a deployment-only bug."""

    def merged(self):
        weight, bias = super().merged()
        return weight, bias * (self.lora_m / self.column_norm()) if bias is not None else None


class MergeNormOfW0(DoraLinear):
    """The merge normalises by ‖W0‖_c instead of ‖V + ∆V‖_c (exact at init, wrong once B moves)."""

    def merged(self):
        direction = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        return (self.lora_m / torch.linalg.norm(self.base.weight, dim=1))[:, None] * direction, self.base.bias


MUTANTS = (
    Mutant("dora", "dora_bias_scaled", BiasScaled, ("dora.bias-outside", "dora.decomposition"),
           survives=("dora.identity-at-init",)),
    Mutant("dora", "dora_norm_not_detached", NormNotDetached, ("dora.norm-constant",),
           survives=("dora.decomposition", "dora.identity-at-init", "dora.bias-outside")),
    Mutant("dora", "dora_norm_plus_eps", NormPlusEps, ("dora.decomposition", "dora.decomposition-rslora",
                                                        "dora.decomposition-gaussian-a", "dora.identity-at-init",
                                                        "dora.merge")),
    Mutant("dora", "magnitude_per_input_column", MagnitudePerInputColumn,
           ("dora.magnitude-init", "dora.trainable", "dora.decomposition", "dora.identity-at-init")),
    Mutant("dora", "magnitude_frobenius", MagnitudeFrobenius, ("dora.magnitude-init", "dora.identity-at-init")),
    Mutant("dora", "magnitude_last_ignored", MagnitudeLastIgnored, ("dora.influence", "dora.decomposition"),
           survives=("dora.identity-at-init", "dora.step0-gradient")),
    Mutant("dora", "dora_alpha_not_over_r", AlphaNotOverR, ("dora.decomposition", "dora.decomposition-rslora"),
           survives=("dora.identity-at-init",)),
    Mutant("dora", "dora_B_randn", BRandn, ("dora.identity-at-init", "dora.zero-init")),
    Mutant("dora", "dora_A_gaussian", AGaussian, ("dora.kaiming-a",), survives=("dora.zero-init", "dora.identity-at-init")),
    Mutant("dora", "magnitude_frozen", MagnitudeFrozen, ("dora.trainable", "dora.step0-gradient"),
           survives=("dora.identity-at-init", "dora.decomposition")),
    Mutant("dora", "dora_merge_bias_scaled", MergeBiasScaled, ("dora.merge",), survives=("dora.bias-outside",)),
    Mutant("dora", "dora_merge_norm_of_W0", MergeNormOfW0, ("dora.merge",), survives=("dora.decomposition",)),
    Mutant("dora", "dora_merged_forward (control)", MergedForward, (),
           survives=("dora.decomposition", "dora.bias-outside", "dora.norm-constant", "dora.identity-at-init",
                     "dora.influence")),
)

EXPECTED_MUTANTS = 13
EXPECTED_KILLS = 25
