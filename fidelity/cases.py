"""What hypothesis draws: a layer case (shapes, rank, α, dtype, bias, seed), built constructively.

Everything random inside a check is derived from `case.seed` through explicit torch generators, so a
falsifying example replays exactly and shrinks (claim-kinds.md §1.2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from hypothesis import strategies as st

from fidelity.numerics import DTYPES


@dataclass(frozen=True)
class LayerCase:
    """One adapted `nn.Linear(d_in, d_out)` with rank `r` and scaling constant `alpha`."""

    d_in: int
    d_out: int
    r: int
    alpha: float
    dtype: str = "float64"
    bias: bool = True
    seed: int = 0
    rows: int = 4  # rows of the input batch x

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def generator(self, stream: int = 0) -> torch.Generator:
        """A fresh generator for one named use of randomness within this case."""
        return torch.Generator().manual_seed(self.seed * 1009 + stream)

    def with_(self, **changes) -> "LayerCase":
        return replace(self, **changes)

    def __str__(self) -> str:
        return (
            f"d_in={self.d_in}, d_out={self.d_out}, r={self.r}, alpha={self.alpha:g}, dtype={self.dtype}, "
            f"bias={self.bias}, seed={self.seed}, rows={self.rows}"
        )


# The paper's own hyper-parameters (LoRA §4.1/§7: r = 8, α = 16) on a non-square layer: every claim's
# deterministic witness, run first in every profile.
PAPER_WITNESS = LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, dtype="float64", bias=True, seed=0, rows=4)


@st.composite
def layer_cases(draw, dtypes: tuple[str, ...] = ("float64", "float32"), max_dim: int = 48) -> LayerCase:
    """Layers with d_in, d_out in [2, max_dim] drawn independently, 1 ≤ r ≤ min, α in [1, 64] or {r/2, r, 2r}."""
    d_in = draw(st.integers(2, max_dim), label="d_in")
    d_out = draw(st.integers(2, max_dim), label="d_out")
    r = draw(st.integers(1, min(d_in, d_out)), label="r")
    alpha = draw(st.one_of(st.integers(1, 64).map(float), st.sampled_from([r / 2, float(r), 2.0 * r])), label="alpha")
    return LayerCase(
        d_in=d_in,
        d_out=d_out,
        r=r,
        alpha=alpha,
        dtype=draw(st.sampled_from(dtypes), label="dtype"),
        bias=draw(st.booleans(), label="bias"),
        seed=draw(st.integers(0, 2**16), label="seed"),
        rows=draw(st.integers(1, 8), label="rows"),
    )


def base_layer(case: LayerCase) -> torch.nn.Linear:
    """The layer to adapt: Kaiming-uniform weight (torch's default) and a bias at the scale of x Wᵀ."""
    gen = case.generator(stream=1)
    layer = torch.nn.Linear(case.d_in, case.d_out, bias=case.bias, dtype=case.torch_dtype)
    bound = case.d_in**-0.5
    with torch.no_grad():
        layer.weight.copy_((torch.rand(case.d_out, case.d_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        if case.bias:
            layer.bias.copy_(torch.randn(case.d_out, generator=gen, dtype=torch.float64) * 0.5)
    return layer


def inputs(case: LayerCase) -> torch.Tensor:
    """A Gaussian input batch of `case.rows` rows."""
    return torch.randn(case.rows, case.d_in, generator=case.generator(stream=2), dtype=torch.float64).to(
        case.torch_dtype
    )
