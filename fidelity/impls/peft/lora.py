"""PEFT's LoRA (`LoraConfig`, default init) and its rsLoRA option (`use_rslora=True`)."""

from __future__ import annotations

from fidelity.checks import InitDistribution
from fidelity.impls.base import Declaration

VARIANT = "lora"
ROLE_NAMES = {"lora_A.default.weight": "down", "lora_B.default.weight": "up"}
DTYPES = ("float64", "float32")


def peft_config(peft, config):
    return peft.LoraConfig(r=config.r, lora_alpha=config.alpha, use_rslora=config.use_rslora,
                           target_modules=["lin"], lora_dropout=0.0, init_lora_weights=True)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import merge_source, trainable_source
    from peft.tuners.lora import layer, model

    return {
        "init": (layer.LoraLayer.reset_lora_parameters, r"kaiming_uniform_|zeros_\(self\.lora_B\[", 0),
        "scaling": (layer.LoraLayer.update_layer, r"self\.scaling\[adapter_name\] = |if use_rslora", 0),
        "forward": (layer.Linear.forward, r"torch_result_dtype = result\.dtype|lora_B\(lora_A\(dropout", 1),
        "trainable": trainable_source(),
        "merge": merge_source(),
        "citation": (model.LoraModel, r"2106\.09685", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.lora import config, model

    if options.get("use_rslora"):
        return config.LoraConfig.__dataclass_fields__["use_rslora"].metadata["help"]
    return model.LoraModel.__doc__ or ""


DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a",
        kind="deviation",
        variant="lora",
        rationale="PEFT draws A with kaiming_uniform_(a=√5), following the authors' reference code "
        "(microsoft/LoRA loralib/layers.py) rather than the paper's text; what the paper relies on, "
        "ΔW = BA = 0 at init with a random down-projection, is kept",
        alternative=InitDistribution(role="down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
        link="https://github.com/huggingface/peft/issues/1060",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "lora.gaussian-a": "reference",  # the paper's Gaussian A
}
