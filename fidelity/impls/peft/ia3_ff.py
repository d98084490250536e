"""PEFT's (IA)³ on the feed-forward down projection: `IA3Config(target_modules=["lin"], feedforward_modules=["lin"])`,
the gain multiplied into the layer's input (`ia3_l.default`, shape (1, d_in)), initialised with ones. The options
left out (`init_ia3_weights=False`, `fan_in_fan_out`) are discussed in `ia3.py`.
"""

from __future__ import annotations

from fidelity.impls.peft.ia3 import ia3_citation_text, ia3_config, ia3_sources
from fidelity.impls.roles import flat

VARIANT = "ia3_ff"
ROLE_NAMES = {"ia3_l.default": "gain"}
ROLE_VIEWS = {"gain": flat}  # stored (1, d_in)
DTYPES = ("float64", "float32", "bfloat16")


def peft_config(peft, config):
    return ia3_config(peft, feedforward=True)


def sources() -> dict:
    return ia3_sources(feedforward=True)


def citation_text(options: dict) -> str:
    return ia3_citation_text()


DECLARATIONS = ()
