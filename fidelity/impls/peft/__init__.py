"""Binding to HuggingFace PEFT (pip `peft`, pinned 0.21.2), one small adapter module per variant.

PEFT is imported lazily, only when one of its cells runs (`import peft` costs ~5 s). When it is not installed
its cells are N/A with the install hint. Everything runs offline on a one-layer `nn.Linear` model.

An adapter module here (see `lora.py`) declares: VARIANT, ROLE_NAMES (PEFT parameter name -> role),
BUFFER_NAMES, DTYPES, `peft_config(peft, config)`, `sources(peft_modules) -> {topic: (object, pattern, before)}`,
`citation_text(options)` and DECLARATIONS; optionally `attach(peft, model, cfg, calibration)` for inits that
need calibration data, `provides(options)` for options PEFT lacks, and `regularizer(peft_model, layer)` returning
the loss term PEFT adds for the layer (a callable), or None.
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
from fidelity.impls.roles import as_view

INSTALL_HINT = "PEFT is not installed; install it with: pip install 'torch==2.13.0' 'peft==0.21.2' attrs"


class _OneLayer(nn.Module):
    def __init__(self, layer: nn.Linear):
        super().__init__()
        self.lin = layer

    def forward(self, x):
        return self.lin(x)


class _Layers(nn.Module):
    """Several independent linear layers in one model, `lin0`, `lin1`, … (claims about what layers share)."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        for i, layer in enumerate(layers):
            self.add_module(f"lin{i}", layer)

    def forward(self, x):
        return [layer(x) for layer in self.children()]


def _peft():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import peft

    return peft


def _merge_paths(layer):
    """PEFT's deployment path on a copy of the layer: `merge()` (what `merge_and_unload` stores in the base layer) and
    `merge()` then `unmerge()`; None where the layer has no such methods."""
    if not (hasattr(layer, "merge") and hasattr(layer, "unmerge")):
        return None, None

    def merged():
        copied = copy.deepcopy(layer)
        copied.merge()
        base = copied.get_base_layer()
        return base.weight.detach(), base.bias.detach() if base.bias is not None else None

    def unmerged():
        copied = copy.deepcopy(layer)
        copied.merge()
        copied.unmerge()
        return copied.get_base_layer().weight.detach()

    return merged, unmerged


def merge_source() -> tuple:
    """Where PEFT's LoRA-family layers merge and unmerge (a `sources()` entry for the review's "merge" topic)."""
    from peft.tuners.lora import layer

    return (layer.Linear, r"def (merge|unmerge)\(|base_layer\.weight\.data (\+|-)= |weight\.data (\+|-)= |"
                          r"delta_weight = self\.get_delta_weight|dora_factor = |new_weight = ", 0)


def trainable_source() -> tuple:
    """Where PEFT freezes everything but the adapter, the same code for every tuner: a `sources()` entry for the
    review's "trainable" topic, (object, line pattern, lines of context)."""
    from peft.tuners import tuners_utils

    return (tuners_utils.BaseTuner._mark_only_adapters_as_trainable,
            r"for n, p in model\.named_parameters|if n in adapter_param_names|^\s+p\.requires_grad = False$", 0)


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

    @property
    def version(self) -> str:
        try:
            return importlib.metadata.version("peft")
        except importlib.metadata.PackageNotFoundError:
            return ""

    def unavailable(self) -> str | None:
        return None if importlib.util.find_spec("peft") else INSTALL_HINT

    def provides(self, variant: str, options: dict) -> str | None:
        if variant not in adapters():
            return f"no {variant} in PEFT, or not bound yet"
        why_not = getattr(adapters()[variant], "provides", lambda options: None)
        return why_not(options)

    def dtypes(self, variant: str) -> tuple[str, ...]:
        return getattr(adapters().get(variant), "DTYPES", ("float64", "float32"))

    def conventions(self, variant: str) -> tuple[str, ...]:
        return getattr(adapters().get(variant), "CONVENTIONS", ())

    def build(self, variant, weight, bias, config, calibration=None) -> AdaptedLayer:
        return self._attach(variant, [(weight, bias)], config, calibration)[0]

    def build_many(self, variant, layers, config) -> list[AdaptedLayer]:
        return self._attach(variant, layers, config, None)

    def _attach(self, variant, layers, config, calibration) -> list[AdaptedLayer]:
        """One model holding the given layers (`lin` alone, or `lin0`, `lin1`, …), the variant attached to each."""
        peft, adapter = _peft(), adapters()[variant]
        bases = [fresh_linear(weight, bias) for weight, bias in layers]
        frozen_copies = [copy.deepcopy(base) for base in bases]
        cfg = adapter.peft_config(peft, config)
        if len(bases) == 1:
            model, names = _OneLayer(bases[0]), ["lin"]
        else:
            model, names = _Layers(bases), [f"lin{i}" for i in range(len(bases))]
            cfg.target_modules = set(names)
        if hasattr(adapter, "attach"):
            model = adapter.attach(peft, model, cfg, calibration)
        else:
            model = peft.get_peft_model(model, cfg)
        return [self._adapted(adapter, model, model.base_model.model.get_submodule(name), frozen)
                for name, frozen in zip(names, frozen_copies)]

    @staticmethod
    def _adapted(adapter, model, layer, frozen_copy) -> AdaptedLayer:
        layer.eval()
        params, buffers = dict(layer.named_parameters()), dict(layer.named_buffers())
        param_roles = {n: adapter.ROLE_NAMES[n] for n in params if n in adapter.ROLE_NAMES}
        param_roles.update({n: "base." + n.removeprefix("base_layer.") for n in params if n.startswith("base_layer.")})
        views = getattr(adapter, "ROLE_VIEWS", {})  # role -> how PEFT's storage maps to the paper's shape
        roles = {role: views.get(role, as_view)(params[n]) for n, role in adapter.ROLE_NAMES.items()}
        frozen = {role: buffers[n] for n, role in getattr(adapter, "BUFFER_NAMES", {}).items()}
        realised = {"scaling": float(layer.scaling["default"])} if hasattr(layer, "scaling") else {}
        regularizer = adapter.regularizer(model, layer) if hasattr(adapter, "regularizer") else None
        merge, unmerge = _merge_paths(layer)
        return AdaptedLayer(layer, frozen_copy, roles, param_roles, realised, frozen, layer.get_base_layer().weight,
                            regularizer=regularizer, merge=merge, unmerge=unmerge)

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
