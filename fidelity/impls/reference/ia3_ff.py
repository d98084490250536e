"""(IA)³ on the feed-forward down projection — Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better
and Cheaper than In-Context Learning", arXiv:2205.05638 (§3.3: (l_ff ⊙ γ(W1 x)) W2).

    y' = (x ⊙ g) Wᵀ + b,   x = γ(W1 x₀) the intermediate activation,   g: (1, d_in), one learned gain per d_ff feature

The gate multiplies W2's input, so W2's bias, added after the product, is untouched (W_eff = W diag(g), not the output
gate diag(g) W of ia3.py). Initialised with ones "so that the overall function computed by the model does not
change": identity at t=0 from g = 1 exactly (x · 1 == x). Gain shape as PEFT's IA3 with `feedforward_modules`
(compared with PEFT 0.21.2 by this suite).
"""

import torch
from torch import nn

from fidelity.impls.roles import flat


class Ia3FeedForwardLinear(nn.Module):
    ROLES = {"ia3_l": "gain"}
    ROLE_VIEWS = {"gain": flat}  # stored (1, d_in), as PEFT does

    def __init__(self, base: nn.Linear):
        super().__init__()
        self.base = base.requires_grad_(False)  # W2, b frozen: only the vector is learned
        d_in = base.weight.shape[1]
        self.ia3_l = nn.Parameter(torch.ones(1, d_in, dtype=base.weight.dtype))  # (1, d_in) l_ff = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in) = γ(W1 x₀)
        return self.base(x * self.ia3_l)  # (N, d_in) ⊙ (1, d_in), then W2: its bias is added after the gate


ADAPTERS = {"ia3_ff": Ia3FeedForwardLinear}
TOPICS = {
    "init": r"self\.ia3_l = ",
    "forward": r"def forward|return self\.base",
    "trainable": r"requires_grad_|nn\.Parameter",
    "citation": r"arXiv:",
}
