"""DeLoRA — Bini, Girrbach, Akata 2025 (ICLR), "Decoupling Angles and Strength in Low-rank Adaptation",
arXiv:2503.18225 (§2.2, Eqs. 5–9 and 15).

    h = (W + (λ/r) B Ξ A diag(w)) x + b,   Ξ_ii = 1/(‖b_i‖ ‖a_i‖),   w_j = ‖W̄_{:,j}‖ of the pretrained weight

Ξ normalises every rank-one term b_i a_iᵀ (Eq. 5), so the update stays within a ball of radius λ (Eqs. 6–7), λ
learnable; the norms are part of the graph. ‖W̄‖ is one norm per input column, on the input side (Eqs. 8, 15). Eq. 9:
A and B are Kaiming-random (no zero factor) and the initial update is subtracted from the base weight when attaching
(`subtract_init`), W = W̄ − ((λ/r) B Ξ A diag(w))_0, so the model starts unchanged; `hooklib.detach` adds it back.
Factors stored as in hooklib.lora, A (d_in, r) and B (r, d_out); λ is a 0-d tensor.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from hooklib.adapter import Adapter, kaiming_t


@dataclass
class DeLoRAConfig:
    rank: int = 8
    lam0: float = 15.0  # λ at init, the boundary of the update
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    subtract_init: bool = True  # Eq. 9: fold the initial update out of W so the model starts unchanged


class DeLoRA(Adapter):
    def __init__(self, linear: nn.Linear, cfg: DeLoRAConfig, shared=None):
        super().__init__()
        d_out, d_in = linear.weight.shape
        dtype = linear.weight.dtype
        self.r = cfg.rank
        self.A = nn.Parameter(kaiming_t(cfg.rank, d_in, dtype))  # (d_in, r), Kaiming on fan-in d_in (Eq. 9)
        self.B = nn.Parameter(kaiming_t(d_out, cfg.rank, dtype))  # (r, d_out), Kaiming on fan-in r
        self.lam = nn.Parameter(torch.tensor(float(cfg.lam0), dtype=dtype))  # () learnable λ
        # (d_in,) ‖W̄_{:,j}‖, of the pretrained weight, in float64 then cast, frozen
        self.register_buffer("wnorm", torch.linalg.norm(linear.weight.detach().double(), dim=0).to(dtype))
        self.subtracted = cfg.subtract_init
        if cfg.subtract_init:  # Eq. 9; a frozen copy of the initial factors lets `undo` restore W̄
            self.register_buffer("A0", self.A.detach().clone())
            self.register_buffer("B0", self.B.detach().clone())
            self.register_buffer("lam0", self.lam.detach().clone())
            with torch.no_grad():
                linear.weight.sub_(self.delta(self.A0, self.B0, self.lam0))

    def coeff(self, A, B, lam):  # (r,) (λ/r) Ξ_ii = λ / (r ‖b_i‖ ‖a_i‖), in the graph (Eq. 5)
        return lam / self.r / (B.norm(dim=1) * A.norm(dim=0))

    def delta(self, A, B, lam):  # (d_out, d_in) ΔW = (λ/r) B Ξ A diag(w)
        return ((A * self.coeff(A, B, lam)) @ B).T * self.wnorm

    def hook(self, linear, args, out):
        x = args[0]  # (…, d_in)
        return out + ((x * self.wnorm) @ self.A * self.coeff(self.A, self.B, self.lam)) @ self.B

    def undo(self, linear):
        if self.subtracted:
            with torch.no_grad():
                linear.weight.add_(self.delta(self.A0, self.B0, self.lam0))
