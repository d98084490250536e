"""tinylora — LoRA (Hu et al. 2021, arXiv:2106.09685): h = W0 x + b + (α/r) B A x, with B = 0 at init.

A is drawn Kaiming-uniform like microsoft/LoRA. The scale has a deliberate bug for fidelity's worked example:
`alpha // r` floors the ratio, which is right only when r divides α (so the paper's r = 8, α = 16 hides it).
"""

import math

import torch
from torch import nn


class LoraLinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.scaling = alpha // r  # the planted bug: integer division instead of α / r
        self.A = nn.Parameter(torch.empty(r, base.in_features, dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(base.out_features, r, dtype=base.weight.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * (x @ self.A.T) @ self.B.T
