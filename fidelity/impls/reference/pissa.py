"""PiSSA — Meng, Wang, Zhang 2024, "PiSSA: Principal Singular Values and Singular Vectors Adaptation of Large
Language Models", arXiv:2404.02948 (§3, Eqs. 2–5; Appendix B for the Fast SVD).

    W = U diag(S) Vh,  B = U_r diag(√(S_r/s)),  A = diag(√(S_r/s)) Vh_r,  W_res = W − s B A,  h = W_res x + b + s B A x

In nn.Linear storage the paper's A = U[:, :r] S^{1/2} is our down-projection A (transposed) and its
B = S^{1/2} V[:, :r]ᵀ our up-projection B (transposed). Identity at t=0 up to the rounding of W_res (Eq. 5,
W = W_res + AB). The paper has no α (its experiments keep lora_alpha = lora_r); like PEFT, S_r is divided by
s = α/r so that s B A is the principal part and W_res the tail U[:, r:] S[r:] V[:, r:]ᵀ for every α — a declared
deviation from the letter of Eqs. (2)–(3), whose √S_r magnitudes hold at α = r. The SVD runs in float64 when W is
float64; niter = K > 0 uses Halko et al.'s randomised SVD, torch.svd_lowrank(W, q=r, niter=K), as PEFT's
pissa_niter_K does. Compared with PEFT 0.21.2 (init_lora_weights="pissa") by this suite.
"""

import torch
from torch import nn


class PissaLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float, niter: int = 0):
        super().__init__()
        self.base = base.requires_grad_(False)  # W_res frozen (§3)
        self.scaling = alpha / r
        weight = base.weight.detach()
        dtype = weight.dtype
        w = weight.to(torch.promote_types(dtype, torch.float32))  # (d_out, d_in), float64 stays float64
        if niter:
            u, s, v = torch.svd_lowrank(w, q=r, niter=niter)  # (d_out, r), (r,), (d_in, r)
            vh = v.T
        else:
            u, s, vh = torch.linalg.svd(w, full_matrices=False)  # (d_out, k), (k,), (k, d_in)
        root = torch.sqrt(s[:r] / self.scaling)  # (r,) √(S_r/s)
        self.lora_A = nn.Parameter((root[:, None] * vh[:r]).to(dtype))  # (r, d_in) down = diag(√(S_r/s)) Vh_r
        self.lora_B = nn.Parameter((u[:, :r] * root).to(dtype))  # (d_out, r) up = U_r diag(√(S_r/s))
        with torch.no_grad():  # W_res = W − s B A, formed from the stored factors (Eq. 4)
            base.weight.sub_(self.scaling * self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out)


ADAPTERS = {"pissa": PissaLinear}
