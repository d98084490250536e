"""CorDA — Yang et al. 2024, "CorDA: Context-Oriented Decomposition Adaptation of Large Language Models for Task-Aware
Parameter-Efficient Fine-tuning", arXiv:2406.05223 (NeurIPS 2024), the context-oriented decomposition and its two
modes (IPM, KPM); written from ../shared/spec/variants.md §2.12 (no local text of the paper).

    C = XᵀX (uncentred),  SVD(W C) = U Σ Vᵀ,  W = U Σ (Vᵀ C⁻¹),  h = W_res x + b + s B A x,  W_res = W − s B A

IPM gives the adapter the top r components, KPM the bottom r. Identity at t=0 up to the rounding of W_res: s B A is
exactly what W_res lacks. B = U_r (Σ_r/s)^½ and A = (Σ_r/s)^½ (Vᵀ C⁻¹)_r, so s B A is the paper's component for
every α. The paper's W C is decomposed (not W C^{1/2}), with no damping: C must be invertible, N ≥ d_in rows.
Compared with PEFT 0.21.2 (`init_lora_weights="corda"`, which damps C) by this suite.
"""

import torch
from torch import nn


class CordaLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float, method: str = "ipm", calibration=None):
        super().__init__()
        if calibration is None:
            raise ValueError("corda needs calibration inputs of this layer, (N, d_in) rows; got none")
        if method not in ("ipm", "kpm"):
            raise ValueError(f"corda method must be 'ipm' or 'kpm', got {method!r}")
        d_in = base.weight.shape[1]
        x = calibration.reshape(-1, d_in).to(torch.float64)  # (N, d_in): every calibration row, equal weight
        if x.shape[0] < d_in:
            raise ValueError(f"corda needs C = XᵀX invertible: at least d_in = {d_in} calibration rows, "
                             f"got {x.shape[0]}")
        c = x.T @ x / x.shape[0]  # (d_in, d_in) covariance C = XᵀX / N, uncentred
        chol, info = torch.linalg.cholesky_ex(c)
        if info:
            raise ValueError("corda needs C = XᵀX invertible; the calibration rows do not span the input space")
        self.base = base.requires_grad_(False)
        self.scaling = alpha / r
        w = base.weight.detach().to(torch.float64)  # (d_out, d_in)
        u, sigma, vh = torch.linalg.svd(w @ c, full_matrices=False)  # SVD(W C) = U Σ Vᵀ
        keep = slice(0, r) if method == "ipm" else slice(len(sigma) - r, len(sigma))  # IPM: top r; KPM: bottom r
        p = torch.cholesky_solve(vh[keep].T, chol).T  # (r, d_in) rows of Vᵀ C⁻¹
        root = (sigma[keep] / self.scaling).sqrt()  # (r,) (Σ_r / s)^½
        dtype = base.weight.dtype
        self.lora_A = nn.Parameter((root[:, None] * p).to(dtype))  # (r, d_in) down
        self.lora_B = nn.Parameter((u[:, keep] * root).to(dtype))  # (d_out, r) up
        with torch.no_grad():  # W_res = W − s B A, from the stored factors
            base.weight.sub_((self.scaling * self.lora_B.double() @ self.lora_A.double()).to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out)


ADAPTERS = {"corda": CordaLinear}
