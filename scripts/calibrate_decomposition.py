"""Calibrate T-decomp's floor: the backward error of torch's SVD and QR on the layers the suite draws.

T-decomp bounds what a backward-stable decomposition may get wrong, k · eps · σ_1. The spec's k = 4 · max(d_in, d_out)
assumes the error grows with the size; LAPACK's does not shrink below a fixed cost, so small layers need a floor
(fidelity/numerics.py, DECOMP_FLOOR). This measures, per dtype and size band, the largest

- SVD backward error ‖U diag(S) Vh − W‖_max / (eps · σ_1), and
- QR orthonormality error ‖QᵀQ − I‖_max / eps,

over random gapped weights of every shape hypothesis draws (2 ≤ d ≤ 48), and prints a markdown table for the README.

Usage: python scripts/calibrate_decomposition.py [draws per dtype, default 4000]
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fidelity.cases import LayerCase, gapped_weight  # noqa: E402
from fidelity.numerics import DECOMP_FLOOR  # noqa: E402


def main() -> None:
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(2026)
    print(f"| dtype | max(d) | SVD backward error / (eps·σ_1) | QR ‖QᵀQ − I‖ / eps | 4·max(d) + {DECOMP_FLOOR} |")
    print("|---|---|---|---|---|")
    for dtype in (torch.float64, torch.float32):
        eps = torch.finfo(dtype).eps
        worst: dict[tuple[int, int], tuple[float, float]] = {}
        for trial in range(draws):
            d_in, d_out = (int(torch.randint(2, 49, (1,), generator=gen)) for _ in range(2))
            r = int(torch.randint(1, min(d_in, d_out), (1,), generator=gen))
            w = gapped_weight(LayerCase(d_in=d_in, d_out=d_out, r=r, alpha=1.0, seed=trial, spectrum="gapped"),
                              torch.Generator().manual_seed(trial)).to(dtype)
            u, s, vh = torch.linalg.svd(w, full_matrices=False)
            svd = float(((u * s) @ vh - w).double().abs().max()) / (eps * float(s[0]))
            q, _ = torch.linalg.qr(w)
            qr = float((q.T @ q - torch.eye(q.shape[1], dtype=dtype)).double().abs().max()) / eps
            band = (2, 8) if max(d_in, d_out) <= 8 else (9, 24) if max(d_in, d_out) <= 24 else (25, 48)
            old = worst.get(band, (0.0, 0.0))
            worst[band] = (max(old[0], svd), max(old[1], qr))
        for (lo, hi), (svd, qr) in sorted(worst.items()):
            print(f"| {str(dtype).removeprefix('torch.')} | {lo}–{hi} | {svd:.1f} | {qr:.1f} | "
                  f"{4 * lo + DECOMP_FLOOR}–{4 * hi + DECOMP_FLOOR} |")


if __name__ == "__main__":
    main()
