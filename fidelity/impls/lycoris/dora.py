"""LyCORIS's DoRA: `LoConModule(weight_decompose=True)` (network arg `dora_wd=True`) on an nn.Linear, with the
library's default `wd_on_out=True` (network arg `wd_on_output`): one magnitude per output row, `dora_scale` (d_out, 1),
which is the suite's reading of ‖·‖_c. Its `rs_lora` option is the suite's `use_rslora`. Attachment and constructor
choices: `_locon.py` (bypass_mode=None is the weight-rebuild path; LyCORIS's docs say weight decomposition "Will
force `bypass_mode=False`").

The forward (locon.py `forward`, functional/general.py `_weight_decompose`) rebuilds W' = (W + s B A) · m / (‖W + s B
A‖_row + eps) and returns org_forward(x) + x (W' − W)ᵀ, so the bias stays outside.

`wd_on_out=False`, the other setting, is not bound as a cell (the suite's dora has no option for it): it keeps one
magnitude per *input column*, `dora_scale` of shape (1, d_in), and divides by the column norms of W + s B A, i.e. the
literal m ∈ R^{1×k} reading the suite contrasts with (`input_column_norms`). Measured on the dora witness (d_in=32,
d_out=24, r=8, float64): `dora_scale` has shape (1, 32), so the role validation would reject it as the paper's (24,)
m; it equals ‖W0‖ per input column to 4.6e-7 (1.3e-7 relative: the float32 staging below), and at random A, B, m the
forward equals x (m ⊙ (V / ‖V‖_col))ᵀ + b, V = W + s B A, to 7e-15.

Not provided: `init_a="gaussian"` (LoConModule always draws lora_down with kaiming_uniform_(a=√5); no option changes
it).
"""

from __future__ import annotations

import torch

from fidelity.checks import Formula, InitValue
from fidelity.impls.base import Declaration
from fidelity.impls.lycoris import _locon
from fidelity.variants.dora import SMALL_NORMS, SMALL_TEXT, input_column_norms, output_row_norms, row_norm, scaled_delta

VARIANT = "dora"
DTYPES = ("float64", "float32", "bfloat16")

DORA_TEXT = ("### Weight Decompose\n* Enabled with `dora_wd=True`\n* Valid for LoRA, LoHa, and LoKr\n"
             "* Enable the DoRA method for these algorithms.\n* Will force `bypass_mode=False`")


def provides(options: dict) -> str | None:
    if options.get("init_a", "kaiming") != "kaiming":
        return ("LyCORIS has no Gaussian init for A: LoConModule always draws lora_down with "
                "kaiming_uniform_(a=√5) (locon.py __init__), whatever the options")
    return None


def attach(lib, model, targets, config, calibration=None):
    return _locon.attach(lib, model, targets, config, weight_decompose=True, wd_on_out=True)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from lycoris.functional import general
    from lycoris.modules import locon

    return {
        "init": (locon.LoConModule.__init__, r"org_weight = org_module\.weight\.cpu\(\)\.clone\(\)\.float\(\)|"
                 r"self\.dora_scale = nn\.Parameter|^\s+torch\.norm\($|org_weight\.reshape\(org_weight\.shape\[0\]|"
                 r"\)\.float\(\)$|kaiming_uniform_\(self\.lora_down|constant_\(self\.lora_up\.weight, 0\)", 0),
        "forward": (general._weight_decompose, r"def _weight_decompose|weight = weight\.to\(dora_scale\.dtype\)|"
                    r"\.norm\(dim=1\)$|\) \+ torch\.finfo\(weight\.dtype\)\.eps|scale = dora_scale\.to|"
                    r"return weight \* scale", 0),
        "trainable": _locon.trainable_source(),
        "merge": _locon.merge_source(),
        "citation": (locon.log_wd, r"LoRA \(DoRA\)", 0),
    }


def citation_text(options: dict) -> str:
    return DORA_TEXT


_STAGED = ("LyCORIS computes dora_scale from `org_module.weight.cpu().clone().float()`, so m = ‖W0‖_row is rounded "
           "to float32 before the module is cast to the layer's dtype: in a float64 layer it is off by up to 9.0e-8 "
           "relative (5.9e-7 absolute) on the dora witness; float32 layers are unaffected. Nothing in LyCORIS states it")
_STAGED_LINK = _locon.GITHUB + "lycoris/modules/locon.py#L117"
_EPS = ("LyCORIS divides by ‖W0 + s B A‖_row + finfo(dtype).eps (general.py `_weight_decompose`), so at B = 0 the "
        "scale m/(‖W0‖ + eps) is not 1: on the float32 extra witness (20→36, seed 1) it differs from 1 in 18 of 36 rows "
        "(0 of 36 without the eps) and the output at init differs from the base by 4.8e-7; in float64 the "
        "float32-staged m (locon.py:117, relative error up to 9e-8) makes it 1.5e-6 on the witness. The paper's "
        "W' = W0 at init is exact; the eager code states neither (the fused kernel's docstring, "
        "kernels/autograd/dora.py, mentions a 'finfo-eps guard' without saying it breaks the identity)")
_EPS_LINK = _locon.GITHUB + "lycoris/functional/general.py#L126"
_NORM_LINK = _locon.GITHUB + "lycoris/functional/general.py#L122"
_CITE_LINK = _locon.NETWORK_ARGS_DOC + "#L72"

def norm_plus_eps(state, cfg, dtype):
    """LyCORIS's forward exactly: W_eff = diag(m / (‖V + ∆V‖_c + finfo(dtype).eps)) (V + ∆V) (general.py:126)."""
    delta, delta_abs = scaled_delta(state, cfg)
    ratio = state["magnitude"] / (row_norm(state, cfg, True) + torch.finfo(dtype).eps)
    return ratio[:, None] * (state["weight"] + delta), ratio.abs()[:, None] * (state["weight"].abs() + delta_abs)


_EPS_FORMULA = Formula(reading=norm_plus_eps, reading_text="m / (‖V + ∆V‖_c + finfo(dtype).eps), LyCORIS's guard",
                       witnesses=SMALL_NORMS, witnesses_text=SMALL_TEXT)

DECLARATIONS = (
    *(Declaration(
        claim=claim,
        kind="known_bug",
        variant="dora",
        rationale="the same eps as at init: on layers with row norms ~1e-4 the forward departs from the paper's "
        "m V/‖V‖_c far above rounding, and equals m V/(‖V‖_c + finfo(dtype).eps) exactly; at unit norms it hides "
        "below rounding. " + _EPS,
        link=_EPS_LINK,
        signature=r"^forward pass differs from the paper's formula",
        alternative=_EPS_FORMULA,
    ) for claim in ("dora.decomposition", "dora.decomposition-rslora")),
    Declaration(
        claim="dora.magnitude-init",
        kind="known_bug",
        variant="dora",
        rationale=_STAGED,
        link=_STAGED_LINK,
        signature=r"'magnitude' at init differs from ‖W0‖_c per output feature",
        alternative=InitValue(role="magnitude", expected=output_row_norms,
                              text="‖W0‖_c per output feature (row norms of W), rounded to float32", staged="float32",
                              contrast=input_column_norms, contrast_text="per-input-column"),
    ),
    Declaration(
        claim="dora.identity-at-init",
        kind="known_bug",
        variant="dora",
        rationale=_EPS,
        link=_EPS_LINK,
        signature=r"^at init the adapted output differs from the base output by up to",
    ),
    Declaration(
        claim="dora.norm-constant",
        kind="known_bug",
        variant="dora",
        rationale="the paper (§4.3) treats ‖V + ∆V‖_c as a constant, detached from the gradient graph; LyCORIS's "
        "_weight_decompose computes weight_norm from the live W + s B A without detach, so the gradients of A, B "
        "and m carry the norm's derivative: on the float32 extra witness the gradient of B is off the detached "
        "formula's by 4.9 (5.7e3× the tolerance) and equals the differentiated one (no comment or doc of LyCORIS "
        "mentions it)",
        link=_NORM_LINK,
        signature=r"they equal the norm differentiated reading",
    ),
    Declaration(
        claim="dora.merge",
        kind="known_bug",
        variant="dora",
        rationale="LyCORIS's merge, `merge_to(1.0)` (base.py), stores `get_merged_weight` = apply_weight_decompose(W0 + "
        "s B A) (locon.py:236), the same `_weight_decompose` as the forward, so the merged weight is m (V + ∆V)/"
        "(‖V + ∆V‖_c + finfo(dtype).eps), not the paper's m (V + ∆V)/‖V + ∆V‖_c (the bias is left alone, as the "
        "paper has it). Measured: on the small-norm witnesses (12→10, r=4, row norms ~1e-4) the merged weight is off "
        "the paper's by 125× the T-fwd tolerance in float64 and float32 (146× with bias, seed 7), and equals the eps "
        "reading to 0.0 (float64) and 0.022 (float32) of it; in the check's own draws it fails at ordinary row norms "
        "too (d_in=2, d_out=2, r=1, float64, smallest row norm 0.026: margin 1.72 from the paper, 0.0 from the eps "
        "reading); the merged weight equals the forward's effective weight to 9e-17 there. At unit norms it hides "
        "below rounding. Nothing in LyCORIS states the eps. " + _EPS,
        link=_EPS_LINK,
        signature=r"^the merged layer is not the paper's W_eff, b_eff: weight margin [^,]+, bias margin "
                  r"(≤ 1|0(\.\d+)?|1|\d(\.\d+)?e-\d+),",
    ),
    Declaration(
        claim="dora.citation",
        kind="known_bug",
        variant="dora",
        rationale="LyCORIS's docs and code name DoRA (network-args.md: 'Enable the DoRA method for these "
        "algorithms.', locon.py: 'weight_decompose=True with LoRA (DoRA)') but never its paper, arXiv:2402.09353",
        link=_CITE_LINK,
        signature=r"^no arXiv id in the implementation's text \(expected arXiv:2402\.09353\)",
    ),
)

# The implementation each declared alternative property must fail for
ALTERNATIVE_FAILS_FOR = {
    "dora.decomposition": "reference",  # the paper's norm, no eps: fails the eps reading at small norms
    "dora.decomposition-rslora": "reference",
    "dora.magnitude-init": "tests.mutants.dora:MagnitudeFrobenius",  # m = ‖W0‖_F/√d_out on every row
}
