"""DoRA: Liu et al. 2024, "DoRA: Weight-Decomposed Low-Rank Adaptation", arXiv:2402.09353 (§4.1 Eq. 5, §4.3).

    W_eff = diag(m / stopgrad(‖W + s B A‖_row)) (W + s B A),   b_eff = b,   s = α/r (α/√r with rsLoRA)
    A: (r, d_in) down,  B: (d_out, r) up,  m: (d_out,) magnitude

Reading of the paper's ‖·‖_c ("the vector-wise norm of a matrix across each column", m ∈ R^{1×k} for W0 ∈ R^{d×k}):
literally one norm per *input* column with LoRA's d = d_out, k = d_in; the authors clarified that their W is stored
(in, out) and the norm is per output feature (nbasyl/DoRA#1), which is what the suite claims: one magnitude per
output row of nn.Linear. Eq. (5) writes W0 + BA; DoRA builds on LoRA's update, so ∆V carries LoRA's s = α/r. The
bias is not part of the weight decomposition (Eq. 2), so it passes unscaled (history C.8). Identity at init: B = 0
and m = ‖W0‖_c make m/‖W0‖_c exactly 1; B and m are live at step 0, A dead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Bias, Citation, Formula, GradientPath, Identity, Influence, InitDistribution, InitValue,
                             Inventory, Liveness, Merge, ZeroSide)
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.lora import pad_rank, scaled_delta, scaling


@dataclass(frozen=True)
class DoraConfig:
    r: int
    alpha: float
    use_rslora: bool = False
    init_a: str = "kaiming"  # "gaussian": PEFT's init_lora_weights="gaussian", A ~ N(0, 1/r)


def row_norm(state, cfg, detach: bool = True) -> torch.Tensor:
    """‖W + s B A‖ per output row (d_out,), a constant for autograd as §4.3 says (detach=False: differentiated)."""
    norm = torch.linalg.norm(state["weight"] + scaling(cfg) * state["up"] @ state["down"], dim=1)
    return norm.detach() if detach else norm


def _weight(state, cfg, detach: bool):
    delta, delta_abs = scaled_delta(state, cfg)
    ratio = state["magnitude"] / row_norm(state, cfg, detach)  # (d_out,)
    return ratio[:, None] * (state["weight"] + delta), ratio.abs()[:, None] * (state["weight"].abs() + delta_abs)


def effective_weight(state, cfg):
    """W_eff = diag(m / ‖V + ∆V‖_c) (V + ∆V), V = W, ∆V = s B A, with the norm detached (§4.3)."""
    return _weight(state, cfg, detach=True)


def norm_differentiated(state, cfg):
    """The rival reading of K15: the same forward, with the gradient flowing through ‖V + ∆V‖_c (history C.9)."""
    return _weight(state, cfg, detach=False)


def bias_scaled(state, cfg, b):
    """The rival reading of K16 (history C.8): the bias scaled by m / ‖V + ∆V‖_c along with W x."""
    return state["magnitude"] / row_norm(state, cfg) * b


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """A ~ N(0, 1/√d_in); B ~ N(0, 1) with ‖s B A‖_F = 0.3 ‖W‖_F; m = ‖W‖_row ⊙ U(0.5, 1.5) (claim-kinds.md §1.4)."""
    gen = case.generator(stream=4)
    down = torch.randn(case.r, case.d_in, generator=gen, dtype=torch.float64) / math.sqrt(case.d_in)
    up = torch.randn(case.d_out, case.r, generator=gen, dtype=torch.float64)
    up *= 0.3 * weight.norm() / (scaling(cfg) * (up @ down).norm())
    magnitude = torch.linalg.norm(weight, dim=1) * (0.5 + torch.rand(case.d_out, generator=gen, dtype=torch.float64))
    return {"down": down, "up": up, "magnitude": magnitude}


def output_row_norms(case, weight, cfg) -> torch.Tensor:
    """m at init: ‖W0‖_c read per output feature, one norm of each row of nn.Linear's weight (d_out,)."""
    return torch.linalg.norm(weight, dim=1)


def input_column_norms(case, weight, cfg) -> torch.Tensor:
    """The literal reading of m ∈ R^{1×k} with LoRA's W0 ∈ R^{d×k}: one norm per input column (d_in,)."""
    return torch.linalg.norm(weight, dim=0)


# The decomposition divides by ‖V + ∆V‖_c at any scale: layers with row norms ~1e-4 (W, ∆V and m all scale together,
# so W_eff does not change with the scale; no bias, whose own scale would swamp the weight's), where a "+ eps" in the
# norm departs from the formula by 1e-12 (float64) and 1e-3 (float32) relative, far above rounding; at unit norms the
# same departure hides below it
SMALL_NORMS = (LayerCase(d_in=12, d_out=10, r=4, alpha=8.0, dtype="float64", bias=False, seed=3, spectrum="small"),
               LayerCase(d_in=12, d_out=10, r=4, alpha=8.0, dtype="float32", bias=False, seed=3, spectrum="small"))
SMALL_TEXT = "row norms ~1e-4 in float64 and float32"
RSLORA = {"use_rslora": True}
GAUSSIAN_A = {"init_a": "gaussian"}
DTYPES = ("float64", "float32", "bfloat16")

SPEC = VariantSpec(
    name="dora",
    title="DoRA (weight-decomposed low-rank adaptation)",
    papers=("2402.09353",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in)"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r)"),
        Role("magnitude", lambda c: (c.d_out,), "m (d_out,), one per output feature"),
    ),
    zero_at_init=frozenset({"up"}),
    live_at_step0=frozenset({"up", "magnitude"}),
    make_config=lambda case, **options: DoraConfig(r=case.r, alpha=case.alpha, **options),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=scaling,
    # V = W + s B A (r products and a sum), its row norms (d_in squares, a root), m / ‖V‖ and its product with V,
    # then x W_effᵀ (d_in): 2 d_in + r + 4 (with d_in + r, the paper-faithful reference reached 0.73 of the bound at
    # d_in = 2)
    inner_length=lambda case: 2 * case.d_in + case.r + 4,
    random_state=random_state,
    parameter_count=lambda case: case.r * (case.d_in + case.d_out) + case.d_out,
    pad_rank=pad_rank,
    # Rows and columns of W on different scales (cases.py "uneven"): a norm over the wrong axis is far off
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="uneven"),
    extra_witnesses=(LayerCase(d_in=20, d_out=36, r=4, alpha=8.0, dtype="float32", seed=1, spectrum="uneven"),),
    cases=lambda: layer_cases(spectrum="uneven"),
    claims={
        "dora.decomposition": Formula(witnesses=SMALL_NORMS, witnesses_text=SMALL_TEXT),
        "dora.decomposition-rslora": Formula(options=RSLORA, witnesses=SMALL_NORMS, witnesses_text=SMALL_TEXT),
        "dora.decomposition-gaussian-a": Formula(options=GAUSSIAN_A, witnesses=SMALL_NORMS, witnesses_text=SMALL_TEXT),
        "dora.magnitude-init": InitValue(role="magnitude", expected=output_row_norms,
                                         text="‖W0‖_c per output feature (row norms of W)",
                                         contrast=input_column_norms, contrast_text="per-input-column"),
        "dora.trainable": Inventory(dtypes=DTYPES),
        "dora.zero-init": ZeroSide(),
        "dora.kaiming-a": InitDistribution(role="down", family="kaiming_uniform"),
        "dora.identity-at-init": Identity(),
        "dora.identity-gaussian-a": Identity(options=GAUSSIAN_A),
        "dora.step0-gradient": Liveness(),
        "dora.norm-constant": GradientPath(contrast=norm_differentiated, contrast_text="norm differentiated"),
        "dora.bias-outside": Bias(contrast=bias_scaled, contrast_text="bias scaled by m/‖V + ∆V‖_c"),
        "dora.influence": Influence(),
        "dora.merge": Merge(witnesses=SMALL_NORMS, witnesses_text=SMALL_TEXT),
        "dora.citation": Citation(paper="2402.09353"),
    },
)
