"""What every hooklib adapter is: an nn.Module hung under its target linear as `linear.hooklib`, run by a hook."""

import math

import torch
from torch import nn


class Adapter(nn.Module):
    """One method's trainable (and frozen) tensors for one nn.Linear, and the hook that applies them.

    `input_side` adapters change the linear's input in a forward pre-hook (`pre_hook`); the others change its output
    in a forward hook (`hook`), which also sees the input. `shared` makes what all adapted layers of one model share
    (VeRA's random pair), once per `attach`; `undo` reverts what attaching changed in the linear itself.
    """

    input_side = False

    @classmethod
    def shared(cls, linears: list[nn.Linear], cfg):
        return None

    def hook(self, linear: nn.Linear, args: tuple, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def pre_hook(self, linear: nn.Linear, args: tuple) -> tuple:
        raise NotImplementedError

    def penalty(self) -> torch.Tensor | float:
        """The term this adapter adds to the training loss (0: none)."""
        return 0.0

    def undo(self, linear: nn.Linear) -> None:
        """Revert what attaching changed in `linear` (nothing, for most methods)."""


def kaiming_t(rows: int, fan_in: int, dtype: torch.dtype) -> torch.Tensor:
    """A (rows, fan_in) factor drawn as nn.Linear draws its weight, kaiming_uniform_(a=√5), i.e. U(±1/√fan_in), and
    returned transposed, (fan_in, rows): hooklib stores factors in the order the input meets them (x @ A @ B)."""
    t = torch.empty(rows, fan_in, dtype=dtype)
    nn.init.kaiming_uniform_(t, a=math.sqrt(5))
    return t.T.contiguous()
