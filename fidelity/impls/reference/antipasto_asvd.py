"""antipasto_asvd — lora-lite's 1+ELU singular-value gain (AntiPaSTO, Clark 2026, arXiv:2601.07473, §3.4) on a
frozen basis scaled per input channel as in ASVD (Yuan et al. 2023, arXiv:2312.05821: W = (W S) S⁻¹, truncated
SVD of W S), with lora-lite's statistic: the RMS of each channel, the diagonal of CorDA's C^{1/2}.

    c_i = E[x_i²] + ε over the calibration rows (uncentred),   S_c = diag(√c)
    SVD(W S_c) = U' S' V'ᵀ,   U = U'_r,  S = S'_r,  P = V'ᵀ_r S_c⁻¹   (P: an oblique input projector)
    W_res = W − U diag(S) P,   y = x W_resᵀ + b + ((x Pᵀ) ⊙ S ⊙ (1 + ELU(coeff · g))) Uᵀ

Calibration is required: without rows, or with fewer than r, it raises before touching the weight. With
calibrate=False it stops where lora-lite's init() leaves a layer before group_init: antipasto's plain top-r split,
P = Vh_r. Identity at t=0 (g = 0) either way, up to the rounding of W_res. W S_c = W ⊙ √cᵀ (column j by √c_j).

Departure from the paper, declared (fidelity/impls/reference/declarations.py): ASVD's Eq. 8 scales channel i by
(mean_j |X_ji|)^0.5; this scales it by (E x_i² + ε)^{1/2}, another pooling and another exponent, which makes the
truncation optimal for E‖(W − Ŵ)x‖² when the channels are uncorrelated and equal to antipasto_corda's when C is
diagonal.
"""

import torch
from torch import nn
from torch.nn import functional as F


class AntipastoAsvdLinear(nn.Module):
    ROLES = {"lora_g": "gain"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_P": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, coeff: float = 1.0, suppress_only: bool = False,
                 cov_eps: float = 1e-3, calibrate: bool = True, calibration=None):
        super().__init__()
        d_in = base.weight.shape[1]
        if calibrate:  # checked before anything changes
            if calibration is None:
                raise ValueError("antipasto_asvd needs calibration inputs of this layer, (N, d_in) rows; got none")
            x = calibration.reshape(-1, d_in).to(torch.float64)  # (N, d_in): every calibration row, equal weight
            if x.shape[0] < r:
                raise ValueError(f"antipasto_asvd needs at least r = {r} calibration rows, got {x.shape[0]}")
        self.base = base.requires_grad_(False)
        self.coeff = coeff  # runtime steering coefficient: 0 is the base model
        self.suppress_only = suppress_only
        dtype = base.weight.dtype
        w = base.weight.detach().to(torch.float64)  # (d_out, d_in)
        u, s, p = torch.linalg.svd(w, full_matrices=False)  # init(): the plain top-r split, P = Vh_r
        if calibrate:  # group_init(): scale the input channels by their RMS
            root = (x.pow(2).mean(dim=0) + cov_eps).sqrt()  # (d_in,) statistic √c_i = (E x_i² + ε)^½
            u, s, vh = torch.linalg.svd(w * root, full_matrices=False)  # SVD(W S_c), W S_c = W ⊙ √cᵀ
            p = vh[:r] / root  # (r, d_in) P = V'ᵀ_r S_c⁻¹
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


ADAPTERS = {"antipasto_asvd": AntipastoAsvdLinear}
TOPICS = {
    "init": r"raise ValueError|svd\(w, full|register_buffer\(\"lora_|term = |base\.weight\.copy_|self\.lora_g = ",
    "calibration": r"= calibration\.reshape|raise ValueError|root = |svd\(w \*|p = vh|base\.weight\.copy_",
    "forward": r"def forward|^\s+(p|g|s_eff) = |return ",
    "scaling": r"self\.coeff = |s_eff = ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}
