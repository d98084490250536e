"""The implementation registry: names -> bindings. Checks never import this; the runner does."""

from __future__ import annotations

from fidelity.impls.base import Binding


class UnknownImplementation(LookupError):
    """An implementation name the suite does not know."""


def _load() -> dict[str, Binding]:
    from fidelity.impls.peft import PeftBinding
    from fidelity.impls.reference import ReferenceBinding

    return {"reference": ReferenceBinding(), "peft": PeftBinding()}


def get_binding(name: str) -> Binding:
    """One binding by name, or UnknownImplementation naming the known ones."""
    bindings = _load()
    if name not in bindings:
        raise UnknownImplementation(f"unknown implementation {name!r}; known implementations: "
                                    f"{', '.join(sorted(bindings))}")
    return bindings[name]


def all_bindings() -> dict[str, Binding]:
    return _load()
