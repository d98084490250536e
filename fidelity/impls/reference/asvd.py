"""ASVD — Yuan et al. 2023, "ASVD: Activation-aware Singular Value Decomposition for Compressing Large Language
Models", arXiv:2312.05821, the activation-aware scaling of Eq. 8 with α = 0.5; written from
../shared/spec/variants.md §2.13 (no local text of the paper).

    S_ii = (mean_j |X_ji|)^0.5,   W = (W S) S⁻¹,   W S = U Σ Vᵀ,   h = U_r Σ_r (V_rᵀ S⁻¹) x + b

A compression, not an adapter: the layer is replaced by its rank-r factors (nothing is trainable, nothing is an
identity). S scales W's input channels, W S = W ⊙ sᵀ (column j by s_j). The statistic is the paper's mean absolute
activation to the power 0.5, not lora-lite's RMS (E x²)^½.
"""

import torch
from torch import nn
from torch.nn import functional as F


class AsvdLinear(nn.Module):
    ROLES = {}
    BUFFERS = {"asvd_U": "basis_out", "asvd_S": "singular", "asvd_P": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, calibration=None):
        super().__init__()
        if calibration is None:
            raise ValueError("asvd needs calibration inputs of this layer, (N, d_in) rows; got none")
        d_in = base.weight.shape[1]
        x = calibration.reshape(-1, d_in).to(torch.float64)  # (N, d_in)
        if x.shape[0] < r:
            raise ValueError(f"asvd needs at least r = {r} calibration rows, got {x.shape[0]}")
        s = x.abs().mean(dim=0).pow(0.5)  # (d_in,) statistic S_ii = (mean_j |X_ji|)^α, α = 0.5 (Eq. 8)
        if not bool((s > 0).all()):
            raise ValueError("asvd: an input channel is identically zero in the calibration data; S is singular")
        self.base = base.requires_grad_(False)  # kept for its bias; the compressed layer no longer uses W
        w = base.weight.detach().to(torch.float64)  # (d_out, d_in)
        u, sigma, vh = torch.linalg.svd(w * s, full_matrices=False)  # SVD(W S), W S = W ⊙ sᵀ
        dtype = base.weight.dtype
        self.register_buffer("asvd_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("asvd_S", sigma[:r].to(dtype))  # (r,)
        self.register_buffer("asvd_P", (vh[:r] / s).to(dtype))  # (r, d_in) V_rᵀ S⁻¹

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = (x @ self.asvd_P.T) * self.asvd_S  # (N, r)
        return F.linear(h, self.asvd_U, self.base.bias)  # (N, d_out)


ADAPTERS = {"asvd": AsvdLinear}
