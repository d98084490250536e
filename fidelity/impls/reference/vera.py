"""VeRA — Kopiczko, Blankevoort, Asano 2023 (ICLR 2024), "VeRA: Vector-based Random Matrix Adaptation",
arXiv:2310.11454 (§3.1 Eq. 2, §3.2, §3.3).

    h = W0 x + b + Λ_b B Λ_d A x,   ΔW = diag(λ_b) B diag(λ_d) A

A (r, d_in) and B (d_out, r) are frozen and random; only the vectors λ_b (d_out,) and λ_d (r,) train. Identity at
t=0 from λ_b = 0 ("ensures that the weight matrix is unaffected during the first forward pass", §3.3); λ_d starts at
the single value d_initial (0.1 in §4.1). A and B are regenerated from an RNG seed (§3.2) by a dedicated
torch.Generator, A first, then B, with "the uniform version of Kaiming initialization as implemented in PyTorch"
(§4.1: kaiming_uniform_ at its defaults, U(±√(6/fan_in))), in float32 and then cast, as PEFT does: every layer built
with the same key holds the same pair, which is the paper's sharing. (PEFT draws one pair of the largest layer shape
and slices it per layer; for layers of one shape, the paper's setting, the two agree bit for bit.) Compared with PEFT
0.21.2 (`VeraConfig`) by this suite.
"""

import torch
from torch import nn


class VeraLinear(nn.Module):
    ROLES = {"vera_lambda_b": "lambda_b", "vera_lambda_d": "lambda_d"}
    CONVENTIONS = ("peft-prng",)  # the paper names no generator: PEFT's, so that the two stay comparable
    BUFFERS = {"vera_A": "down", "vera_B": "up"}

    def __init__(self, base: nn.Linear, r: int, d_initial: float = 0.1, projection_prng_key: int = 0):
        super().__init__()
        self.base = base.requires_grad_(False)  # W0 frozen
        d_out, d_in = base.weight.shape
        dtype = base.weight.dtype
        generator = torch.Generator().manual_seed(projection_prng_key)  # §3.2: the pair comes from one seed
        vera_A = nn.init.kaiming_uniform_(torch.empty(r, d_in), generator=generator)  # (r, d_in), U(±√(6/d_in))
        vera_B = nn.init.kaiming_uniform_(torch.empty(d_out, r), generator=generator)  # (d_out, r), U(±√(6/r))
        self.register_buffer("vera_A", vera_A.to(dtype))  # frozen, never a parameter
        self.register_buffer("vera_B", vera_B.to(dtype))
        self.vera_lambda_b = nn.Parameter(torch.zeros(d_out, dtype=dtype))  # (d_out,) b = 0 (§3.3)
        self.vera_lambda_d = nn.Parameter(torch.full((r,), d_initial, dtype=dtype))  # (r,) d = d_initial (§3.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = (x @ self.vera_A.T) * self.vera_lambda_d  # (N, r) Λ_d A x
        return self.base(x) + (h @ self.vera_B.T) * self.vera_lambda_b  # (N, d_out) W0 x + b + Λ_b B Λ_d A x


ADAPTERS = {"vera": VeraLinear}
TOPICS = {
    "init": r"generator = |vera_[AB] = nn\.init|register_buffer|self\.vera_lambda_[bd] = ",
    "forward": r"def forward|h = |return self\.base",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}
