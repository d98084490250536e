"""The suite's own paper-faithful implementations, one small module per variant, and their binding."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import sys
from pathlib import Path

from fidelity.checks import Confinement, InitDistribution, Scaling
from fidelity.impls.base import AdaptedLayer, Binding, Declaration, SourceRef, fresh_linear, source_lines
from fidelity.impls.reference import antipasto_dplr, lora

REPO_ROOT = Path(__file__).resolve().parents[3]

# Which lines of a reference module each review topic cites.
TOPIC_PATTERNS = {
    "init": r"self\.lora_[ABg] = |init\.kaiming|base\.weight\.sub_",
    "forward": r"def forward|^\s+(p|s_eff|h) = |return ",
    "scaling": r"self\.(scaling|coeff) = |coeff \* ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:",
}


class ReferenceBinding(Binding):
    """Binds the reference modules; a mutant is the same binding with one module class swapped."""

    def __init__(self, classes: dict | None = None, name: str = "reference"):
        self.classes = {"lora": lora.LoraLinear, "antipasto_dplr": antipasto_dplr.DplrLinear} \
            if classes is None else classes
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
        module = cls(base, **dataclasses.asdict(config))
        roles = {role: getattr(module, attr) for attr, role in cls.ROLES.items()}
        buffers = {role: getattr(module, attr) for attr, role in getattr(cls, "BUFFERS", {}).items()}
        param_roles = {attr: role for attr, role in cls.ROLES.items()}
        param_roles.update({"base.weight": "base.weight", "base.bias": "base.bias"})
        realised = {"scaling": float(getattr(module, "scaling", getattr(module, "coeff", 1.0)))}
        return AdaptedLayer(module, frozen_copy, roles, param_roles, realised, buffers, module.base.weight)

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


# Where the antipasto_dplr design departs from the LoRA paper on purpose (lora-lite's design, variants.md §3.2,
# review-format.md §3): each deviation names the property that holds instead and the claims it preserves.
ReferenceBinding.declarations = (
    Declaration(
        claim="lora.gaussian-a", kind="deviation", variant="antipasto_dplr",
        rationale="the core's A is Kaiming-uniform on its fan-in r, as in microsoft/LoRA's code, not the paper's "
        "Gaussian; immaterial to what the paper relies on (a random A with B = 0)",
        alternative=InitDistribution(role="core_down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
    ),
    Declaration(
        claim="lora.scaling", kind="deviation", variant="antipasto_dplr",
        rationale="no α/r: the runtime steering coefficient coeff scales the core (and steers the gain), so the "
        "output is linear in coeff and independent of α; a rank sweep may need the learning rate retuned",
        alternative=Scaling(law=lambda case, cfg: cfg.coeff, law_text="coeff"),
        preserves=("lora.identity-at-init", "antipasto.coeff-zero"),
    ),
    Declaration(
        claim="lora.full-space", kind="deviation", variant="antipasto_dplr",
        rationale="by design the U … Vh sandwich confines all mixing to W's top-r singular subspaces, where LoRA's "
        "B and A are free",
        alternative=Confinement(confined=True),
        preserves=("lora.low-rank-form", "antipasto.confinement"),
    ),
)
