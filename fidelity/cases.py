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
    k: int = 0  # inner rank of a core inside the adapter (antipasto_dplr's LoRA core); 0 when there is none
    coeff: float = 1.0  # runtime steering coefficient (AntiPaSTO family)
    spectrum: str = "flat"  # the base weight W, see `base_layer`: "flat", "gapped", "uneven", "identity" or "small"
    group: int = 0  # group size of a grouped adapter (RoAd's pairs live inside groups); 0 when there is none

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def generator(self, stream: int = 0) -> torch.Generator:
        """A fresh generator for one named use of randomness within this case."""
        return torch.Generator().manual_seed(self.seed * 1009 + stream)

    def with_(self, **changes) -> "LayerCase":
        return replace(self, **changes)

    def __str__(self) -> str:
        extra = (f", k={self.k}" if self.k else "") + (f", coeff={self.coeff:g}" if self.coeff != 1.0 else "") + \
            (f", group={self.group}" if self.group else "")
        return (
            f"d_in={self.d_in}, d_out={self.d_out}, r={self.r}, alpha={self.alpha:g}, dtype={self.dtype}, "
            f"bias={self.bias}, seed={self.seed}, rows={self.rows}{extra}, spectrum={self.spectrum}"
        )


# The paper's own hyper-parameters (LoRA §4.1/§7: r = 8, α = 16) on a non-square layer: every claim's
# deterministic witness, run first in every profile.
PAPER_WITNESS = LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, dtype="float64", bias=True, seed=0, rows=4)


# α: 1…64, or tied to the rank (r/2, r, 2r) half the time; one integer draw (a hypothesis draw costs ~70 µs, and a
# case is drawn for every example: one draw per independent choice, no one_of/map/sampled_from nesting)
_ALPHA = st.integers(0, 127)
_COEFFS = (1.0, -1.0, 0.25, 3.0, -2.5)


@st.composite
def layer_cases(draw, dtypes: tuple[str, ...] = ("float64", "float32"), max_dim: int = 48,
                spectrum: str = "flat", core: bool = False) -> LayerCase:
    """Layers with d_in, d_out in [2, max_dim] drawn independently, 1 ≤ r ≤ min, α in [1, 64] or {r/2, r, 2r}.

    With a gapped spectrum r < min(d_in, d_out), so a tail exists; with a core, 1 ≤ k ≤ r and coeff in
    ±[0.25, 3] (never 0: a zero coefficient switches the adapter off). Each choice is one integer draw, so a
    falsifying example shrinks towards small layers, α = 1, the first dtype with a bias, seed 0 and one row.
    """
    d_in = draw(st.integers(2, max_dim), label="d_in")
    d_out = draw(st.integers(2, max_dim), label="d_out")
    r = draw(st.integers(1, min(d_in, d_out) - (1 if spectrum == "gapped" else 0)), label="r")
    a = draw(_ALPHA, label="alpha")
    alpha = float(a + 1) if a < 64 else (r / 2, float(r), 2.0 * r)[a % 3]
    extra = {}
    if core:
        extra["k"] = draw(st.integers(1, r), label="k")
        extra["coeff"] = _COEFFS[draw(st.integers(0, len(_COEFFS) - 1), label="coeff")]
    kind = draw(st.integers(0, 2 * len(dtypes) - 1), label="dtype and bias")
    seed_rows = draw(st.integers(0, 8 * 2**16 + 7), label="seed and rows")
    return LayerCase(spectrum=spectrum, **extra, d_in=d_in, d_out=d_out, r=r, alpha=alpha, dtype=dtypes[kind // 2],
                     bias=kind % 2 == 0, seed=seed_rows // 8, rows=1 + seed_rows % 8)


def seed_torch(seed: int) -> None:
    """Seed torch's global CPU generator, which an implementation's own init draws from (Kaiming A, …).

    `torch.manual_seed` also queues lazy seeding of every accelerator backend, formatting a stack trace each time
    (about 2 ms a call, a quarter of a cheap example's cost); the CPU generator is all a CPU build draws from.
    """
    torch.default_generator.manual_seed(seed)


def gapped_weight(case: LayerCase, gen: torch.Generator) -> torch.Tensor:
    """W = Q1 diag(σ) Q2ᵀ: σ_1..σ_r in [1+γ, 2+γ]·c, the tail in [0.05, 1]·c, γ in [0.5, 2], c in [0.1, 10].

    The relative gap (σ_r − σ_(r+1)) / σ_1 ≥ γ / (2 + γ) ≥ 1/5, so the top-r subspaces are well defined and a
    Davis–Kahan tolerance is meaningful (claim-kinds.md §1.2).
    """
    n = min(case.d_in, case.d_out)

    def orthonormal(rows: int) -> torch.Tensor:
        q, rr = torch.linalg.qr(torch.randn(rows, n, generator=gen, dtype=torch.float64))
        return q * torch.sign(torch.diagonal(rr))

    gap = 0.5 + 1.5 * float(torch.rand(1, generator=gen, dtype=torch.float64))
    scale = 10 ** (2 * float(torch.rand(1, generator=gen, dtype=torch.float64)) - 1)
    head = (1 + gap + torch.rand(case.r, generator=gen, dtype=torch.float64)).sort(descending=True).values
    tail = (0.05 + 0.95 * torch.rand(n - case.r, generator=gen, dtype=torch.float64)).sort(descending=True).values
    sigma = torch.cat([head, tail]) * scale
    return orthonormal(case.d_out) @ torch.diag(sigma) @ orthonormal(case.d_in).T


def uneven_weight(case: LayerCase, gen: torch.Generator) -> torch.Tensor:
    """Kaiming-uniform W with its rows and its columns each scaled by 10^U(−1, 1) (claim-kinds.md §1.2).

    Row norms and column norms then spread over two decades and differ from each other and from ‖W‖_F / √n, so
    a norm taken over the wrong axis (DoRA's per-output-row magnitude, DeLoRA's per-input-column ‖W‖) or a scalar
    norm in place of per-channel ones changes the output by far more than rounding.
    """
    flat = (torch.rand(case.d_out, case.d_in, generator=gen, dtype=torch.float64) * 2 - 1) * case.d_in**-0.5
    rows = 10 ** (2 * torch.rand(case.d_out, 1, generator=gen, dtype=torch.float64) - 1)
    cols = 10 ** (2 * torch.rand(1, case.d_in, generator=gen, dtype=torch.float64) - 1)
    return flat * rows * cols


def base_layer(case: LayerCase) -> torch.nn.Linear:
    """The layer to adapt, with a bias at the scale of x Wᵀ. W by `case.spectrum`: "flat" Kaiming-uniform (torch's
    default), "gapped" (a gap after σ_r), "uneven" (rows and columns on different scales) or "identity" (the
    rectangular identity: on a square layer W_eff is then the adapter's own transform, §1.2 structured weights) or
    "small" (flat scaled by 2^-12: a normalisation that is exact only at unit scale, ‖V‖ + eps, shows far above
    rounding)."""
    gen = case.generator(stream=1)
    layer = torch.nn.Linear(case.d_in, case.d_out, bias=case.bias, dtype=case.torch_dtype)
    bound = case.d_in**-0.5
    with torch.no_grad():
        if case.spectrum == "gapped":
            layer.weight.copy_(gapped_weight(case, gen))
        elif case.spectrum == "uneven":
            layer.weight.copy_(uneven_weight(case, gen))
        elif case.spectrum == "small":  # flat × 2^-12 (exact): row norms ~1e-4, where a norm's "+ eps" guard shows
            layer.weight.copy_((torch.rand(case.d_out, case.d_in, generator=gen, dtype=torch.float64) * 2 - 1)
                               * bound * 2.0**-12)
        elif case.spectrum == "identity":
            layer.weight.copy_(torch.eye(case.d_out, case.d_in, dtype=torch.float64))
        else:
            layer.weight.copy_((torch.rand(case.d_out, case.d_in, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        if case.bias:
            layer.bias.copy_(torch.randn(case.d_out, generator=gen, dtype=torch.float64) * 0.5)
    return layer


def inputs(case: LayerCase) -> torch.Tensor:
    """A Gaussian input batch of `case.rows` rows."""
    return torch.randn(case.rows, case.d_in, generator=case.generator(stream=2), dtype=torch.float64).to(
        case.torch_dtype
    )
