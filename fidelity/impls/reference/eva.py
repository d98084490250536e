"""EVA — Paischer et al. 2024, "One Initialization to Rule them All: Fine-tuning via Explained Variance Adaptation",
arXiv:2410.07170 (data-driven initialization, then standard LoRA fine-tuning; LoRA: Hu et al. 2021, arXiv:2106.09685).

    A = Vh_r of (X − 1 x̄ᵀ) = U Σ Vh,   B = 0,   h = W0 x + b + (α/r) B A x

A holds the top-r principal directions (right singular vectors of the centred calibration inputs X of this layer,
orthonormal rows); identity at t=0 from B = 0. The data are required: no data, or fewer than r rows, raise. One
exact SVD of all rows replaces the paper's incremental SVD over minibatches; the rank is uniform (no explained-
variance redistribution across layers: a single layer keeps its budget r). Compared with PEFT 0.21.2
(`init_lora_weights="eva"`, an incremental randomized PCA) by this suite.
"""

import torch
from torch import nn


class EvaLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up"}

    def __init__(self, base: nn.Linear, r: int, alpha: float, calibration: torch.Tensor | None = None,
                 rho: float = 1.0, whiten: bool = False, adjust_scaling_factors: bool = True):
        # rho sets how many components each layer may take (round(r·rho)) under the total budget r·(layers); one
        # layer's budget is r, so its rank is r whatever rho, and adjust_scaling_factors (α_l = α·r_l/r) leaves α/r.
        super().__init__()
        d_out, d_in = base.weight.shape
        if calibration is None:
            raise ValueError("EVA initialises A from calibration data: pass the layer's input rows (N, d_in) as "
                             "`calibration`")
        x = calibration.detach().reshape(-1, d_in).to(torch.float64)  # (N, d_in) this layer's inputs
        if x.shape[0] < r:
            raise ValueError(f"EVA needs at least r = {r} calibration rows for a rank-{r} init, got {x.shape[0]}")
        self.base = base.requires_grad_(False)  # W0 frozen
        dtype = base.weight.dtype
        self.scaling = alpha / r
        _, s, vh = torch.linalg.svd(x - x.mean(dim=0), full_matrices=False)  # (min(N, d_in), d_in) principal axes
        a = vh[:r] / s[:r].sqrt()[:, None] if whiten else vh[:r]  # whiten: row i is v_i / √σ_i
        self.lora_A = nn.Parameter(a.to(dtype))  # (r, d_in) down, orthonormal rows unless whitened, trainable
        self.lora_B = nn.Parameter(torch.zeros(d_out, r, dtype=dtype))  # (d_out, r) up, zero: ΔW = 0 at init

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) + self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out)


ADAPTERS = {"eva": EvaLinear}
