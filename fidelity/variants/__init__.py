"""The variant registry: one module per variant, each exporting SPEC."""

from __future__ import annotations

from fidelity.variants.base import VariantSpec


class UnknownVariant(LookupError):
    """A variant name the suite does not know."""


def _load() -> dict[str, VariantSpec]:
    from fidelity.variants import antipasto_dplr, lora

    return {spec.name: spec for spec in (lora.SPEC, antipasto_dplr.SPEC)}


def get_variant(name: str) -> VariantSpec:
    """The spec of one variant, or UnknownVariant naming the known ones."""
    variants = _load()
    if name not in variants:
        raise UnknownVariant(f"unknown variant {name!r}; known variants: {', '.join(sorted(variants))}")
    return variants[name]


def all_variants() -> dict[str, VariantSpec]:
    return _load()
