"""LoRA — Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685 (§4.1, Eq. 3).
rsLoRA option — Kalajdzievski 2023, "A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA", arXiv:2312.03732.

    h = W0 x + b + s · B A x,   s = α/r   (rsLoRA: s = α/√r)

Identity at t=0 from B = 0. A is Gaussian, as the paper says ("a random Gaussian initialization for A"); the
paper gives no variance, so σ = 1/√d_in keeps x Aᵀ at the scale of x. Compared with PEFT 0.21.2 (which draws
A Kaiming-uniform, following microsoft/LoRA) by this suite.
"""

import math

import torch
from torch import nn


class LoraLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float, use_rslora: bool = False):
        super().__init__()
        self.base = base.requires_grad_(False)  # W0 frozen (§4.1)
        d_out, d_in = base.weight.shape
        dtype = base.weight.dtype
        self.scaling = alpha / math.sqrt(r) if use_rslora else alpha / r
        self.lora_A = nn.Parameter(torch.randn(r, d_in, dtype=dtype) / math.sqrt(d_in))  # (r, d_in) down, Gaussian
        self.lora_B = nn.Parameter(torch.zeros(d_out, r, dtype=dtype))  # (d_out, r) up, zero: ΔW = 0 at init

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out)

    def merged(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """§4.1, deployment: "store W = W0 + BA and perform inference as usual" (the bias is unchanged)."""
        return self.base.weight + self.scaling * self.lora_B @ self.lora_A, self.base.bias

    def unmerged(self) -> torch.Tensor:
        """§4.1: "we can recover W0 by subtracting BA" from the stored W."""
        merged, _ = self.merged()
        return merged - self.scaling * self.lora_B @ self.lora_A


ADAPTERS = {"lora": LoraLinear}
TOPICS = {"forward": r"def forward|return self\.base\(x\)"}
