"""antipasto_corda — lora-lite's 1+ELU singular-value gain (AntiPaSTO, Clark 2026, arXiv:2601.07473, §3.4) on a
frozen basis oriented by CorDA's context-oriented decomposition (Yang et al. 2024, arXiv:2406.05223, §3.2 Eq. 2–3,
instruction-previewed mode §3.4 Eq. 5: the top r components), whitened with C^{1/2} as lora-lite does.

    C = Σ x xᵀ / N over the calibration rows (uncentred),  C = Q diag(λ) Qᵀ,  λ ← max(λ, 0) + ε
    SVD(W C^{1/2}) = U' S' V'ᵀ,   U = U'_r,  S = S'_r,  P = V'ᵀ_r C^{-1/2}   (P: an oblique input projector)
    W_res = W − U diag(S) P,   y = x W_resᵀ + b + ((x Pᵀ) ⊙ S ⊙ (1 + ELU(coeff · g))) Uᵀ

Calibration is required: without rows, or with fewer than r, it raises before touching the weight (never a silent
fall-back to the plain SVD). With calibrate=False it stops where lora-lite's init() leaves a layer before
group_init: antipasto's plain top-r split, P = Vh_r. Identity at t=0 (g = 0) either way, up to the rounding of W_res.

Departure from the paper, declared (fidelity/impls/reference/declarations.py): CorDA decomposes W C and undoes it with
C⁻¹ (Eq. 3); this decomposes W C^{1/2} and undoes it with C^{-1/2}, so the kept part minimises
‖(W − Ŵ) C^{1/2}‖_F² = E‖(W − Ŵ)x‖² over the calibration rows (not the paper's ‖(W − Ŵ) C‖_F), and damps every
eigenvalue by an absolute ε (the paper damps only a singular C, relative to mean(diag C)).
"""

import torch
from torch import nn
from torch.nn import functional as F


class AntipastoCordaLinear(nn.Module):
    ROLES = {"lora_g": "gain"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_P": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, coeff: float = 1.0, suppress_only: bool = False,
                 cov_eps: float = 1e-3, calibrate: bool = True, calibration=None):
        super().__init__()
        d_in = base.weight.shape[1]
        if calibrate:  # checked before anything changes
            if calibration is None:
                raise ValueError("antipasto_corda needs calibration inputs of this layer, (N, d_in) rows; got none")
            x = calibration.reshape(-1, d_in).to(torch.float64)  # (N, d_in): every calibration row, equal weight
            if x.shape[0] < r:
                raise ValueError(f"antipasto_corda needs at least r = {r} calibration rows, got {x.shape[0]}")
        self.base = base.requires_grad_(False)
        self.coeff = coeff  # runtime steering coefficient: 0 is the base model
        self.suppress_only = suppress_only
        dtype = base.weight.dtype
        w = base.weight.detach().to(torch.float64)  # (d_out, d_in)
        u, s, p = torch.linalg.svd(w, full_matrices=False)  # init(): the plain top-r split, P = Vh_r
        if calibrate:  # group_init(): orient the split by the covariance of the calibration rows
            lam, q = torch.linalg.eigh(x.T @ x / x.shape[0])  # (d_in,) (d_in, d_in) covariance C, uncentred
            lam = lam.clamp(min=0) + cov_eps  # λ ← max(λ, 0) + ε
            u, s, vh = torch.linalg.svd(w @ (q * lam.sqrt()) @ q.T, full_matrices=False)  # SVD(W C^{1/2})
            p = ((vh[:r] @ q) / lam.sqrt()) @ q.T  # (r, d_in) P = V'ᵀ_r C^{-1/2}
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_P", p[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) P, from the stored factors
            term = (self.lora_U.double() * self.lora_S.double()) @ self.lora_P.double()
            base.weight.copy_((w - term).to(dtype))
        self.lora_g = nn.Parameter(torch.zeros(r, dtype=dtype))  # (r,) gain, zero: S_eff = S

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        p = x @ self.lora_P.T  # (N, r) subspace coordinates
        g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g  # (r,)
        s_eff = self.lora_S * (1 + F.elu(self.coeff * g))  # (r,)
        return self.base(x) + (p * s_eff) @ self.lora_U.T  # (N, d_out)


ADAPTERS = {"antipasto_corda": AntipastoCordaLinear}
TOPICS = {
    "init": r"raise ValueError|svd\(w, full|register_buffer\(\"lora_|term = |base\.weight\.copy_|self\.lora_g = ",
    "calibration": r"= calibration\.reshape|raise ValueError|eigh\(|lam = |svd\(w @|p = \(vh|base\.weight\.copy_",
    "forward": r"def forward|^\s+(p|g|s_eff) = |return ",
    "scaling": r"self\.coeff = |s_eff = ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}
