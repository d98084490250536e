"""LoRA — Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685 (§4.1, Eq. 3),
with the rank-stabilised scale of rsLoRA — Kalajdzievski 2023, "A Rank Stabilization Scaling Factor for Fine-Tuning
with LoRA", arXiv:2312.03732 (`rslora=True`).

    h = W0 x + b + s · B A x,   s = α/r   (rsLoRA: s = α/√r)

B = 0 at init, so the model is unchanged until the first step; A is Gaussian, as §4.1 says ("a random Gaussian
initialization for A"), with σ = 1/√d_in (the paper names no variance). hooklib stores the factors in the order the
input meets them, x @ A @ B: A is (d_in, r) and B is (r, d_out), the transposes of the paper's A ∈ R^{r×d_in} and
B ∈ R^{d_out×r}.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from hooklib.adapter import Adapter


@dataclass
class LoRAConfig:
    rank: int = 8
    alpha: float = 16.0
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    rslora: bool = False  # s = α/√r instead of α/r


class LoRA(Adapter):
    def __init__(self, linear: nn.Linear, cfg: LoRAConfig, shared=None):
        super().__init__()
        d_out, d_in = linear.weight.shape
        dtype = linear.weight.dtype
        self.scaling = cfg.alpha / math.sqrt(cfg.rank) if cfg.rslora else cfg.alpha / cfg.rank
        self.A = nn.Parameter(torch.randn(d_in, cfg.rank, dtype=dtype) / math.sqrt(d_in))  # (d_in, r), Gaussian
        self.B = nn.Parameter(torch.zeros(cfg.rank, d_out, dtype=dtype))  # (r, d_out), zero: ΔW = 0 at init

    def hook(self, linear, args, out):
        x = args[0]  # (…, d_in)
        return out + self.scaling * (x @ self.A) @ self.B  # W0 x + b + s B A x
