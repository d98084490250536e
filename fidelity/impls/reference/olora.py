"""OLoRA — Büyükakyüz 2024, "OLoRA: Orthonormal Low-Rank Adaptation of Large Language Models", arXiv:2406.01775
(no local text; written from ../shared/spec/variants.md §2.3 and the author's PEFT PR #1828).

    W = Q R (thin QR),  B = Q_r,  A = R_r,  W_res = W − s B A,  h = W_res x + b + s B A x,  s = α/r

Identity at t=0 up to the rounding of W_res. B has orthonormal columns spanning W's first r columns; A = Q_rᵀ W is
upper-triangular in its first r columns. No pre-division by s (unlike PiSSA). The QR runs in float64 when W is
float64. Compared with PEFT 0.21.2 (init_lora_weights="olora") by this suite.
"""

import torch
from torch import nn


class OloraLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base.requires_grad_(False)  # W_res frozen
        self.scaling = alpha / r
        weight = base.weight.detach()
        dtype = weight.dtype
        q, rr = torch.linalg.qr(weight.to(torch.promote_types(dtype, torch.float32)))  # (d_out, k), (k, d_in)
        self.lora_A = nn.Parameter(rr[:r].to(dtype))  # (r, d_in) down = R_r
        self.lora_B = nn.Parameter(q[:, :r].to(dtype))  # (d_out, r) up = Q_r, orthonormal columns
        with torch.no_grad():  # W_res = W − s B A, formed from the stored factors
            base.weight.sub_(self.scaling * self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out)


ADAPTERS = {"olora": OloraLinear}
