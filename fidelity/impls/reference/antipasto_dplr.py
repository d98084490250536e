"""antipasto_dplr — the AntiPaSTO basis and gain (Clark 2026, arXiv:2601.07473, §3.4 Eq. 3–4) with a LoRA core
(Hu et al. 2021, arXiv:2106.09685, §4.1) acting in subspace coordinates; the design is lora-lite's.

    W = U diag(S) Vh + W_res                      (top-r SVD: the PiSSA split, Eq. 3)
    p = x Vhᵀ,  S_eff = S ⊙ (1 + ELU(coeff · g))
    y = x W_resᵀ + b + (p ⊙ S_eff + coeff · (p Aᵀ) Bᵀ) Uᵀ

Identity at t=0 (up to the rounding of W_res) from g = 0 and B = 0, the LoRA core's up side. A is
Kaiming-uniform, as in microsoft/LoRA. There is no α/r: `coeff` scales the core and steers the gain. The
update U (diag(S_eff − S) + coeff B A) Vh lives in span U ⊗ span Vh by construction.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


class DplrLinear(nn.Module):
    ROLES = {"lora_g": "gain", "lora_A": "core_down", "lora_B": "core_up"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_Vh": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, k: int, coeff: float = 1.0):
        super().__init__()
        if not 0 < k <= r:
            raise ValueError(f"antipasto_dplr needs 0 < k <= r, got k={k}, r={r}")
        self.base = base.requires_grad_(False)
        self.coeff = coeff
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_Vh", vh[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) Vh, formed from the stored factors
            base.weight.sub_((self.lora_U * self.lora_S) @ self.lora_Vh)
        self.lora_g = nn.Parameter(torch.zeros(r, dtype=dtype))  # (r,) gain, zero: S_eff = S
        self.lora_A = nn.Parameter(torch.empty(k, r, dtype=dtype))  # (k, r) core down, Kaiming-uniform
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(r, k, dtype=dtype))  # (r, k) core up, zero: core = 0 at init

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        p = x @ self.lora_Vh.T  # (N, r) subspace coordinates
        s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))  # (r,)
        h = p * s_eff + self.coeff * (p @ self.lora_A.T) @ self.lora_B.T  # (N, r)
        return self.base(x) + h @ self.lora_U.T  # (N, d_out)


ADAPTERS = {"antipasto_dplr": DplrLinear}
