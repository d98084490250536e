"""VeRA — Kopiczko, Blankevoort, Asano 2023 (ICLR 2024), "VeRA: Vector-based Random Matrix Adaptation",
arXiv:2310.11454 (§3.1 Eq. 2, §3.2, §3.3).

    h = W0 x + b + Λ_b B Λ_d A x,   A (r, d_in), B (d_out, r) frozen and random, λ_b (d_out,), λ_d (r,) trained

One pair A, B per model, shared by every adapted layer, drawn when attaching from a torch.Generator seeded with
`seed` (§3.2: regenerated from a seed, never stored in a checkpoint): A first, then B, each kaiming_uniform_ at
torch's defaults (§4.1, "the uniform version of Kaiming initialization as implemented in PyTorch"), in float32, then
cast to the model's dtype. Layers of different shapes use slices of a pair of the largest shape. λ_b = 0 (§3.3: the
model is unchanged on the first forward pass), λ_d = d_init in every entry (0.1, §4.1).
"""

from dataclasses import dataclass

import torch
from torch import nn

from hooklib.adapter import Adapter


@dataclass
class VeRAConfig:
    rank: int = 256
    d_init: float = 0.1
    seed: int = 0
    targets: tuple[str, ...] = ("q_proj", "v_proj")


class VeRA(Adapter):
    @classmethod
    def shared(cls, linears, cfg: VeRAConfig):
        gen = torch.Generator().manual_seed(cfg.seed)
        d_in, d_out = max(lin.in_features for lin in linears), max(lin.out_features for lin in linears)
        A = nn.init.kaiming_uniform_(torch.empty(cfg.rank, d_in), generator=gen)  # (r, d_in), U(±√(6/d_in))
        B = nn.init.kaiming_uniform_(torch.empty(d_out, cfg.rank), generator=gen)  # (d_out, r), U(±√(6/r))
        dtype = linears[0].weight.dtype
        return A.to(dtype), B.to(dtype)

    def __init__(self, linear: nn.Linear, cfg: VeRAConfig, shared):
        super().__init__()
        A, B = shared
        d_out, d_in = linear.weight.shape
        dtype = linear.weight.dtype
        self.register_buffer("A", A[:, :d_in], persistent=False)  # views of the model's one pair: frozen, shared,
        self.register_buffer("B", B[:d_out, :], persistent=False)  # left out of checkpoints (the seed rebuilds them)
        self.lambda_b = nn.Parameter(torch.zeros(d_out, dtype=dtype))  # (d_out,) b = 0
        self.lambda_d = nn.Parameter(torch.full((cfg.rank,), cfg.d_init, dtype=dtype))  # (r,) d = d_init

    def hook(self, linear, args, out):
        x = args[0]  # (…, d_in)
        return out + ((x @ self.A.T) * self.lambda_d) @ self.B.T * self.lambda_b
