"""DoRA — Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation", arXiv:2402.09353 (§4.1 Eq. 5, §4.3).

    W' = m · (W0 + s B A) / ‖W0 + s B A‖_c,   h = W' x + b,   s = α/r (α/√r with `rslora`, as in hooklib.lora)

‖·‖_c is one norm per output feature (row i of nn.Linear's weight; the authors' reading, nbasyl/DoRA#1), and m
(d_out,) starts at ‖W0‖_c, B at 0, so W' = W0 at init. A is Kaiming-uniform (§3.1: "The matrix A is initialized with
uniform Kaiming distribution"). The norm is treated as a constant in the backward pass (§4.3, which saves the memory
of its graph), and the bias stays outside the decomposition. The forward hook adds W' x − W0 x to the linear's output:
(m/‖·‖_c − 1) W0 x + (m/‖·‖_c) s B A x. Factors stored as in hooklib.lora: A (d_in, r), B (r, d_out).
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from hooklib.adapter import kaiming_t
from hooklib.lora import LoRA, LoRAConfig


@dataclass
class DoRAConfig(LoRAConfig):
    """LoRA's fields (rank, alpha, targets, rslora); DoRA adds the magnitude, which has no setting."""


class DoRA(LoRA):
    def __init__(self, linear: nn.Linear, cfg: DoRAConfig, shared=None):
        super().__init__(linear, cfg, shared)  # scaling, A and B as LoRA's; A is then redrawn Kaiming-uniform
        d_out, d_in = linear.weight.shape
        self.A = nn.Parameter(kaiming_t(cfg.rank, d_in, linear.weight.dtype))  # (d_in, r), Kaiming on fan-in d_in
        self.m = nn.Parameter(torch.linalg.norm(linear.weight.detach(), dim=1))  # (d_out,) m = ‖W0‖_c

    def hook(self, linear, args, out):
        x = args[0]  # (…, d_in)
        direction = linear.weight + self.scaling * (self.A @ self.B).T  # (d_out, d_in) V + ΔV
        scale = self.m / torch.linalg.norm(direction, dim=1).detach()  # (d_out,) m / ‖V + ΔV‖_c, 1 at init
        lora = self.scaling * (x @ self.A) @ self.B  # s B A x
        return out + (scale - 1) * F.linear(x, linear.weight) + scale * lora  # W' x + b, bias unscaled
