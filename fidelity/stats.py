"""One-sample Kolmogorov–Smirnov test, in torch (no scipy dependency)."""

from __future__ import annotations

import math
from typing import Callable

import torch


def ks_statistic(sample: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """D_n = sup |F_n − F| of a flat float64 sample against a continuous CDF."""
    x, _ = torch.sort(sample.flatten().to(torch.float64))
    n = x.numel()
    f = cdf(x)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(i / n - f, f - (i - 1) / n).max())


def kolmogorov_pvalue(d: float, n: int) -> float:
    """P(D_n ≥ d) by the asymptotic Kolmogorov series with Stephens' small-sample correction."""
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    if lam < 0.2:
        return 1.0
    total = sum(2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, total))


def ks_test(sample: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> tuple[float, float]:
    """(D_n, p-value) of the sample against the CDF."""
    d = ks_statistic(sample, cdf)
    return d, kolmogorov_pvalue(d, sample.numel())


def normal_cdf(sigma: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: torch.special.ndtr(x / sigma)


def uniform_cdf(bound: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: ((x + bound) / (2 * bound)).clamp(0.0, 1.0)
