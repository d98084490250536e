"""antipasto_rot — the AntiPaSTO frozen SVD basis (Clark 2026, arXiv:2601.07473, §3.4 Eq. 3–4) with the paper's
additive singular-value steering S + ∆S and a block Cayley rotation of the input basis (App. A.5 Eq. 6–8), as in
lora-lite and the authors' earlier antipasto3 code: no steering coefficient α (this is W'(α) at α = 1).

    W = U diag(S) Vh + W_res                      (top-r SVD: the PiSSA split, Eq. 3)
    A_k = a_lim tanh(skew(T_k) / a_lim),  a_lim = 2 tan(max_rotation_angle / 2)        (Eq. 8, per b × b block)
    R_k = (I − A_k/2)^{-1} (I + A_k/2),   R = blockdiag(R_k)     (Eq. 7's Cayley map, the paper's R(α = −1))
    y = x W_resᵀ + b + ((x (R Vh)ᵀ) ⊙ (S + δ)) Uᵀ      (rotate_basis="V"; "U" rotates U instead: U_eff = U Rᵀ)

δ starts at 4e-4 + N(0, 4e-4), a deliberate sign-symmetry breaker, and T at 0: a near-identity at t=0, not an identity.
max_rotation_angle defaults to 0.5 rad (the paper: π/3). r must be a multiple of block_size.
"""

import math

import torch
from torch import nn

MAX_ROTATION_ANGLE = 0.5  # rad, lora-lite's default


class RotLinear(nn.Module):
    ROLES = {"lora_delta_s": "shift", "lora_rot_T": "rotation"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_Vh": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, block_size: int = 4, max_rotation_angle: float | None = None,
                 rotate_basis: str = "V"):
        super().__init__()
        if block_size < 2 or r % block_size:
            raise ValueError(f"antipasto_rot needs r to be a multiple of block_size >= 2, got r={r}, "
                             f"block_size={block_size}")
        if rotate_basis not in ("V", "U"):
            raise ValueError(f"rotate_basis must be 'V' or 'U', got {rotate_basis!r}")
        self.base = base.requires_grad_(False)
        self.block_size, self.rotate_basis = block_size, rotate_basis
        angle = MAX_ROTATION_ANGLE if max_rotation_angle is None else max_rotation_angle
        self.a_lim = 2 * math.tan(angle / 2)  # Eq. (8)
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_Vh", vh[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) Vh, formed from the stored factors
            base.weight.sub_((self.lora_U * self.lora_S) @ self.lora_Vh)
        delta = torch.full((r,), 4e-4, dtype=dtype) + 4e-4 * torch.randn(r, dtype=dtype)
        self.lora_delta_s = nn.Parameter(delta)  # (r,) δ = 4e-4 + N(0, 4e-4): near-identity by design
        n_params = block_size * (block_size - 1) // 2
        self.lora_rot_T = nn.Parameter(torch.zeros(r // block_size, n_params, dtype=dtype))  # (r/b, b(b−1)/2), R = I

    def rotation(self) -> torch.Tensor:
        b = self.block_size
        rows, cols = torch.triu_indices(b, b, offset=1)
        t = self.lora_rot_T.new_zeros(self.lora_rot_T.shape[0], b, b)  # (r/b, b, b)
        t[:, rows, cols] = self.lora_rot_T  # each block's upper triangle
        a = 0.5 * (t - t.transpose(1, 2))  # skew-symmetric generator of each block
        a = self.a_lim * torch.tanh(a / self.a_lim)  # soft clamp, Eq. (8)
        eye = torch.eye(b, dtype=a.dtype)
        r = torch.linalg.solve(eye - a / 2, eye + a / 2)  # (r/b, b, b) Cayley blocks
        return torch.block_diag(*r)  # (r, r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        rot = self.rotation()
        u, vh = self.lora_U, self.lora_Vh
        if self.rotate_basis == "V":
            vh = rot @ vh  # (r, d_in) Vh_eff = R Vh
        else:
            u = u @ rot.T  # (d_out, r) U_eff = U Rᵀ
        p = x @ vh.T  # (N, r) subspace coordinates
        return self.base(x) + (p * (self.lora_S + self.lora_delta_s)) @ u.T  # (N, d_out)


ADAPTERS = {"antipasto_rot": RotLinear}
TOPICS = {
    "init": r"self\.lora_(delta_s|rot_T) = |delta = |register_buffer\(\"lora_|base\.weight\.sub_|raise ValueError|"
            r"self\.a_lim = |MAX_ROTATION_ANGLE = ",
    "forward": r"def forward|def rotation|^\s+(a|r|rot|p|vh|u) = |t\[:, rows, cols\]|return ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}
