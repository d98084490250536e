"""tinylora's binding for the fidelity suite: how fidelity builds and reads one adapted layer."""

import copy
from pathlib import Path

from fidelity.impls.base import AdaptedLayer, Binding, fresh_linear, source_lines

import tinylora


class TinyLoraBinding(Binding):
    name = "tinylora"
    declarations_file = Path(__file__).with_name("fidelity-declarations.toml")  # read and linted by fidelity

    def provides(self, variant, options):
        if variant != "lora" or options.get("use_rslora"):
            return f"tinylora implements plain LoRA only, not {variant} {options or ''}".strip()
        return None

    def build(self, variant, weight, bias, config, calibration=None):
        base = fresh_linear(weight, bias)
        untouched = copy.deepcopy(base)  # the base as it was before attaching
        layer = tinylora.LoraLinear(base, r=config.r, alpha=config.alpha)
        roles = {"down": layer.A, "up": layer.B}  # fidelity's canonical role names
        param_roles = {"A": "down", "B": "up", "base.weight": "base.weight", "base.bias": "base.bias"}
        return AdaptedLayer(layer, untouched, roles, param_roles, weight=layer.base.weight)

    def sources(self, variant, topic):  # the lines each review section quotes
        pattern = {"init": r"self\.[AB] = |init\.", "scaling": r"self\.scaling = ", "forward": r"def forward|return ",
                   "citation": r"arXiv:"}.get(topic)
        return source_lines(tinylora, Path(tinylora.__file__).parents[1], "", pattern) if pattern else []

    def citation_text(self, variant, options):
        return tinylora.__doc__
