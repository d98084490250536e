"""torchtune's LoRA: `torchtune.modules.peft.LoRALinear(in_dim, out_dim, rank=r, alpha=α, dropout=0.0,
use_bias=<the suite's>)`, set up as the LoRA recipes do (see the package docstring).

torchtune 0.6.1 has no rsLoRA option: LoRALinear always scales by alpha / rank (lora.py `forward`), so the rsLoRA
cells are N/A. `quantize_base` (QLoRA's NF4 base weight) and `QATLoRALinear` are other layers, not bound here.
"""

from __future__ import annotations

from fidelity.checks import InitDistribution
from fidelity.impls.base import Declaration

VARIANT = "lora"
DTYPES = ("float64", "float32")


def provides(options: dict) -> str | None:
    if options.get("use_rslora"):
        return "torchtune 0.6.1 has no rsLoRA option: LoRALinear always scales by alpha / rank"
    return None


def build(lib, weight, bias, config, calibration=None):
    from torchtune.modules.peft import LoRALinear

    from fidelity.impls.torchtune import set_up

    return set_up(lib, LoRALinear, weight, bias, config)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from torchtune.modules.peft import _utils, lora

    from fidelity.impls.torchtune import merge_source

    return {
        "init": (lora, r"# Initialize as in$|loralib/layers\.py#L119$|Initialize LoRA [AB] weight to|"
                 r"nn\.init\.kaiming_uniform_|nn\.init\.zeros_", 0),
        "scaling": (lora.LoRALinear.forward, r"\(self\.alpha / self\.rank\)", 0),
        "forward": (lora.LoRALinear.forward, r"out = F\.linear\(x, self\.weight, self\.bias\)|lora_out = |"
                    r"return out \+ lora_out", 0),
        "trainable": (_utils, r"if n in current_adapter_params:|v\.requires_grad_\(k in adapter_params\)", 1),
        "merge": merge_source("lora"),
        "citation": (lora.LoRALinear, r"2106\.09685", 0),
    }


def citation_text(options: dict) -> str:
    from torchtune.modules.peft import lora

    return lora.LoRALinear.__doc__ or ""


DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a",
        kind="deviation",
        variant="lora",
        rationale="torchtune draws A with nn.init.kaiming_uniform_(a=√5) and says so: LoRALinear.initialize_parameters "
        "reads '# Initialize as in https://github.com/microsoft/LoRA/blob/4c03338…/loralib/layers.py#L119' (the "
        "authors' reference code) and _lora_a_init_params 'Initialize LoRA A weight to Kaiming uniform.', rather "
        "than the paper's Gaussian; what the paper relies on, ΔW = BA = 0 at init with a random A, is kept",
        alternative=InitDistribution(role="down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
        link="https://github.com/pytorch/torchtune/blob/v0.6.1/torchtune/modules/peft/lora.py#L103-L105",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py): the
# paper-faithful reference draws a Gaussian A.
ALTERNATIVE_FAILS_FOR = {
    "lora.gaussian-a": "reference",
}
