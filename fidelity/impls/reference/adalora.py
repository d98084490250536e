"""AdaLoRA — Zhang et al. 2023 (ICLR), "AdaLoRA: Adaptive Budget Allocation for Parameter-Efficient Fine-Tuning",
arXiv:2303.10512 (§3.1 Eq. 3–4, §4).

    h = W0 x + b + s · P Λ Q x,   s = α/r,   training loss C + γ (‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F)

Q (r, d_in) and P (d_out, r) are the right and left singular vectors, Λ the singular values stored as a vector. Identity
at t=0 from Λ = 0 (§3.1: "Λ is initialized with zero while P and Q adopt a random Gaussian initialization"); the
paper gives no variance, so σ = 0.02 as in the authors' code. s = α/r, LoRA's scaling (§4: "we add the same scaling
for (3)"), where the authors' code and PEFT divide by r + 1e-5. The budget schedule prunes Λ towards target_r during
training (§3.2–3.3, out of scope here): at init the rank is r. Compared with PEFT 0.21.2 (AdaLoraConfig) by this suite.
"""

import torch
from torch import nn

from fidelity.impls.roles import flat


class AdaLoraLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_E": "singular", "lora_B": "up"}
    ROLE_VIEWS = {"singular": flat}  # stored (r, 1), as PEFT does

    def __init__(self, base: nn.Linear, r: int, alpha: float, budget: str = "pruned", orth_reg_weight: float = 0.1):
        super().__init__()
        self.base = base.requires_grad_(False)  # W(0) frozen
        d_out, d_in = base.weight.shape
        dtype = base.weight.dtype
        self.scaling = alpha / r  # §4: "Following LoRA, we add the same scaling for (3)"
        self.target_r = r if budget == "fixed" else max(1, round(r / 1.5))  # b(0) = 1.5 b(T): read by allocation only
        self.orth_reg_weight = orth_reg_weight  # γ in L = C + γ Σ_k R(P_k, Q_k)
        self.lora_A = nn.Parameter(torch.randn(r, d_in, dtype=dtype) * 0.02)  # (r, d_in) Q, random Gaussian
        self.lora_E = nn.Parameter(torch.zeros(r, 1, dtype=dtype))  # (r, 1) Λ as a vector, zero: ∆ = 0 at init
        self.lora_B = nn.Parameter(torch.randn(d_out, r, dtype=dtype) * 0.02)  # (d_out, r) P, random Gaussian

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = (x @ self.lora_A.T) * self.lora_E.T  # (N, r) Λ Q x, one singular value per triplet
        return self.base(x) + self.scaling * h @ self.lora_B.T  # (N, d_out) W0 x + b + s P Λ Q x

    def regularizer(self) -> torch.Tensor:
        """γ R(P, Q) = γ (‖PᵀP − I‖²_F + ‖QQᵀ − I‖²_F), Eq. (4): the term this layer adds to the training loss."""
        eye = torch.eye(self.lora_E.shape[0], dtype=self.lora_E.dtype)  # (r, r)
        p_gram = self.lora_B.T @ self.lora_B  # (r, r) PᵀP
        q_gram = self.lora_A @ self.lora_A.T  # (r, r) QQᵀ
        return self.orth_reg_weight * ((p_gram - eye).pow(2).sum() + (q_gram - eye).pow(2).sum())


ADAPTERS = {"adalora": AdaLoraLinear}
TOPICS = {
    "init": r"self\.lora_[ABE] = ",
    "forward": r"def forward|h = \(x @|return self\.base",
    "scaling": r"self\.scaling = |self\.target_r = ",
    "trainable": r"requires_grad_|nn\.Parameter",
    "regularizer": r"def regularizer|eye = |_gram = |return self\.orth_reg_weight|self\.orth_reg_weight = ",
    "citation": r"arXiv:",
}
