"""AdapterHub's LoRA: `LoRAConfig(r, alpha, attn_matrices=["q"], dropout=0.0, init_weights="lora",
dtype=<the layer's dtype>)` on the q projection of a tiny Llama (`_model.py`); the adapted layer is the library's
`LoRALinear`, called on its own (its forward takes x of any shape (..., d_in)).

Config chosen, and why: `attn_matrices=["q"]` puts exactly one LoRA on the one projection that holds the suite's
layer; `dtype` is LoRAConfig's documented "torch dtype for reparametrization tensors": without it A and B are created
in torch's default dtype (float32), and a float64 or bfloat16 layer's forward raises a dtype mismatch. The library's
defaults otherwise (no gating, composition_mode="add", init_weights="lora", no merge).

adapters 1.3.0 has no rsLoRA: the scale is always alpha / r (lora.py `self.scaling = self.lora_alpha / self.r`);
the rsLoRA cells are N/A.
"""

from __future__ import annotations

from fidelity.checks import InitDistribution
from fidelity.impls.adapters._model import ADAPTER, adapted, attach, merge_source, trainable_source
from fidelity.impls.base import Declaration

VARIANT = "lora"
DTYPES = ("float64", "float32", "bfloat16")


def provides(options: dict) -> str | None:
    if options.get("use_rslora"):
        return ("adapters 1.3.0 has no rsLoRA option: LoRAConfig has no such field and LoRA always scales by "
                "alpha / r (methods/lora.py:100)")
    return None


def build(lib, weight, bias, config, calibration=None):
    cfg = lib.LoRAConfig(r=config.r, alpha=config.alpha, attn_matrices=["q"], dropout=0.0, init_weights="lora",
                         dtype=str(weight.dtype).removeprefix("torch."))
    model, (layer,) = attach(lib, [(weight, bias)], cfg)
    lora = layer.loras[ADAPTER]
    return adapted(layer, layer, weight, bias, {"down": lora.lora_A, "up": lora.lora_B},
                   realised={"scaling": float(lora.scaling)}, model=model)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from adapters.configuration import adapter_config
    from adapters.methods import lora

    return {
        "init": (lora.LoRA.__init__, r"self\.lora_[AB] = nn\.Parameter|initialize A the same way|"
                 r"kaiming_uniform_\(self\.lora_A, a=|zeros_\(self\.lora_B\)", 0),
        "scaling": (lora.LoRA.__init__, r"self\.scaling = self\.lora_alpha / self\.r", 0),
        "forward": (lora.LoRA.forward, r"@ torch\.t\(self\.lora_A\) @|"
                    r"hidden_states = hidden_states \* self\.scaling", 0),
        "merge": merge_source("lora"),
        "trainable": trainable_source(),
        "citation": (adapter_config.LoRAConfig, r"2106\.09685", 0),
    }


def citation_text(options: dict) -> str:
    from adapters.configuration import adapter_config

    return adapter_config.LoRAConfig.__doc__ or ""


DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a",
        kind="deviation",
        variant="lora",
        rationale="adapters draws A with kaiming_uniform_(a=√5), nn.Linear's default, as its source says "
        "(lora.py:108 \"initialize A the same way as the default for nn.Linear and B to zero\"; lora.py:1 \"Code "
        "adapted from https://github.com/microsoft/LoRA/blob/main/loralib/layers.py\", the authors' code, which "
        "does the same) rather than the paper's Gaussian; ΔW = BA = 0 at init with a random A is kept",
        alternative=InitDistribution(role="down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
        link="https://github.com/adapter-hub/adapters/blob/v1.3.0/src/adapters/methods/lora.py#L108",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py)
ALTERNATIVE_FAILS_FOR = {
    "lora.gaussian-a": "reference",  # the paper's Gaussian A
}
