"""LyCORIS's (IA)³ on the feed-forward down projection: `IA3Module(train_on_input=True)` (the `ia3` preset's mlp.fc2 /
ff.net.2), one gain per input feature, stored as the offset `weight` (d_in,) = l_ff − 1 and multiplied into W's
columns, i.e. into the layer's input. Attachment, the offset view and the constructor choices: `_ia3.py`.
"""

from __future__ import annotations

from fidelity.impls.lycoris import _ia3

VARIANT = "ia3_ff"
DTYPES = ("float64", "float32", "bfloat16")


def attach(lib, model, targets, config, calibration=None):
    return _ia3.attach(lib, model, targets, config, on_input=True)


def sources() -> dict:
    return _ia3.sources(on_input=True)


def citation_text(options: dict) -> str:
    return _ia3.IA3_REF


DECLARATIONS = ()
