"""DoRA — Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation", arXiv:2402.09353 (§4.1 Eq. 5, §4.3).

    W' = m · (W0 + s B A) / ‖W0 + s B A‖_c,   h = W' x + b,   s = α/r (LoRA's scaling; α/√r with rsLoRA)

‖·‖_c is one norm per output feature (row i of nn.Linear's weight), the reading the authors confirmed
(nbasyl/DoRA#1); m starts at ‖W0‖_c, so W' = W0 and the layer is an identity at t=0 (B = 0, m/‖W0‖_c = 1 exactly).
The norm is a constant for autograd (§4.3), and the bias is outside the weight decomposition. A is Kaiming-uniform,
as the paper says (§3.1). Compared with PEFT 0.21.2 (`use_dora=True`) by this suite.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


class DoraLinear(nn.Module):
    ROLES = {"lora_A": "down", "lora_B": "up", "lora_m": "magnitude"}

    def __init__(self, base: nn.Linear, r: int, alpha: float, use_rslora: bool = False, init_a: str = "kaiming"):
        super().__init__()
        self.base = base.requires_grad_(False)  # V = W0 frozen (§4.1)
        d_out, d_in = base.weight.shape
        dtype = base.weight.dtype
        self.scaling = alpha / math.sqrt(r) if use_rslora else alpha / r
        self.lora_A = nn.Parameter(torch.empty(r, d_in, dtype=dtype))  # (r, d_in) down
        if init_a == "gaussian":  # PEFT's init_lora_weights="gaussian" option
            nn.init.normal_(self.lora_A, std=1 / r)
        else:  # §3.1: "The matrix A is initialized with uniform Kaiming distribution"
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(d_out, r, dtype=dtype))  # (d_out, r) up, zero
        self.lora_m = nn.Parameter(torch.linalg.norm(base.weight.detach(), dim=1))  # (d_out,) m = ‖W0‖_c

    def column_norm(self) -> torch.Tensor:
        """‖W0 + s B A‖_c per output row, detached: a constant for the gradient (§4.3)."""
        direction = self.base.weight + self.scaling * self.lora_B @ self.lora_A  # (d_out, d_in) V + ∆V
        return torch.linalg.norm(direction, dim=1).detach()  # (d_out,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        scale = self.lora_m / self.column_norm()  # (d_out,) m / ‖V + ∆V‖_c, exactly 1 at init
        lora = self.scaling * (x @ self.lora_A.T) @ self.lora_B.T  # (N, d_out) s B A x
        # W' x + b = W0 x + b + (scale − 1) W0 x + scale · s B A x: the bias stays outside the decomposition
        return self.base(x) + (scale - 1) * F.linear(x, self.base.weight) + scale * lora

    def merged(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """§4.1: DoRA "can be merged with the pre-trained weight before inference": W' = m (V + ∆V)/‖V + ∆V‖_c, the
        bias unchanged."""
        direction = self.base.weight + self.scaling * self.lora_B @ self.lora_A
        return (self.lora_m / self.column_norm())[:, None] * direction, self.base.bias


ADAPTERS = {"dora": DoraLinear}
TOPICS = {
    "init": r"self\.lora_[ABm] = |init\.(normal_|kaiming)",
    "forward": r"def forward|direction = |return torch\.linalg\.norm|scale = |lora = |return self\.base",
    "merge": r"def merged|direction = |return \(self\.lora_m",
    "trainable": r"requires_grad_|nn\.Parameter",
}
