"""Roles in the paper's math, storage in the library's: how a binding hands the checks its tensors.

A check reads, writes and differentiates a role in the shape the paper writes it — IA3's g ∈ R^{d_out}, HRA's
U ∈ R^{d_in×r}, DeLoRA's scalar λ — whatever shape the library keeps it in. A binding gives each role either the live
tensor itself (when the library stores it as the paper writes it) or a `RoleView` of its own storage:

    roles = {"gain": flat(layer.ia3_l),            # stored (d_out, 1)
             "reflectors": transposed(layer.U),    # stored (r, d_in)
             "strength": scalar(layer.lam)}        # stored (1,)

A view is a function of the stored tensors that is linear in them (a transpose, reshape, slice, concatenation or a
constant factor): reads go through it, a write under `torch.no_grad()` lands in the storage, and a gradient is the
same function of the storage's gradients. Anything else gives a setter (and, if nonlinear, a gradient function).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

Tensor = torch.Tensor


class RoleError(Exception):
    """A binding's role cannot be read or written as declared (a view that does not write through, say)."""


class RoleView:
    """One role as a function of the library's stored tensors.

    `view(*storage)` gives the paper-shaped tensor, attached to the graph. A write copies into that view when it
    shares the storage's memory, else calls `setter(value)`; `gradient(*grads)` defaults to `view` (right for a
    linear view). The storage tensors are what the role's trainable parameters are.
    """

    def __init__(self, storage: Tensor | Sequence[Tensor], view: Callable[..., Tensor] = lambda t: t, *,
                 setter: Callable[[Tensor], None] | None = None, gradient: Callable[..., Tensor] | None = None,
                 how: str = ""):
        self.storage = (storage,) if isinstance(storage, Tensor) else tuple(storage)
        self.view = view
        self.setter = setter
        self.gradient = gradient or view
        self.how = how  # e.g. "transpose of a (r, d_in) tensor", for messages

    def read(self) -> Tensor:
        return self.view(*self.storage)

    def write(self, value: Tensor) -> None:
        """Set the role to `value` (in the storage's dtype); the storage is what the module computes with."""
        with torch.no_grad():
            if self.setter is not None:
                self.setter(value)
                return
            target = self.read()
            if tuple(target.shape) != tuple(value.shape):
                raise RoleError(f"cannot write a {tuple(value.shape)} value into a role of shape {tuple(target.shape)}")
            target.copy_(value.to(target.dtype))
            if not torch.equal(self.read(), value.to(target.dtype)):
                raise RoleError(f"the view {self.how or 'of this role'} does not write through to the storage "
                                "(give the RoleView a setter)")

    def grad(self) -> Tensor | None:
        """The gradient of the role after a backward pass, in the paper's shape; None when no storage has one."""
        grads = [s.grad for s in self.storage]
        if all(g is None for g in grads):
            return None
        return self.gradient(*(torch.zeros_like(s) if g is None else g for s, g in zip(self.storage, grads)))

    @property
    def requires_grad(self) -> bool:
        return any(s.requires_grad for s in self.storage)


def as_view(role: Tensor | RoleView) -> RoleView:
    """A binding's role entry as a view: a tensor stands for itself."""
    return role if isinstance(role, RoleView) else RoleView(role, how="as stored")


def transposed(t: Tensor) -> RoleView:
    """The paper's matrix is the transpose of the stored one (reflectors kept (r, d_in) for U ∈ R^{d_in×r})."""
    return RoleView(t, lambda s: s.T, how=f"transpose of a {tuple(t.shape)} tensor")


def reshaped(t: Tensor, *shape: int) -> RoleView:
    """The paper's tensor is the stored one in another shape (a (d_out, 1) gain for g ∈ R^{d_out})."""
    return RoleView(t, lambda s: s.view(*shape), how=f"{tuple(t.shape)} tensor viewed as {shape}")


def flat(t: Tensor) -> RoleView:
    """A vector stored with extra unit dimensions: (d_out, 1) or (1, d_in) for g ∈ R^{d}."""
    return RoleView(t, lambda s: s.view(-1), how=f"{tuple(t.shape)} tensor flattened")


def scalar(t: Tensor) -> RoleView:
    """A scalar stored as a one-element tensor, e.g. λ kept as shape (1,)."""
    return RoleView(t, lambda s: s.view(()), how=f"{tuple(t.shape)} tensor as a scalar")


def sliced(t: Tensor, index) -> RoleView:
    """A role stored as part of a larger tensor (A and B packed in one parameter, one head of several)."""
    return RoleView(t, lambda s: s[index], how=f"slice {index} of a {tuple(t.shape)} tensor")
