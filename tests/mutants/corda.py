"""Mutants of the reference corda, each breaking exactly one property (see tests/mutants/__init__.py).

The statistic mutants rebuild the factors from a different whitening M through `_refactor` (same split, same
residual rule), so each differs from the reference only in the statistic it decomposes W M with.
"""

from __future__ import annotations

import torch

from fidelity.impls.reference.corda import CordaLinear
from fidelity.variants.corda import damped_covariance
from tests.mutants.base import Mutant


def _refactor(layer: CordaLinear, weight: torch.Tensor, m: torch.Tensor, r: int, method: str = "ipm"):
    """Re-initialise A, B and W_res as the reference does, from [SVD(W M)]_r M⁻¹ for another whitening M."""
    w = weight.to(torch.float64)
    u, sigma, vh = torch.linalg.svd(w @ m, full_matrices=False)
    keep = slice(0, r) if method == "ipm" else slice(len(sigma) - r, len(sigma))
    p = torch.linalg.solve(m.T, vh[keep].T).T
    root = (sigma[keep] / layer.scaling).sqrt()
    dtype = layer.lora_A.dtype
    with torch.no_grad():
        layer.lora_A.copy_((root[:, None] * p).to(dtype))
        layer.lora_B.copy_((u[:, keep] * root).to(dtype))
        layer.base.weight.copy_(w - layer.scaling * layer.lora_B.double() @ layer.lora_A.double())


def _rows(calibration, d_in):
    return calibration.reshape(-1, d_in).to(torch.float64)


class SilentFallback(CordaLinear):
    """History C.20: without calibration data the plain SVD split (PiSSA's) is used instead of raising."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        if calibration is None:  # identity rows: C ∝ I, so SVD(W C) is the plain SVD of W
            calibration = torch.eye(base.weight.shape[1], dtype=base.weight.dtype)
        super().__init__(base, r, alpha, method, calibration)


class CalibrationIgnored(CordaLinear):
    """Data required, then ignored: the adapter is the plain SVD split whatever the activations (C = I)."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        _refactor(self, weight, torch.eye(weight.shape[1], dtype=torch.float64), r, method)


class CentredCovariance(CordaLinear):
    """The centred covariance (X − x̄)ᵀ(X − x̄)/N in place of the paper's uncentred XᵀX."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        x = _rows(calibration, weight.shape[1])
        x = x - x.mean(dim=0)
        _refactor(self, weight, x.T @ x / x.shape[0], r, method)


class SqrtWhitening(CordaLinear):
    """lora-lite's reading (antipasto_corda): SVD(W C^{1/2}) and C^{-1/2}, the E‖(W − Ŵ)x‖²-optimal split."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        x = _rows(calibration, weight.shape[1])
        lam, q = torch.linalg.eigh(x.T @ x / x.shape[0])
        _refactor(self, weight, (q * lam.clamp_min(0).sqrt()) @ q.T, r, method)


class Damped(CordaLinear):
    """PEFT's (and the authors' code's) relative damping C + 0.01·mean(diag C)·I inside the reference."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        _refactor(self, weight, damped_covariance(_rows(calibration, weight.shape[1]), None), r, method)


class PerSampleMaxNormalised(CordaLinear):
    """PEFT's (and the authors' code's) covariance: each calibration sample divided by its own max before XᵀX."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        samples = calibration.to(torch.float64) if calibration.dim() == 3 else calibration.to(torch.float64)[None]
        c = sum((s / s.max().abs()).T @ (s / s.max().abs()) for s in samples) / len(samples)  # (d_in, d_in)
        _refactor(self, weight, c, r, method)


class SumCovariance(CordaLinear):
    """Equivalence control: C = XᵀX summed, not averaged; a global factor cancels in s B A."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        x = _rows(calibration, weight.shape[1])
        _refactor(self, weight, x.T @ x, r, method)


class KpmTakesTop(CordaLinear):
    """The method option ignored: KPM builds the IPM adapter (top r components) too."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        super().__init__(base, r, alpha, "ipm", calibration)


class ResidualUnscaled(CordaLinear):
    """History C.7's class (pissa_no_predivide): factors carry Σ_r^{1/2} without dividing by s, and the residual
    subtracts B A, while the forward adds s B A — an identity only at α = r."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, alpha, method, calibration)
        s = self.scaling
        with torch.no_grad():
            self.lora_A.mul_(s**0.5)
            self.lora_B.mul_(s**0.5)
            self.base.weight.copy_(weight.double() - self.lora_B.double() @ self.lora_A.double())


class ForwardUnscaled(CordaLinear):
    """The forward adds B A without the scale s = α/r (the init is right)."""

    def forward(self, x):
        return self.base(x) + (x @ self.lora_A.T) @ self.lora_B.T


class DownFrozen(CordaLinear):
    """History C.10's class (eva_A_frozen): A stored as a frozen buffer, so only B trains."""

    def __init__(self, base, r, alpha, method="ipm", calibration=None):
        super().__init__(base, r, alpha, method, calibration)
        a = self.lora_A.detach().clone()
        del self.lora_A
        self.register_buffer("lora_A", a)


class CitesPissa(CordaLinear):
    """The docstring cites PiSSA (arXiv:2404.02948) for the decomposition instead of CorDA."""

    DOC = "CorDA-style init — Meng et al. 2024, PiSSA, arXiv:2404.02948."


MUTANTS = (
    Mutant("corda", "corda_silent_fallback", SilentFallback, ("corda.calibration-required",),
           survives=("corda.statistic", "corda.identity-at-init", "corda.reconstruction")),
    Mutant("corda", "corda_calibration_ignored", CalibrationIgnored, ("corda.statistic", "corda.optimality"),
           survives=("corda.calibration-required", "corda.identity-at-init", "corda.reconstruction")),
    Mutant("corda", "corda_centred_covariance", CentredCovariance, ("corda.statistic", "corda.optimality"),
           survives=("corda.identity-at-init", "corda.reconstruction", "corda.equal-weighting")),
    Mutant("corda", "corda_sqrt_whitening", SqrtWhitening, ("corda.statistic", "corda.optimality"),
           survives=("corda.identity-at-init", "corda.reconstruction", "corda.forward")),
    Mutant("corda", "corda_damped", Damped, ("corda.statistic", "corda.kpm-statistic"),
           survives=("corda.identity-at-init", "corda.reconstruction", "corda.equal-weighting")),
    Mutant("corda", "corda_per_sample_max_normalised", PerSampleMaxNormalised, ("corda.equal-weighting",),
           survives=("corda.statistic", "corda.optimality", "corda.identity-at-init", "corda.reconstruction")),
    Mutant("corda", "corda_kpm_takes_top", KpmTakesTop, ("corda.kpm-statistic",),
           survives=("corda.statistic", "corda.optimality")),
    Mutant("corda", "corda_residual_unscaled", ResidualUnscaled,
           ("corda.reconstruction", "corda.identity-at-init", "corda.statistic"),
           survives=("corda.forward", "corda.frozen-base")),
    Mutant("corda", "corda_forward_unscaled", ForwardUnscaled, ("corda.forward", "corda.identity-at-init"),
           survives=("corda.statistic", "corda.reconstruction", "corda.optimality")),
    Mutant("corda", "corda_A_frozen", DownFrozen, ("corda.frozen-base", "corda.step0-gradient"),
           survives=("corda.identity-at-init", "corda.statistic")),
    Mutant("corda", "corda_cites_pissa", CitesPissa, ("corda.citation",), survives=("corda.statistic",)),
    Mutant("corda", "corda_sum_covariance (control)", SumCovariance, (),
           survives=("corda.statistic", "corda.kpm-statistic", "corda.equal-weighting", "corda.optimality",
                     "corda.identity-at-init", "corda.reconstruction", "corda.forward")),
)

EXPECTED_MUTANTS = 12
EXPECTED_KILLS = 19
