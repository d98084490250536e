"""LyCORIS's (IA)³ on a key or value projection: `IA3Module(train_on_input=False)` (algo=ia3, the default side; the
`ia3` preset's k_proj/v_proj), one gain per output feature, stored as the offset `weight` (d_out,) = l − 1.
Attachment, the offset view and the constructor choices: `_ia3.py`. The feed-forward form is `ia3_ff.py`.

The default path (bypass_mode=None on a plain nn.Linear) adds x (W·(l − 1) row-wise)ᵀ to the base output, so the
projection's bias is *not* scaled by the gain: y = diag(l) W x + b, where the paper gates the keys and values
themselves, l ⊙ (W x + b). A known bug below (nothing in LyCORIS states it). With `bypass_mode=True` (docs: "Valid for
LoRA, LoHa, LoKr", designed for quantised layers; not bound) the forward is `_channel_scale(org_forward(x))` and the
bias is scaled: measured 0.0 from l ⊙ (W x + b) on the ia3 witness, against 0.33 for the default path.

Citation: quoted from LyCORIS's docs (docs/algorithms/README.md), the installed package names no paper.
"""

from __future__ import annotations

from fidelity.impls.base import Declaration
from fidelity.impls.lycoris import _ia3

VARIANT = "ia3"
DTYPES = ("float64", "float32", "bfloat16")


def attach(lib, model, targets, config, calibration=None):
    return _ia3.attach(lib, model, targets, config, on_input=False)


def sources() -> dict:
    return _ia3.sources(on_input=False)


def citation_text(options: dict) -> str:
    return _ia3.IA3_REF


_UNSCALED = ("LyCORIS's IA3Module (default weight-rebuild path) computes org_forward(x) + x (W·(l − 1))ᵀ: the gain "
             "scales W's rows only and the bias passes through, y = diag(l) W x + b; the paper rescales the keys and "
             "values themselves, l ⊙ (W x + b). On the ia3 witness (16→40, float64, l ~ U(0.5, 1.5)) the effective "
             "bias is off by up to 0.457 = |l_i − 1| |b_i| while the effective weight matches; nothing in LyCORIS "
             "states it (its merge, `get_merged_weight`, likewise scales W only)")
_UNSCALED_LINK = _ia3.GITHUB + "lycoris/modules/ia3.py#L167"

DECLARATIONS = (
    Declaration(claim="ia3.kv-output-gate", kind="known_bug", variant="ia3", rationale=_UNSCALED,
                link=_UNSCALED_LINK, signature=r"effective-weight margin (0(\.\d+)?|\d(\.\d+)?e-\d+|1), bias margin"),
    Declaration(claim="ia3.bias-scaled", kind="known_bug", variant="ia3", rationale=_UNSCALED,
                link=_UNSCALED_LINK, signature=r"it equals the bias unscaled reading"),
)
