"""Binding to HuggingFace PEFT (pip `peft`, pinned 0.21.2): LoRA and its rsLoRA option.

PEFT is imported lazily, only when one of its cells runs (`import peft` costs ~5 s). When it is not installed
its cells are N/A with the install hint. Everything runs offline on a one-layer `nn.Linear` model.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import os
from pathlib import Path

from torch import nn

from fidelity.checks import InitDistribution
from fidelity.impls.base import AdaptedLayer, Binding, Declaration, SourceRef, fresh_linear, source_lines

INSTALL_HINT = "PEFT is not installed; install it with: pip install 'torch==2.13.0' 'peft==0.21.2' attrs"

# PEFT's name of each trainable tensor (after the adapter name is dropped) -> canonical role
ROLE_NAMES = {"lora": {"lora_A.default.weight": "down", "lora_B.default.weight": "up"}}


class _OneLayer(nn.Module):
    def __init__(self, layer: nn.Linear):
        super().__init__()
        self.lin = layer

    def forward(self, x):
        return self.lin(x)


def _peft():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import peft

    return peft


class PeftBinding(Binding):
    name = "peft"
    declarations = (
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

    @property
    def label(self) -> str:
        try:
            return f"peft {importlib.metadata.version('peft')}"
        except importlib.metadata.PackageNotFoundError:
            return "peft (not installed)"

    def unavailable(self) -> str | None:
        return None if importlib.util.find_spec("peft") else INSTALL_HINT

    def provides(self, variant: str, options: dict) -> str | None:
        return None if variant in ROLE_NAMES else f"no {variant} in PEFT, or not bound yet"

    def build(self, variant, weight, bias, config) -> AdaptedLayer:
        peft = _peft()
        base = fresh_linear(weight, bias)
        frozen_copy = copy.deepcopy(base)
        cfg = peft.LoraConfig(r=config.r, lora_alpha=config.alpha, use_rslora=config.use_rslora,
                              target_modules=["lin"], lora_dropout=0.0, init_lora_weights=True)
        model = peft.get_peft_model(_OneLayer(base), cfg).eval()
        layer = model.base_model.model.lin
        names = ROLE_NAMES[variant]
        param_roles = {}
        for pname, _ in layer.named_parameters():
            if pname in names:
                param_roles[pname] = names[pname]
            elif pname.startswith("base_layer."):
                param_roles[pname] = "base." + pname.removeprefix("base_layer.")
        params = dict(layer.named_parameters())
        roles = {role: params[pname] for pname, role in names.items()}
        return AdaptedLayer(layer, frozen_copy, roles, param_roles, {"scaling": float(layer.scaling["default"])},
                            weight=layer.get_base_layer().weight)

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        peft = _peft()
        from peft.tuners.lora import layer as lora_layer
        from peft.tuners.lora import model as lora_model
        from peft.tuners import tuners_utils

        root = Path(peft.__file__).resolve().parents[1]
        prefix = f"huggingface/peft@v{importlib.metadata.version('peft')} src/"
        where = {
            "init": (lora_layer.LoraLayer.reset_lora_parameters, r"kaiming_uniform_|zeros_\(self\.lora_B\[", 0),
            "scaling": (lora_layer.LoraLayer.update_layer, r"self\.scaling\[adapter_name\] = |if use_rslora", 0),
            "forward": (lora_layer.Linear.forward, r"torch_result_dtype = result\.dtype|lora_B\(lora_A\(dropout", 1),
            "trainable": (tuners_utils.BaseTuner._mark_only_adapters_as_trainable,
                          r"for n, p in model\.named_parameters|if n in adapter_param_names|^\s+p\.requires_grad = False$",
                          0),
            "citation": (lora_model.LoraModel, r"2106\.09685", 0),
        }
        if topic not in where:
            return []
        obj, pattern, before = where[topic]
        return source_lines(obj, root, prefix, pattern, before)

    def citation_text(self, variant: str, options: dict) -> str:
        _peft()
        from peft.tuners.lora import config as lora_config
        from peft.tuners.lora import model as lora_model

        if options.get("use_rslora"):
            return lora_config.LoraConfig.__dataclass_fields__["use_rslora"].metadata["help"]
        return lora_model.LoraModel.__doc__ or ""
