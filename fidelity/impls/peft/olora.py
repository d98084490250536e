"""PEFT's OLoRA: `LoraConfig(init_lora_weights="olora")` (thin QR of W; B = Q_r, A = R_r, W ← W − s B A).

PEFT refuses float64 here (TypeError "Unsupported data type for the base layer"), so the suite runs these
cells in float32 and computes its references in float64 from the realised tensors.
"""

from __future__ import annotations

from fidelity.impls.base import Declaration
from fidelity.impls.peft.pissa import _init_help

VARIANT = "olora"
ROLE_NAMES = {"lora_A.default.weight": "down", "lora_B.default.weight": "up"}
DTYPES = ("float32",)


def peft_config(peft, config):
    return peft.LoraConfig(r=config.r, lora_alpha=config.alpha, target_modules=["lin"], lora_dropout=0.0,
                           init_lora_weights="olora")


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.lora import config, layer

    return {
        "init": (layer.LoraLayer.olora_init, r"scale_factor = |torch\.linalg\.qr\(|Qr, Rr = |weight\.data = [QR]r|"
                 r"weight_tensor\.data -= ", 0),
        "scaling": (layer.LoraLayer.olora_init, r"scale_factor = |weight_tensor\.data -= ", 0),
        "forward": (layer.Linear.forward, r"torch_result_dtype = result\.dtype|lora_B\(lora_A\(dropout", 1),
        "trainable": trainable_source(),
        "citation": (config.LoraConfig, r"Pass `'olora'`", 0),
    }


def citation_text(options: dict) -> str:
    return _init_help("Pass `'olora'`", "Passing `'pissa'`")


DECLARATIONS = (
    Declaration(
        claim="olora.citation", kind="known_bug", variant="olora",
        rationale="found by this suite, no upstream issue yet: PEFT's documentation of init_lora_weights='olora' "
        "('Pass `'olora'` to use OLoRA initialization.') names no paper — no arXiv id, author or year — where it "
        "cites PiSSA, EVA and CorDA",
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/lora/config.py#L499",
        signature=r"no arXiv id",
    ),
)
