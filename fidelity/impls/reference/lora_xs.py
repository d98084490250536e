"""LoRA-XS — Bałazy, Banaei, Aberer, Tabor 2024, "LoRA-XS: Low-Rank Adaptation with Extremely Small Number of
Parameters", arXiv:2405.17604 (no local text); as in the authors' code, MohammadrezaBanaei/LoRA-XS
(utils/initialization_utils.py, utils/latent_utils.py).

    h = W x + b + s · B R A x,   A = diag(S_r) Vh_r (r, d_in),  B = U_r (d_out, r),  R: (r, r),  s = α/r

A and B are frozen, from the truncated SVD of W (S_r on A's side); W itself is kept, not cropped. Only the r × r
matrix R is trained, R ~ N(0, 1e-5), so the layer is a declared near-identity at t=0, not an exact one:
‖Δy‖ ≤ s ‖R‖₂ ‖x Aᵀ‖ (B has orthonormal columns). α defaults to r (s = 1), the authors' setting
(lora_alpha = lora_r).
"""

import torch
from torch import nn


class LoraXsLinear(nn.Module):
    ROLES = {"lora_R": "core"}
    BUFFERS = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float | None = None):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.scaling = (r if alpha is None else alpha) / r
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_A", (s[:r, None] * vh[:r]).to(dtype))  # (r, d_in) frozen, diag(S_r) Vh_r
        self.register_buffer("lora_B", u[:, :r].to(dtype))  # (d_out, r) frozen, U_r
        self.lora_R = nn.Parameter(torch.randn(r, r, dtype=dtype) * 1e-5)  # (r, r) trained, N(0, 1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = (x @ self.lora_A.T) @ self.lora_R.T  # (N, r)
        return self.base(x) + self.scaling * h @ self.lora_B.T  # (N, d_out)


ADAPTERS = {"lora_xs": LoraXsLinear}
