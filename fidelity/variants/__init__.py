"""The variant registry: every module in this package (but `base`) that defines SPEC is a variant."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from fidelity.variants.base import VariantSpec


class UnknownVariant(LookupError):
    """A variant name the suite does not know."""


@lru_cache(maxsize=1)
def all_variants() -> dict[str, VariantSpec]:
    """Every variant spec, by name."""
    specs = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            module = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(module, "SPEC"):
                specs[module.SPEC.name] = module.SPEC
    return dict(sorted(specs.items()))


def get_variant(name: str) -> VariantSpec:
    """The spec of one variant, or UnknownVariant naming the known ones."""
    variants = all_variants()
    if name not in variants:
        raise UnknownVariant(f"unknown variant {name!r}; known variants: {', '.join(sorted(variants))}")
    return variants[name]
