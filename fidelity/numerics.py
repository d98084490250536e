"""Tolerances tied to the dtype an implementation computes in (claim-kinds.md §1.5).

Every tolerance here is `k · eps(dtype) · scale` with `k` and `scale` stated; no check may use a loose
absolute constant.
"""

from __future__ import annotations

import math

import torch

# bfloat16 runs only where a claim is about structure rather than rounding (the trainable set, K06), and for
# implementations that compute in it; formula tolerances in it would be k · 7.8e-3 · scale.
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}


def eps(dtype: torch.dtype) -> float:
    """Unit roundoff of `dtype` (torch.finfo eps)."""
    return torch.finfo(dtype).eps


def fwd_k(n: int) -> float:
    """T-fwd multiple: `2 (n + 2)` for a path whose longest accumulated inner product has length `n`."""
    return 2.0 * (n + 2)


def fwd_tolerance(dtype: torch.dtype, n: int, scale: torch.Tensor) -> torch.Tensor:
    """Elementwise T-fwd bound `2 (n + 2) · eps(dtype) · scale`, scale = the formula on absolute values."""
    return fwd_k(n) * eps(dtype) * scale


def margin(error: torch.Tensor, tolerance: torch.Tensor) -> float:
    """Largest error/tolerance ratio (≤ 1 passes); a zero tolerance counts only an exact zero error, and a NaN or
    infinite error (or tolerance) is an infinite margin, never a pass (NaN compares False with every bound)."""
    error = error.abs().to(torch.float64)
    if not error.numel():
        return 0.0
    tolerance = torch.as_tensor(tolerance, dtype=torch.float64)
    if not (bool(torch.isfinite(error).all()) and bool(torch.isfinite(tolerance).all())):
        return float("inf")
    # x / 0 is inf for x > 0 and nan for x = 0: an exact zero error within a zero tolerance passes
    return float(torch.nan_to_num(error / tolerance, nan=0.0, posinf=math.inf).max())


# T-decomp (claim-kinds.md §1.5): what a backward-stable decomposition (SVD, QR) may get wrong, k · eps · σ_1 with the
# spec's typical k = 4 max(d_in, d_out). LAPACK's backward error does not shrink with the matrix, though: torch's SVD
# measured up to 24 · eps · σ_1 on 3 × 3 float64 layers (scripts/calibrate_decomposition.py), past 4 max(d) for
# max(d) < 6, and a comparison of two decompositions adds their errors (29 · eps · σ_1 in a thorough soak, which the
# bound without a floor called a DEVIATES). The floor is four times that worst case, so a correct implementation stays
# within a quarter of the bound on every drawn shape; a real bug (wrong triplets, a missing pre-division, a float32
# cast) is off by orders of magnitude more.
DECOMP_FLOOR = 128


def decomp_k(*dims: int) -> int:
    """T-decomp multiple for a decomposition over these dimensions: 4 · max(dims) + DECOMP_FLOOR."""
    return 4 * max(dims) + DECOMP_FLOOR
