"""What every variant spec provides; the math itself lives in one small module per variant."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from fidelity.cases import LayerCase


@dataclass(frozen=True)
class Role:
    """A canonical trainable tensor: its role name and shape as a function of the layer case."""

    name: str
    shape: Callable[[LayerCase], tuple[int, ...]]
    meaning: str


@dataclass(frozen=True)
class VariantSpec:
    """A method as the suite understands it (see ../shared/spec/variants.md)."""

    name: str
    title: str
    papers: tuple[str, ...]  # arXiv ids of the papers whose claims apply, main paper first
    roles: tuple[Role, ...]
    zero_at_init: frozenset[str]  # roles that are exactly zero at init
    live_at_step0: frozenset[str]  # roles with a non-zero gradient at step 0; the others are exactly dead
    make_config: Callable[..., Any]  # (case, **options) -> the config the bindings receive
    scaling: Callable[[Any], float]  # config -> the scale of the delta the papers claim
    delta_weight: Callable[[dict[str, torch.Tensor], Any], torch.Tensor]  # roles (float64), config -> ΔW
    delta_weight_abs: Callable[[dict[str, torch.Tensor], Any], torch.Tensor]  # same on |roles|: the T-fwd scale
    inner_length: Callable[[LayerCase], int]  # longest accumulated inner product on the forward path
    random_state: Callable[[LayerCase, dict[str, torch.Tensor], torch.Tensor, Any], dict[str, torch.Tensor]]
    parameter_count: Callable[[LayerCase], int]
    claims: dict[str, Any] = field(default_factory=dict)  # claim id -> check instance
    # roles (float64), new rank -> the same update at a larger rank (zero rows/columns); None if meaningless
    pad_rank: Callable[[dict[str, torch.Tensor], int], dict[str, torch.Tensor]] | None = None

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(f"variant {self.name} has no role {name!r}")
