"""HRA — Yuan, Liu, Xu 2024, "Bridging The Gap between Low-rank and Orthogonal Adaptation via Householder Reflection
Adaptation", arXiv:2405.17484 (§3.1 Eqs. 1–2, §3.4 Eq. 6).

    z = W H_1 H_2 ⋯ H_r x + b,   H_i = I − 2 u_i u_iᵀ / ‖u_i‖²        (u_r meets x first, Eq. 2)
    strictly orthogonal (λ = ∞, apply_GS):  z = W (I − 2 U_r U_rᵀ) x + b,   U_r = GS(V_r)
    regulariser added to the loss (Eq. 6):  λ ‖I_r − Û_rᵀ Û_r‖²_F,   Û_r = [u_i / ‖u_i‖]

The paper gives no init. As the authors' code and PEFT do, r/2 Kaiming-uniform vectors are each repeated twice,
u_{2k−1} = u_{2k}: every pair of reflections cancels (H H = I), so the layer is an identity at t=0 up to rounding,
and U_r is live. That needs an even r, so an odd r is refused. The strictly orthogonal variant starts from
V_r = [I_r; 0], as the authors' GS code does (Gram–Schmidt is undefined on parallel vectors): it is orthogonal
from step 0 but, like every I − 2UUᵀ with orthonormal U, not an identity. Compared with PEFT 0.21.2 (`HRAConfig`).
"""

import math

import torch
from torch import nn


class HraLinear(nn.Module):
    ROLES = {"hra_u": "reflectors"}

    def __init__(self, base: nn.Linear, r: int, apply_GS: bool = False, lam: float = 0.0):
        super().__init__()
        self.base = base.requires_grad_(False)  # W frozen
        d_in, dtype = base.weight.shape[1], base.weight.dtype
        self.apply_GS, self.lam = apply_GS, lam
        if apply_GS:  # V_r = [I_r; 0], orthonormal, so GS(V_r) is defined
            u = torch.eye(d_in, r, dtype=dtype)  # (d_in, r)
        else:
            if r % 2:
                raise ValueError(f"HRA's paired identity init needs an even r (got r={r}): one reflection would "
                                 f"stay unpaired and the layer would not start as the pre-trained one")
            half = torch.empty(d_in, r // 2, dtype=dtype)  # (d_in, r/2)
            nn.init.kaiming_uniform_(half, a=math.sqrt(5))
            u = half.repeat_interleave(2, dim=1)  # (d_in, r) u_{2k−1} = u_{2k}: the reflections cancel in pairs
        self.hra_u = nn.Parameter(u)  # (d_in, r) U_r, column i = u_i

    def transform(self) -> torch.Tensor:
        """R (d_in, d_in): H_1 H_2 ⋯ H_r (Eq. 1), or I − 2 U_r U_rᵀ with U_r = GS(V_r) (§3.4)."""
        eye = torch.eye(self.hra_u.shape[0], dtype=self.hra_u.dtype)
        if self.apply_GS:
            q = torch.linalg.qr(self.hra_u).Q  # (d_in, r) GS(V_r), via Householder QR (orthonormal to rounding)
            return eye - 2 * q @ q.T
        unit = self.hra_u / self.hra_u.norm(dim=0)  # (d_in, r) u_i ∈ S^{d−1}
        chain = eye
        for i in range(unit.shape[1]):
            u = unit[:, i:i + 1]  # (d_in, 1)
            chain = chain - 2 * (chain @ u) @ u.T  # chain ← chain H_i, so H_r meets x first
        return chain

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x @ self.transform().T)  # (N, d_out) W (R x) + b: the reflections act on the input

    def regularizer(self) -> torch.Tensor:
        """λ ‖I_r − Û_rᵀ Û_r‖²_F (Eq. 6), on the unit vectors û_i = u_i / ‖u_i‖."""
        unit = self.hra_u / self.hra_u.norm(dim=0)  # (d_in, r)
        gap = torch.eye(unit.shape[1], dtype=unit.dtype) - unit.T @ unit  # (r, r)
        return self.lam * gap.pow(2).sum()


ADAPTERS = {"hra": HraLinear}
TOPICS = {
    "init": r"u = torch\.eye\(d_in, r|if r % 2|raise ValueError|half = |kaiming_uniform_|repeat_interleave",
    "forward": r"def forward|return self\.base|q = torch\.linalg\.qr|return eye - 2|unit = self\.hra_u / |"
               r"chain = chain - 2",
    "trainable": r"requires_grad_|nn\.Parameter",
    "regularizer": r"def regularizer|unit = self\.hra_u / |gap = |return self\.lam",
}
