"""PEFT's DoRA: `LoraConfig(use_dora=True)` on top of the default LoRA init (Kaiming-uniform A) or
`init_lora_weights="gaussian"`, with or without `use_rslora`."""

from __future__ import annotations

VARIANT = "dora"
ROLE_NAMES = {"lora_A.default.weight": "down", "lora_B.default.weight": "up",
              "lora_magnitude_vector.default.weight": "magnitude"}
DTYPES = ("float64", "float32", "bfloat16")


def peft_config(peft, config):
    init = "gaussian" if config.init_a == "gaussian" else True
    return peft.LoraConfig(r=config.r, lora_alpha=config.alpha, use_rslora=config.use_rslora, use_dora=True,
                           target_modules=["lin"], lora_dropout=0.0, init_lora_weights=init)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import merge_source, trainable_source
    from peft.tuners.lora import config, dora

    return {
        "init": (dora.DoraLinearLayer.update_layer, r"lora_weight = lora_B @ lora_A|weight_norm = self\.get_weight_norm|"
                 r"self\.weight = nn\.Parameter", 0),
        "forward": (dora.DoraLinearLayer, r"weight = weight \+ scaling \* lora_weight|weight_norm = torch\.linalg\.norm|"
                    r"lora_weight=lora_weight\.detach\(\)|weight_norm = weight_norm\.detach\(\)|mag_norm_scale = |"
                    r"base_result = base_result - bias|result_dora = ", 0),
        "trainable": trainable_source(),
        "merge": merge_source(),
        "citation": (config.LoraConfig, r"2402\.09353", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.lora import config

    return config.LoraConfig.__dataclass_fields__["use_dora"].metadata["help"]


DECLARATIONS = ()
