"""antipasto_arrow — lora-lite's own "arrowhead" core (no paper) on the frozen top-r SVD basis of AntiPaSTO (Clark 2026,
arXiv:2601.07473, §3.4 Eq. 3; the basis and the coefficient are the paper's, the core is not): a dense b × b block on
the top-b subspace coordinates and AntiPaSTO's 1+ELU gain on the other r − b.

    W = U diag(S) Vh + W_res                      (top-r SVD: the PiSSA split, Eq. 3)
    c = (x Vhᵀ) ⊙ S                               (S-scaled subspace coordinates)
    top = c[:, :b] (I_b + coeff · M)ᵀ,   tail = c[:, b:] ⊙ (1 + ELU(coeff · g))
    y = x W_resᵀ + b + [top, tail] Uᵀ

Identity at t=0 (up to the rounding of W_res) from M = 0 and g = 0, and at coeff = 0 for any M, g. 1 ≤ b < r.
With b = 1 the layer is not antipasto: its 1 × 1 block is linear, 1 + coeff·M, where antipasto's gain is 1 + ELU(coeff·g).
The two agree where coeff·M ≥ 0 (and at M = 0, and on the tail), and differ by S_1 (1 + z − e^z) along u_1 v_1ᵀ,
z = coeff·M, where coeff·M < 0 — a second-order difference at 0, but the block can reach 1 + z ≤ 0 where the gain
cannot.
"""

import torch
from torch import nn
from torch.nn import functional as F


class ArrowLinear(nn.Module):
    ROLES = {"lora_M": "core", "lora_g": "gain"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_Vh": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, b: int = 8, coeff: float = 1.0):
        super().__init__()
        if not 1 <= b < r:
            raise ValueError(f"antipasto_arrow needs 1 <= b < r, got b={b}, r={r}")
        self.base = base.requires_grad_(False)
        self.b, self.coeff = b, coeff  # block size; runtime steering coefficient (0 is the base model)
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_Vh", vh[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) Vh, formed from the stored factors
            base.weight.sub_((self.lora_U * self.lora_S) @ self.lora_Vh)
        self.lora_M = nn.Parameter(torch.zeros(b, b, dtype=dtype))  # (b, b) block, zero: I_b + coeff M = I_b
        self.lora_g = nn.Parameter(torch.zeros(r - b, dtype=dtype))  # (r − b,) tail gain, zero: 1 + ELU(0) = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        c = (x @ self.lora_Vh.T) * self.lora_S  # (N, r) S-scaled subspace coordinates
        eye = torch.eye(self.b, dtype=c.dtype)
        top = c[:, :self.b] @ (eye + self.coeff * self.lora_M).T  # (N, b) the dense block on the top-b
        tail = c[:, self.b:] * (1 + F.elu(self.coeff * self.lora_g))  # (N, r − b) AntiPaSTO's diagonal gain
        return self.base(x) + torch.cat([top, tail], dim=1) @ self.lora_U.T  # (N, d_out)


ADAPTERS = {"antipasto_arrow": ArrowLinear}
TOPICS = {
    "init": r"self\.lora_[MgUSVh]+ = |register_buffer\(\"lora_|base\.weight\.sub_|raise ValueError",
    "forward": r"def forward|^\s+(c|eye|top|tail) = |return ",
    "scaling": r"self\.b, self\.coeff = |self\.coeff \* ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:|lora-lite's own|not antipasto",
}
