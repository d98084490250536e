"""Mutants of the reference DeLoRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.delora import DeloraLinear
from tests.mutants.base import Mutant


class BKaiming(DeloraLinear):
    """History C.2 (lora-lite before 67a6daf): Kaiming A and B without Eq. 9's subtraction, an identity only at
    λ0 = 0; at λ0 = 15 or 0.1 the layer starts off the pretrained one."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        super().__init__(base, r, delora_lambda, init_weights=False)


class Lambda0Zero(DeloraLinear):
    """History C.2: λ0 = 0 whatever the config: an identity, but A and B get no gradient (∝ λ) until λ moves."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        super().__init__(base, r, 0.0, init_weights)


class Lambda0Float32(DeloraLinear):
    """λ0 filled in float32 and then cast (PEFT's creation order): 0.1 becomes 0.10000000149 in a float64 layer."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        super().__init__(base, r, delora_lambda, init_weights)
        with torch.no_grad():
            self.delora_lambda.copy_(torch.full((1,), float(delora_lambda), dtype=torch.float32))


class FrobeniusNorm(DeloraLinear):
    """History C.3: the update scaled by the scalar ‖W̄‖_F (= ‖w‖₂) instead of the per-input-column norms; the buffer
    still holds the column norms, and Eq. 9 subtracts the same update, so it is an identity at init."""

    def delta(self):
        return (self.delora_B * (self.delora_lambda / self.r * self.xi())) @ self.delora_A * self.delora_wnorm.norm()

    def forward(self, x):
        h = x @ self.delora_A.T * self.delora_wnorm.norm()
        return self.base(x) + (h * (self.delora_lambda / self.r * self.xi())) @ self.delora_B.T


class FrobeniusBuffer(DeloraLinear):
    """History C.3 as lora-lite stored it: the buffer holds ‖W̄‖_F for every input column (a scalar norm broadcast)."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        frozen = base.weight.detach().clone()
        super().__init__(base, r, delora_lambda, init_weights=False)
        with torch.no_grad():
            self.delora_wnorm.fill_(float(torch.linalg.norm(frozen.double())))
            if init_weights:
                base.weight.sub_(self.delta())


class WnormAsParameter(DeloraLinear):
    """History C.3: w registered as a trainable nn.Parameter instead of a frozen buffer."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        super().__init__(base, r, delora_lambda, init_weights)
        wnorm = self.delora_wnorm
        del self._buffers["delora_wnorm"]
        self.delora_wnorm = nn.Parameter(wnorm.clone())


class MissingXi(DeloraLinear):
    """Ξ left out: ∆W = (λ/r) B A diag(w), LoRA with a learnable scale; unbounded, and sensitive to the scale of A, B."""

    def xi(self):
        return torch.ones(self.r, dtype=self.delora_A.dtype)


class NormsDetached(DeloraLinear):
    """‖a_i‖ and ‖b_i‖ held constant for autograd: the same forward values, other gradients."""

    def xi(self):
        return super().xi().detach()


class BZeroClamped(DeloraLinear):
    """PEFT's init in the reference: B = 0 and the norms clamped at 1e-4 (the epsilon approach of §2.2), nothing left
    to subtract. An identity, with the paper's forward wherever the norms exceed 1e-4."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        super().__init__(base, r, delora_lambda, init_weights=False)
        with torch.no_grad():
            self.delora_B.zero_()

    def xi(self):
        return 1 / (self.delora_B.norm(dim=0).clamp(min=1e-4) * self.delora_A.norm(dim=1).clamp(min=1e-4))


class NormOfLiveWeight(DeloraLinear):
    """w recomputed in the forward from the live base weight, which Eq. 9 has rewritten to W̄ minus the initial update
    (the authors' code takes the norm on the fly, but never rewrites W): ‖W̄‖ becomes the norm of the residual."""

    def delta(self):
        w = torch.linalg.norm(self.base.weight, dim=0)
        return (self.delora_B * (self.delora_lambda / self.r * self.xi())) @ self.delora_A * w

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)


class LambdaConstant(DeloraLinear):
    """λ read as the configured constant λ0 in the forward: the learnable boundary is never used."""

    def __init__(self, base, r, delora_lambda=15.0, init_weights=True):
        self.lambda0 = float(delora_lambda)
        super().__init__(base, r, delora_lambda, init_weights)

    def delta(self):
        return (self.delora_B * (self.lambda0 / self.r * self.xi())) @ self.delora_A * self.delora_wnorm

    def forward(self, x):
        h = (x * self.delora_wnorm) @ self.delora_A.T
        return self.base(x) + (h * (self.lambda0 / self.r * self.xi())) @ self.delora_B.T


class CitesDora(DeloraLinear):
    """A docstring that cites the DoRA paper for DeLoRA (a wrong arXiv id)."""

    DOC = "DeLoRA, the decoupled variant of DoRA (Liu et al. 2024, arXiv:2402.09353)."


class UnitFactors(DeloraLinear):
    """Equivalence control: A's rows and B's columns normalised first, ∆W = (λ/r) B̂ Â diag(w) built explicitly, then
    F.linear(x, W + ∆W, b) — the same function and gradients, computed another way."""

    def forward(self, x):
        a_hat = self.delora_A / self.delora_A.norm(dim=1, keepdim=True)  # (r, d_in) rows â_i
        b_hat = self.delora_B / self.delora_B.norm(dim=0, keepdim=True)  # (d_out, r) columns b̂_i
        delta = self.delora_lambda / self.r * (b_hat @ a_hat) * self.delora_wnorm  # (d_out, d_in)
        return F.linear(x, self.base.weight + delta, self.base.bias)


AT_INIT = ("delora.identity-at-init",)

MUTANTS = (
    Mutant("delora", "delora_B_kaiming", BKaiming,
           ("delora.identity-at-init", "delora.identity-small-lambda", "delora.frozen-copy"),
           survives=("delora.forward", "delora.step0-gradient", "delora.kaiming-b")),
    Mutant("delora", "delora_lambda0_zero", Lambda0Zero,
           ("delora.step0-gradient", "delora.lambda-init", "delora.no-zero-side"),
           survives=AT_INIT + ("delora.forward",)),
    Mutant("delora", "delora_lambda0_float32", Lambda0Float32, ("delora.lambda-init-small",),
           survives=("delora.lambda-init", "delora.forward")),
    Mutant("delora", "delora_frobenius_norm", FrobeniusNorm, ("delora.forward", "delora.weight-ball", "delora.boundary"),
           survives=AT_INIT + ("delora.weight-norm", "delora.normalisation")),
    Mutant("delora", "delora_frobenius_buffer", FrobeniusBuffer,
           ("delora.weight-norm", "delora.weight-ball", "delora.boundary"), survives=AT_INIT + ("delora.forward",)),
    Mutant("delora", "wnorm_as_parameter", WnormAsParameter, ("delora.trainable",),
           survives=AT_INIT + ("delora.forward",)),
    Mutant("delora", "delora_missing_xi", MissingXi,
           ("delora.boundary", "delora.weight-ball", "delora.normalisation", "delora.forward"), survives=AT_INIT),
    Mutant("delora", "delora_norms_detached", NormsDetached, ("delora.norms-in-graph",),
           survives=AT_INIT + ("delora.forward", "delora.normalisation", "delora.step0-gradient")),
    Mutant("delora", "delora_B_zero_clamped", BZeroClamped,
           ("delora.no-zero-side", "delora.kaiming-b", "delora.step0-gradient"),
           survives=AT_INIT + ("delora.forward", "delora.frozen-copy", "delora.kaiming-a", "delora.boundary")),
    Mutant("delora", "delora_norm_of_live_weight", NormOfLiveWeight, ("delora.identity-at-init", "delora.forward"),
           survives=("delora.weight-norm",)),
    Mutant("delora", "delora_lambda_constant", LambdaConstant,
           ("delora.influence", "delora.forward", "delora.step0-gradient"),
           survives=AT_INIT + ("delora.trainable", "delora.lambda-init")),
    Mutant("delora", "delora_cites_dora", CitesDora, ("delora.citation",), survives=("delora.forward",)),
    Mutant("delora", "delora_unit_factors (control)", UnitFactors, (),
           survives=AT_INIT + ("delora.forward", "delora.normalisation", "delora.boundary", "delora.weight-ball",
                               "delora.norms-in-graph", "delora.influence", "delora.step0-gradient")),
)

EXPECTED_MUTANTS = 13
EXPECTED_KILLS = 28
