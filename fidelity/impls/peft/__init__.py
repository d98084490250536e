"""Binding to HuggingFace PEFT (pip `peft`, pinned 0.21.2), one small adapter module per variant.

PEFT is imported lazily, only when one of its cells runs (`import peft` costs ~5 s). When it is not installed
its cells are N/A with the install hint. Everything runs offline on a one-layer `nn.Linear` model.

An adapter module here (see `lora.py`) declares: VARIANT, ROLE_NAMES (PEFT parameter name -> role),
BUFFER_NAMES, DTYPES, `peft_config(peft, config)`, `sources(peft_modules) -> {topic: (object, pattern, before)}`,
`citation_text(options)` and DECLARATIONS; optionally `attach(peft, model, cfg, calibration)` for inits that
need calibration data.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
from functools import lru_cache
from pathlib import Path

from torch import nn

from fidelity.impls.base import AdaptedLayer, Binding, SourceRef, fresh_linear, source_lines

INSTALL_HINT = "PEFT is not installed; install it with: pip install 'torch==2.13.0' 'peft==0.21.2' attrs"


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


@lru_cache(maxsize=1)
def adapters() -> dict:
    """variant name -> its adapter module (every module of this package that sets VARIANT)."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "VARIANT"):
            found[module.VARIANT] = module
    return found


class PeftBinding(Binding):
    name = "peft"

    @property
    def declarations(self):
        return tuple(d for adapter in adapters().values() for d in adapter.DECLARATIONS)

    @property
    def label(self) -> str:
        try:
            return f"peft {importlib.metadata.version('peft')}"
        except importlib.metadata.PackageNotFoundError:
            return "peft (not installed)"

    def unavailable(self) -> str | None:
        return None if importlib.util.find_spec("peft") else INSTALL_HINT

    def provides(self, variant: str, options: dict) -> str | None:
        return None if variant in adapters() else f"no {variant} in PEFT, or not bound yet"

    def dtypes(self, variant: str) -> tuple[str, ...]:
        return getattr(adapters().get(variant), "DTYPES", ("float64", "float32"))

    def build(self, variant, weight, bias, config, calibration=None) -> AdaptedLayer:
        peft, adapter = _peft(), adapters()[variant]
        base = fresh_linear(weight, bias)
        frozen_copy = copy.deepcopy(base)
        cfg = adapter.peft_config(peft, config)
        if hasattr(adapter, "attach"):
            model = adapter.attach(peft, _OneLayer(base), cfg, calibration)
        else:
            model = peft.get_peft_model(_OneLayer(base), cfg)
        layer = model.base_model.model.lin
        layer.eval()
        params, buffers = dict(layer.named_parameters()), dict(layer.named_buffers())
        param_roles = {n: adapter.ROLE_NAMES[n] for n in params if n in adapter.ROLE_NAMES}
        param_roles.update({n: "base." + n.removeprefix("base_layer.") for n in params if n.startswith("base_layer.")})
        roles = {role: params[n] for n, role in adapter.ROLE_NAMES.items()}
        frozen = {role: buffers[n] for n, role in getattr(adapter, "BUFFER_NAMES", {}).items()}
        realised = {"scaling": float(layer.scaling["default"])} if hasattr(layer, "scaling") else {}
        return AdaptedLayer(layer, frozen_copy, roles, param_roles, realised, frozen, layer.get_base_layer().weight)

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        peft = _peft()
        where = adapters()[variant].sources()
        if topic not in where:
            return []
        obj, pattern, before = where[topic]
        root = Path(peft.__file__).resolve().parents[1]
        prefix = f"huggingface/peft@v{importlib.metadata.version('peft')} src/"
        return source_lines(obj, root, prefix, pattern, before)

    def citation_text(self, variant: str, options: dict) -> str:
        _peft()
        return adapters()[variant].citation_text(options)
