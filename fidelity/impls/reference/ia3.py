"""(IA)³ on a key or value projection — Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and
Cheaper than In-Context Learning", arXiv:2205.05638 (§3.3: l_k ⊙ K, l_v ⊙ V).

    y' = (x Wᵀ + b) ⊙ g,   g: (d_out, 1), one learned gain per output feature

The gain rescales the keys/values themselves, bias included. "initialized with ones so that the overall function
computed by the model does not change": identity at t=0 from g = 1 exactly (y · 1 == y). The feed-forward gate, on the
down projection's input, is ia3_ff.py. Gain shape as PEFT's IA3 (compared with PEFT 0.21.2 by this suite).
"""

import torch
from torch import nn

from fidelity.impls.roles import flat


class Ia3Linear(nn.Module):
    ROLES = {"ia3_l": "gain"}
    ROLE_VIEWS = {"gain": flat}  # stored (d_out, 1), as PEFT does

    def __init__(self, base: nn.Linear):
        super().__init__()
        self.base = base.requires_grad_(False)  # W, b frozen: only the vector is learned
        d_out = base.weight.shape[0]
        self.ia3_l = nn.Parameter(torch.ones(d_out, 1, dtype=base.weight.dtype))  # (d_out, 1) l_k or l_v = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        return self.base(x) * self.ia3_l.T  # (N, d_out) ⊙ (1, d_out): K = x Wᵀ + b rescaled, bias included


ADAPTERS = {"ia3": Ia3Linear}
TOPICS = {
    "init": r"self\.ia3_l = ",
    "forward": r"def forward|return self\.base",
    "trainable": r"requires_grad_|nn\.Parameter",
    "citation": r"arXiv:",
}
