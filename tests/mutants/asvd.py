"""Mutants of the reference asvd, each breaking exactly one property (see tests/mutants/__init__.py).

The statistic mutants rebuild the factors from another per-channel scale s through `_refactor`, so each differs
from the reference only in the statistic it scales W's input channels by.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from fidelity.impls.reference.asvd import AsvdLinear
from tests.mutants.base import Mutant


def _refactor(layer: AsvdLinear, s: torch.Tensor, r: int):
    """Re-initialise U_r, Σ_r and P = V_rᵀ S⁻¹ from SVD(W ⊙ sᵀ) for another scale s (d_in,)."""
    w = layer.base.weight.detach().to(torch.float64)
    u, sigma, vh = torch.linalg.svd(w * s, full_matrices=False)
    with torch.no_grad():
        layer.asvd_U.copy_(u[:, :r])
        layer.asvd_S.copy_(sigma[:r])
        layer.asvd_P.copy_(vh[:r] / s)


def _rows(layer: AsvdLinear, calibration) -> torch.Tensor:
    return calibration.reshape(-1, layer.base.weight.shape[1]).to(torch.float64)


class RmsStatistic(AsvdLinear):
    """variants.md §4 row 15, lora-lite's antipasto_asvd: s_i = (E x_i²)^{1/2} in place of (mean |x_i|)^0.5."""

    def __init__(self, base, r, calibration=None):
        super().__init__(base, r, calibration)
        _refactor(self, _rows(self, calibration).pow(2).mean(dim=0).sqrt(), r)


class CentredStatistic(AsvdLinear):
    """The statistic of centred activations, (mean |x_i − x̄_i|)^0.5, in place of the raw ones."""

    def __init__(self, base, r, calibration=None):
        super().__init__(base, r, calibration)
        x = _rows(self, calibration)
        _refactor(self, (x - x.mean(dim=0)).abs().mean(dim=0).pow(0.5), r)


class SilentFallback(AsvdLinear):
    """History C.20's class: without calibration data the plain SVD (s = 1) is used instead of raising."""

    def __init__(self, base, r, calibration=None):
        if calibration is None:  # all-ones rows: s = 1, so SVD(W S) is the plain SVD of W
            calibration = torch.ones(r, base.weight.shape[1], dtype=base.weight.dtype)
        super().__init__(base, r, calibration)


class ScalingNotUndone(AsvdLinear):
    """The forward multiplies by V_rᵀ (P S) instead of P = V_rᵀ S⁻¹: the scaling is not undone (the buffers are)."""

    def __init__(self, base, r, calibration=None):
        super().__init__(base, r, calibration)
        self.register_buffer("scale", _rows(self, calibration).abs().mean(dim=0).pow(0.5).to(base.weight.dtype))

    def forward(self, x):
        h = (x @ (self.asvd_P * self.scale**2).T) * self.asvd_S  # x V_rᵀ S: the scaling applied twice, never undone
        return F.linear(h, self.asvd_U, self.base.bias)


class SumStatistic(AsvdLinear):
    """Equivalence control: the channel sums Σ_j |X_ji| in place of the means; a global factor √N cancels in Ŵ."""

    def __init__(self, base, r, calibration=None):
        super().__init__(base, r, calibration)
        _refactor(self, _rows(self, calibration).abs().sum(dim=0).pow(0.5), r)


MUTANTS = (
    Mutant("asvd", "asvd_rms_statistic", RmsStatistic, ("asvd.statistic", "asvd.optimality"),
           survives=("asvd.forward", "asvd.calibration-required")),
    Mutant("asvd", "asvd_centred_statistic", CentredStatistic, ("asvd.statistic", "asvd.optimality"),
           survives=("asvd.forward",)),
    Mutant("asvd", "asvd_silent_fallback", SilentFallback, ("asvd.calibration-required",),
           survives=("asvd.statistic", "asvd.optimality", "asvd.forward")),
    Mutant("asvd", "asvd_scaling_not_undone", ScalingNotUndone, ("asvd.forward",),
           survives=("asvd.statistic", "asvd.optimality")),
    Mutant("asvd", "asvd_sum_statistic (control)", SumStatistic, (),
           survives=("asvd.statistic", "asvd.optimality", "asvd.forward")),
)

EXPECTED_MUTANTS = 5
EXPECTED_KILLS = 6
