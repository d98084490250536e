"""Role views (fidelity/impls/roles.py): reads, writes and gradients reach the library's storage through the view, and
a view that does not write through is an error, never a silent no-op."""

from __future__ import annotations

import pytest
import torch

from fidelity.impls.roles import RoleError, RoleView, flat, reshaped, scalar, sliced, transposed


@pytest.mark.parametrize("make, paper_shape", [
    (lambda t: transposed(t), (3, 2)),
    (lambda t: flat(t), (6,)),
    (lambda t: reshaped(t, 3, 2), (3, 2)),
    (lambda t: sliced(t, (slice(None), slice(1, 3))), (2, 2)),
])
def test_a_view_reads_writes_and_differentiates_the_storage(make, paper_shape):
    storage = torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))
    view = make(storage)
    assert tuple(view.read().shape) == paper_shape
    value = torch.randn(paper_shape, dtype=torch.float64)
    view.write(value)  # float64 into float32 storage
    assert torch.equal(view.read(), value.float())
    weights = torch.randn(paper_shape)
    (view.read() * weights).sum().backward()
    assert torch.equal(view.grad(), weights)  # the gradient in the paper's shape, mapped back through the view


def test_a_scalar_and_a_setter():
    lam = torch.nn.Parameter(torch.tensor([15.0]))
    assert scalar(lam).read().shape == () and (scalar(lam).write(torch.tensor(0.5)) or lam.item() == 0.5)
    box = {"v": torch.zeros(2)}
    view = RoleView(box["v"], lambda s: s * 1.0, setter=lambda value: box.__setitem__("v", value.clone()))
    view.write(torch.ones(2))
    assert torch.equal(box["v"], torch.ones(2))


def test_a_view_that_does_not_write_through_is_an_error():
    storage = torch.zeros(2, 3)
    copy = RoleView(storage, lambda s: s.T.contiguous())  # a copy, not a view: a write would be lost
    with pytest.raises(RoleError, match="does not write through"):
        copy.write(torch.ones(3, 2))
    with pytest.raises(RoleError, match="cannot write a"):
        transposed(storage).write(torch.ones(2, 3))
