"""RoAd — Liao & Monz 2024, "3-in-1: 2D Rotary Adaptation for Efficient Finetuning, Efficient Batching and
Composability", arXiv:2409.00119 (§3.2, Eq. 2–4, Table 1).

    z = R h,  h = W x + b,  R_i = [[α11 cos θ11, −α12 sin θ12], [α21 sin θ21, α22 cos θ22]] on outputs (2i−1, 2i)
    computed as Eq. (4): z = R1 ⊗ h + R2 ⊗ ĥ,  ĥ = (−h2, h1, −h4, h3, …)

RoAd1 shares one (α, θ) per block (d_out/2 each), RoAd2 one per row of a block (d_out), RoAd4 one per entry (2 d_out,
stored per group of group_size outputs: diagonal entries, then off-diagonal ones, PEFT's order). R rotates the layer's
output, bias included. Identity at t=0 from α = 1, θ = 0 ("we always initialize αi = 1 and θi = 0"): R1 = 1 and R2 = 0
exactly. layout="half_group" pairs output i with i + g/2 inside each group instead of adjacent outputs (PEFT's
layout). Compared with PEFT 0.21.2 (`RoadConfig`) by this suite.
"""

import torch
from torch import nn

SHARING = {"road_1": 1, "road_2": 2, "road_4": 4}  # Table 1: (α, θ) per block of two output rows


class RoadLinear(nn.Module):
    ROLES = {"road_theta": "angle", "road_alpha": "magnitude"}

    def __init__(self, base: nn.Linear, group_size: int, variant: str = "road_1", layout: str = "adjacent"):
        super().__init__()
        self.base = base.requires_grad_(False)  # W0 frozen
        d_out = base.weight.shape[0]
        if group_size <= 0 or group_size % 2 or d_out % group_size:
            raise ValueError(f"RoAd needs an even group_size that divides d_out = {d_out}; got {group_size}")
        if variant not in SHARING or layout not in ("adjacent", "half_group"):
            raise ValueError(f"unknown RoAd variant {variant!r} or layout {layout!r}")
        self.variant, self.group_size = variant, group_size
        if layout == "adjacent":  # §3.2: "dimensions 2i − 1 and 2i"
            top = torch.arange(0, d_out, 2)  # (d_out/2,)
            bottom = top + 1
        else:  # element i of each group pairs with i + g/2
            top = (torch.arange(0, d_out, group_size)[:, None] + torch.arange(group_size // 2)).flatten()
            bottom = top + group_size // 2
        self.partner = torch.empty(d_out, dtype=torch.long)  # (d_out,) the other row of each block
        self.partner[top], self.partner[bottom] = bottom, top
        self.sign = torch.ones(d_out, dtype=base.weight.dtype)  # (d_out,) −1 on the top rows: ĥ_top = −h_bottom
        self.sign[top] = -1
        self.block = torch.empty(d_out, dtype=torch.long)  # (d_out,) block index of each row
        self.block[top] = self.block[bottom] = torch.arange(d_out // 2)
        size = SHARING[variant] * d_out // 2
        self.road_theta = nn.Parameter(torch.zeros(size, dtype=base.weight.dtype))  # (r·d_out/2,) θ = 0
        self.road_alpha = nn.Parameter(torch.ones(size, dtype=base.weight.dtype))  # (r·d_out/2,) α = 1

    def rows(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A parameter vector spread over the rows: (its diagonal entry's value, its off-diagonal entry's), (d_out,)."""
        if self.variant == "road_1":  # Table 1: α_{i,11} = α_{i,12} = α_{i,21} = α_{i,22}
            return v[self.block], v[self.block]
        if self.variant == "road_2":  # one per row of a block
            return v, v
        v = v.reshape(-1, 2, self.group_size)  # road_4: (groups, diagonal | off-diagonal, g)
        return v[:, 0].flatten(), v[:, 1].flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        h = self.base(x)  # (N, d_out) the layer's output, bias included
        (alpha_d, alpha_o), (theta_d, theta_o) = self.rows(self.road_alpha), self.rows(self.road_theta)
        r1 = alpha_d * torch.cos(theta_d)  # (d_out,) diagonal of R
        r2 = alpha_o * torch.sin(theta_o)  # (d_out,) off-diagonal of R, by row
        h_hat = self.sign * h[:, self.partner]  # (N, d_out) ĥ = (−h2, h1, −h4, h3, …) in the pair layout
        return r1 * h + r2 * h_hat  # Eq. (4)


ADAPTERS = {"road": RoadLinear}
TOPICS = {
    "init": r"self\.road_(theta|alpha) = |raise ValueError",
    "forward": r"def forward|h = self\.base|r1 = |r2 = |h_hat = |return r1|top = torch\.arange\(0, d_out, 2\)|"
               r"bottom = top \+ 1|self\.sign\[top\]|return v\[self\.block\]|return v, v|v\.reshape\(-1, 2",
    "trainable": r"requires_grad_|nn\.Parameter",
    "citation": r"arXiv:",
}
