"""DeLoRA — Bini, Girrbach, Akata 2025 (ICLR), "Decoupling Angles and Strength in Low-rank Adaptation",
arXiv:2503.18225 (§2.2, Eqs. 5–9 and 15).

    h = (W + (λ/r) B Ξ A diag(w)) x + b,   Ξ_ii = 1/(‖b_i‖ ‖a_i‖),   w_j = ‖W̄_{:,j}‖ (the pretrained weight)

Ξ gives every rank-one term b_i a_iᵀ unit Frobenius norm (Eq. 5), so the update stays in a λ-ball whatever the learning
rate (Eqs. 6–7); ‖W̄‖ is one norm per input column, applied on the input side, as in the authors' code and PEFT.
Identity at t=0 from Eq. 9, not from a zero factor: A and B are Kaiming-random (a zero B would divide Ξ by 0; the
paper found an epsilon "would sometimes lead to unstable results") and a frozen copy of the initial update is
subtracted from the base weight, W = W̄ − ((λ/r) B Ξ A diag(w))_0; w stays the norms of W̄. So A, B and λ are all live
on step 0. `init_weights=False` (PEFT's option of that name) skips the subtraction. Compared with PEFT 0.21.2
(`DeloraConfig`, which initialises B = 0 instead) by this suite.
"""

import math

import torch
from torch import nn

from fidelity.impls.roles import scalar


class DeloraLinear(nn.Module):
    ROLES = {"delora_A": "down", "delora_B": "up", "delora_lambda": "strength"}
    ROLE_VIEWS = {"strength": scalar}  # stored (1,), as PEFT does
    BUFFERS = {"delora_wnorm": "weight_norm"}

    def __init__(self, base: nn.Linear, r: int, delora_lambda: float = 15.0, init_weights: bool = True):
        super().__init__()
        self.base = base.requires_grad_(False)  # W frozen
        d_out, d_in = base.weight.shape
        dtype = base.weight.dtype
        self.r = r
        self.delora_A = nn.Parameter(torch.empty(r, d_in, dtype=dtype))  # (r, d_in) down
        self.delora_B = nn.Parameter(torch.empty(d_out, r, dtype=dtype))  # (d_out, r) up
        nn.init.kaiming_uniform_(self.delora_A, a=math.sqrt(5))  # Eq. 9: "kaiming-randomly initialized matrices"
        nn.init.kaiming_uniform_(self.delora_B, a=math.sqrt(5))
        self.delora_lambda = nn.Parameter(torch.full((1,), float(delora_lambda), dtype=dtype))  # (1,) learnable λ
        # (d_in,) ‖W̄‖ per input column, of the pretrained weight, computed in float64 and frozen (Eqs. 8, 15)
        self.register_buffer("delora_wnorm", torch.linalg.norm(base.weight.detach().double(), dim=0).to(dtype))
        if init_weights:  # Eq. 9: W = W̄ − (λ‖W̄‖/r BΞA)_0, the update at time 0 frozen into the base
            with torch.no_grad():
                base.weight.sub_(self.delta())

    def xi(self) -> torch.Tensor:  # (r,) Ξ_ii = 1/(‖b_i‖ ‖a_i‖), in the graph (Eq. 5)
        return 1 / (self.delora_B.norm(dim=0) * self.delora_A.norm(dim=1))

    def delta(self) -> torch.Tensor:  # (d_out, d_in) ΔW = (λ/r) B Ξ A diag(w)
        return (self.delora_B * (self.delora_lambda / self.r * self.xi())) @ self.delora_A * self.delora_wnorm

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = (x * self.delora_wnorm) @ self.delora_A.T  # (N, r) A diag(w) x
        return self.base(x) + (h * (self.delora_lambda / self.r * self.xi())) @ self.delora_B.T  # (N, d_out)


ADAPTERS = {"delora": DeloraLinear}
TOPICS = {
    "init": r"self\.delora_(A|B|lambda) = |init\.kaiming|register_buffer|if init_weights|base\.weight\.sub_",
    "forward": r"def (forward|xi|delta)|^\s+h = \(x|^\s+return ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}
