"""The suite's own paper-faithful implementations, one small module per variant, and their binding."""

from __future__ import annotations

import copy
import inspect
import sys
from pathlib import Path

from fidelity.impls.base import AdaptedLayer, Binding, SourceRef, fresh_linear, source_lines
from fidelity.impls.reference import lora

REPO_ROOT = Path(__file__).resolve().parents[3]

# Which lines of a reference module each review topic cites.
TOPIC_PATTERNS = {
    "init": r"self\.lora_[AB] = ",
    "forward": r"def forward|return ",
    "scaling": r"self\.scaling = ",
    "trainable": r"requires_grad_|nn\.Parameter",
    "citation": r"arXiv:",
}


class ReferenceBinding(Binding):
    """Binds the reference modules; a mutant is the same binding with one module class swapped."""

    def __init__(self, classes: dict | None = None, name: str = "reference"):
        self.classes = classes or {"lora": lora.LoraLinear}
        self.name = name

    @property
    def label(self) -> str:
        return "fidelity reference" if self.name == "reference" else self.name

    def provides(self, variant: str, options: dict) -> str | None:
        if variant not in self.classes:
            return f"the reference implementations do not include {variant!r} yet"
        return None

    def build(self, variant, weight, bias, config) -> AdaptedLayer:
        base = fresh_linear(weight, bias)
        frozen_copy = copy.deepcopy(base)
        cls = self.classes[variant]
        module = cls(base, config.r, config.alpha, config.use_rslora)
        roles = {role: getattr(module, attr) for attr, role in cls.ROLES.items()}
        param_roles = {attr: role for attr, role in cls.ROLES.items()}
        param_roles.update({"base.weight": "base.weight", "base.bias": "base.bias"})
        return AdaptedLayer(module, frozen_copy, roles, param_roles, {"scaling": float(module.scaling)})

    def _module(self, variant):
        """The reference module the (possibly mutated) class comes from."""
        for klass in self.classes[variant].__mro__:
            if klass.__module__.startswith(__name__ + "."):
                return sys.modules[klass.__module__]
        return inspect.getmodule(self.classes[variant])

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        return source_lines(self._module(variant), REPO_ROOT, "", TOPIC_PATTERNS.get(topic))

    def citation_text(self, variant: str, options: dict) -> str:
        cls = self.classes[variant]
        if "DOC" in vars(cls):  # a class may carry its own docstring text (mutants do)
            return cls.DOC
        return self._module(variant).__doc__ or ""
