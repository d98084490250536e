"""antipasto — the AntiPaSTO frozen SVD basis (Clark 2026, arXiv:2601.07473, §3.4 Eq. 3) steered by lora-lite's
1+ELU gain on the singular values, in place of the paper's additive S + α∆S and its Cayley rotation (Eq. 4).

    W = U diag(S) Vh + W_res                      (top-r SVD: the PiSSA split, Eq. 3)
    S_eff = S ⊙ (1 + ELU(coeff · g))              (g ← min(g, 0) with suppress_only)
    y = x W_resᵀ + b + ((x Vhᵀ) ⊙ S_eff) Uᵀ

Identity at t=0 (up to the rounding of W_res) from g = 0, and at coeff = 0 for any g (the paper's α = 0). The gain
is lora-lite's design, not the paper's: 1 + ELU(z) is e^z for z ≤ 0 and 1 + z above, so S_eff > 0 for every g
and coeff, it is C¹ at 0, and suppress_only keeps S_eff ≤ S for coeff ≥ 0 (coeff < 0 swaps amplifying and
suppressing). Unlike S + α∆S it is not antisymmetric in coeff: (1 + g) e^(−g) ≠ 1.
"""

import torch
from torch import nn
from torch.nn import functional as F


class AntipastoLinear(nn.Module):
    ROLES = {"lora_g": "gain"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_Vh": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, coeff: float = 1.0, suppress_only: bool = False):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.coeff = coeff  # runtime steering coefficient: 0 is the base model
        self.suppress_only = suppress_only
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_Vh", vh[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) Vh, formed from the stored factors
            base.weight.sub_((self.lora_U * self.lora_S) @ self.lora_Vh)
        self.lora_g = nn.Parameter(torch.zeros(r, dtype=dtype))  # (r,) gain, zero: S_eff = S

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        p = x @ self.lora_Vh.T  # (N, r) subspace coordinates
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g  # (r,)
        s_eff = self.lora_S * (1 + F.elu(self.coeff * g))  # (r,)
        return self.base(x) + (p * s_eff) @ self.lora_U.T  # (N, d_out)


ADAPTERS = {"antipasto": AntipastoLinear}
