"""(IA)³ — Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context
Learning", arXiv:2205.05638 (§3.3: l_k ⊙ K and l_v ⊙ V on the attention's keys and values).

    y' = l ⊙ (W x + b),   l ∈ R^{d_out}, ones at init

The gain rescales the projection's whole output, bias included (the keys and values themselves), and starts at ones
"so that the overall function computed by the model does not change".
"""

from dataclasses import dataclass

import torch
from torch import nn

from hooklib.adapter import Adapter


@dataclass
class IA3Config:
    targets: tuple[str, ...] = ("k_proj", "v_proj")


class IA3(Adapter):
    def __init__(self, linear: nn.Linear, cfg: IA3Config, shared=None):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(linear.out_features, dtype=linear.weight.dtype))  # (d_out,) l = 1

    def hook(self, linear, args, out):
        return out * self.gain  # l ⊙ (W x + b)
