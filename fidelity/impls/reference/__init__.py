"""The suite's own paper-faithful implementations, one small module per variant, and their binding."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

from fidelity.impls.base import AdaptedLayer, Binding, SourceRef, fresh_linear, source_lines
from fidelity.impls.reference.declarations import DECLARATIONS
from fidelity.impls.roles import as_view

REPO_ROOT = Path(__file__).resolve().parents[3]

# Which lines of a reference module each review topic cites.
TOPIC_PATTERNS = {
    "init": r"self\.lora_[ABgR] = |register_buffer\(\"lora_[AB]\"|init\.kaiming|base\.weight\.sub_|if calibration is None|\.shape\[0\] < r|svd\(x - "
            r"|svd\(w, full_matrices|svd_lowrank\(w, q=r|root = torch|linalg\.qr\(weight",
    "forward": r"def forward|^\s+(p|g|s_eff|h) = |return ",
    "scaling": r"self\.(scaling|coeff) = |coeff \* |root = torch",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
    "merge": r"def (un)?merged|return (self\.base\.weight \+|merged - )|merged, _ = ",
    "calibration": r"= calibration\.reshape|# \([^)]*\) (covariance|statistic)|torch\.linalg\.svd\(w|keep = |"
                   r"rows of Vᵀ|self\.lora_[AB] = |register_buffer\(\"asvd_|base\.weight\.sub_",
}


def _modules():
    return [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
            if info.name != "declarations"]


def reference_classes() -> dict[str, type]:
    """Every reference module here declares `ADAPTERS = {variant name: module class}`."""
    classes = {}
    for module in _modules():
        classes.update(getattr(module, "ADAPTERS", {}))
    return classes


def reference_declarations() -> tuple:
    """The reference's declared deviations: those of declarations.py (the SVD family) and any module's DECLARATIONS."""
    return DECLARATIONS + tuple(d for module in _modules() for d in getattr(module, "DECLARATIONS", ()))


class ReferenceBinding(Binding):
    """Binds the reference modules; a mutant is the same binding with one module class swapped."""

    def __init__(self, classes: dict | None = None, name: str = "reference"):
        self.classes = reference_classes() if classes is None else classes
        self.name = name
        self.declarations = reference_declarations()

    @property
    def label(self) -> str:
        return "fidelity reference" if self.name == "reference" else self.name

    @property
    def version(self) -> str:
        from fidelity.results import suite_version

        return suite_version()

    def provides(self, variant: str, options: dict) -> str | None:
        if variant not in self.classes:
            return f"the reference implementations do not include {variant!r} yet"
        return None

    def dtypes(self, variant: str) -> tuple[str, ...]:
        """float64 first; float32; and bfloat16, which the checks draw only where the claim is structural (the
        trainable set), since the reference modules are plain torch in the base weight's dtype."""
        return ("float64", "float32", "bfloat16")

    def conventions(self, variant: str) -> tuple[str, ...]:
        """A reference module's CONVENTIONS (VeRA's follows PEFT's PRNG staging, so the two stay comparable)."""
        return getattr(self.classes.get(variant), "CONVENTIONS", ())

    def build(self, variant, weight, bias, config, calibration=None) -> AdaptedLayer:
        base = fresh_linear(weight, bias)
        frozen_copy = copy.deepcopy(base)
        cls = self.classes[variant]
        extra = {} if calibration is None else {"calibration": calibration}
        module = cls(base, **dataclasses.asdict(config), **extra)
        return self._adapted(module, frozen_copy)

    def build_many(self, variant, layers, config) -> list[AdaptedLayer]:
        """Each layer built on its own: a reference module shares what it shares through its config alone (VeRA
        regenerates its frozen matrices from `projection_prng_key`), as a layer of a real model would."""
        return [self.build(variant, weight, bias, config) for weight, bias in layers]

    def _adapted(self, module, frozen_copy) -> AdaptedLayer:
        cls = type(module)
        views = getattr(cls, "ROLE_VIEWS", {})  # role -> how the module's storage maps to the paper's shape
        roles = {role: views.get(role, as_view)(getattr(module, attr)) for attr, role in cls.ROLES.items()}
        buffers = {role: getattr(module, attr) for attr, role in getattr(cls, "BUFFERS", {}).items()}
        param_roles = {attr: role for attr, role in cls.ROLES.items()}
        param_roles.update({"base.weight": "base.weight", "base.bias": "base.bias"})
        realised = {"scaling": float(getattr(module, "scaling", getattr(module, "coeff", 1.0)))}
        return AdaptedLayer(module, frozen_copy, roles, param_roles, realised, buffers, module.base.weight,
                            regularizer=getattr(module, "regularizer", None), merge=getattr(module, "merged", None),
                            unmerge=getattr(module, "unmerged", None))

    def _module(self, variant):
        """The reference module the (possibly mutated) class comes from."""
        for klass in self.classes[variant].__mro__:
            if klass.__module__.startswith(__name__ + "."):
                return sys.modules[klass.__module__]
        return inspect.getmodule(self.classes[variant])

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        """The module's lines for a review topic: its own TOPICS pattern when it sets one, else the shared one."""
        module = self._module(variant)
        pattern = getattr(module, "TOPICS", {}).get(topic, TOPIC_PATTERNS.get(topic))
        # the registry tables at the end of a module (ADAPTERS, TOPICS, …) are not the implementation
        return source_lines(module, REPO_ROOT, "", pattern, stop=r"ADAPTERS = ") if pattern else []

    def citation_text(self, variant: str, options: dict) -> str:
        cls = self.classes[variant]
        if "DOC" in vars(cls):  # a class may carry its own docstring text (mutants do)
            return cls.DOC
        return self._module(variant).__doc__ or ""

