"""HRA — Yuan, Liu, Xu 2024, "Bridging The Gap between Low-rank and Orthogonal Adaptation via Householder Reflection
Adaptation", arXiv:2405.17484 (§3.1 Eqs. 1–2, §3.4 Eq. 6).

    z = W H_1 H_2 ⋯ H_r x + b,   H_i = I − 2 u_i u_iᵀ / ‖u_i‖²      (H_r meets x first, Eq. 2)
    `orthogonal=True` (the paper's λ = ∞):  z = W (I − 2 U_r U_rᵀ) x + b,   U_r = GS(V_r)
    loss term (Eq. 6, `hooklib.penalty`):  λ ‖I_r − Û_rᵀ Û_r‖²_F,   Û_r = [u_i / ‖u_i‖]

The reflections act on the linear's input, in a forward pre-hook, one reflection at a time (no d_in × d_in matrix).
The paper gives no init: as the authors' code, r/2 Kaiming-uniform vectors are each used twice (u_{2k−1} = u_{2k}), so
the reflections cancel in pairs and the layer starts as the pre-trained one; that needs an even r, and an odd one is
refused. With `orthogonal=True`, V_r starts at [I_r; 0] (Gram–Schmidt needs independent vectors). hooklib stores the
vectors as rows, U (r, d_in), the transpose of the paper's U_r = [u_1, …, u_r] ∈ R^{d_in×r}.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn

from hooklib.adapter import Adapter


@dataclass
class HRAConfig:
    rank: int = 8
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    orthogonal: bool = False  # Gram–Schmidt the vectors: strictly orthogonal I − 2 U Uᵀ
    reg: float = 0.0  # λ of Eq. 6's orthogonality term in the loss


class HRA(Adapter):
    input_side = True

    def __init__(self, linear: nn.Linear, cfg: HRAConfig, shared=None):
        super().__init__()
        r, d_in, dtype = cfg.rank, linear.in_features, linear.weight.dtype
        self.orthogonal, self.reg = cfg.orthogonal, cfg.reg
        if cfg.orthogonal:
            u = torch.eye(r, d_in, dtype=dtype)  # V_r = [I_r; 0], as rows
        else:
            if r % 2:
                raise ValueError(f"hooklib HRA: rank must be even for the paired init (got {r}); an unpaired "
                                 f"reflection would change the pre-trained layer")
            half = torch.empty(r // 2, d_in, dtype=dtype)
            nn.init.kaiming_uniform_(half, a=math.sqrt(5))
            u = half.repeat_interleave(2, dim=0)  # (r, d_in) u_{2k−1} = u_{2k}: the pairs cancel
        self.U = nn.Parameter(u)  # (r, d_in), row i = u_i

    def pre_hook(self, linear, args):
        x = args[0]  # (…, d_in)
        if self.orthogonal:
            q = torch.linalg.qr(self.U.T).Q  # (d_in, r) U_r = GS(V_r)
            return (x - 2 * (x @ q) @ q.T,) + args[1:]
        unit = self.U / self.U.norm(dim=1, keepdim=True)  # û_i
        for i in reversed(range(unit.shape[0])):  # x ← H_i x for i = r, …, 1
            x = x - 2 * (x @ unit[i])[..., None] * unit[i]
        return (x,) + args[1:]

    def penalty(self):
        unit = self.U / self.U.norm(dim=1, keepdim=True)  # (r, d_in) rows û_i
        gap = torch.eye(unit.shape[0], dtype=unit.dtype) - unit @ unit.T  # I_r − Û_rᵀ Û_r
        return self.reg * gap.pow(2).sum()
