"""The implementation registry: names -> bindings. Checks never import this; the runner does.

Built in: `reference`, `peft` and the libraries of ECOSYSTEM (each run in its own environment, noxfile.py). A third-party library registers its binding under the entry-point group
`fidelity.implementations` (name -> a Binding instance, a Binding subclass, or a callable returning one); a binding can
also be named as `module:object` on the command line (`--impl`) or in FIDELITY_IMPLS. A binding that fails to import
becomes a BrokenBinding: its cells are ERROR with the reason, the others still run. A binding's `declarations_file` is
read and added to its declarations here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os

from fidelity.impls.base import Binding

ENTRY_POINT_GROUP = "fidelity.implementations"


class UnknownImplementation(LookupError):
    """An implementation name the suite does not know."""


class BrokenBinding(Binding):
    """An implementation that could not be loaded; every one of its cells is ERROR with the reason. `like`: its
    binding, when that still says which variants and options it provides (a library whose environment did not build):
    the cells it does not provide stay N/A."""

    def __init__(self, name: str, reason: str, like: Binding | None = None):
        self.name, self.reason, self.like = name, reason, like

    def broken(self) -> str | None:
        return self.reason

    @property
    def label(self) -> str:
        return self.like.label if self.like is not None else self.name

    def provides(self, variant: str, options: dict) -> str | None:
        return self.like.provides(variant, options) if self.like is not None else None


def _as_binding(obj, name: str) -> Binding:
    """An entry point's object as a Binding: an instance, a subclass (instantiated), or a factory (called)."""
    if isinstance(obj, type) and issubclass(obj, Binding):
        obj = obj()
    elif not isinstance(obj, Binding) and callable(obj):
        obj = obj()
    if not isinstance(obj, Binding):
        raise TypeError(f"{type(obj).__name__} is not a fidelity Binding (subclass fidelity.impls.base.Binding)")
    if obj.name in ("", "?"):
        obj.name = name
    return obj


def _with_declarations_file(binding: Binding) -> Binding:
    """Add the declarations of the binding's own file; a file that cannot be read breaks the binding."""
    from fidelity.impls.declarations_file import DeclarationFileError, load_declarations

    if binding.declarations_file and not binding.broken():
        try:
            binding.declarations = tuple(binding.declarations) + load_declarations(binding.declarations_file)
        except DeclarationFileError as exc:
            return BrokenBinding(binding.name, f"bad declarations file: {exc}")
    return binding


def _load_spec(spec: str, name: str | None = None) -> Binding:
    """`module:object` -> its binding, or a BrokenBinding saying why it could not be loaded."""
    module, _, attr = spec.partition(":")
    name = name or attr or module
    try:
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
        return _with_declarations_file(_as_binding(obj, name))
    except Exception as exc:  # an implementation that does not import is an ERROR of its own cells only
        return BrokenBinding(name, f"could not load implementation {spec!r}: {type(exc).__name__}: {exc}")


# The libraries the suite binds itself beside PEFT, each verified in its own pinned environment (noxfile.py)
ECOSYSTEM = {
    "loralib": "fidelity.impls.loralib:LoralibBinding",
    "lycoris": "fidelity.impls.lycoris:LycorisBinding",
    "adapters": "fidelity.impls.adapters:AdaptersBinding",
    "torchtune": "fidelity.impls.torchtune:TorchtuneBinding",
}


def _ecosystem(name: str) -> Binding:
    """A library's binding where the library is installed; else its cells as its own environment recorded them
    (fidelity/recorded.py), or, with no recording, the live binding (N/A: not installed). A recording that cannot
    be used here breaks the binding with the one line that says what to do."""
    from fidelity.recorded import RecordedError, load_recorded

    live = _load_spec(ECOSYSTEM[name], name)
    if not live.unavailable():
        return live
    try:
        return load_recorded(name) or live
    except RecordedError as exc:
        return BrokenBinding(name, str(exc))


def _builtin() -> dict[str, Binding]:
    from fidelity.impls.peft import PeftBinding
    from fidelity.impls.reference import ReferenceBinding

    return {"reference": ReferenceBinding(), "peft": PeftBinding(), **{name: _ecosystem(name) for name in ECOSYSTEM}}


def _load() -> dict[str, Binding]:
    bindings = _builtin()
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name not in bindings:
            bindings[ep.name] = _load_spec(ep.value, ep.name)
    return bindings


def get_binding(name: str) -> Binding:
    """One binding by name (built in, an entry point, or `module:object`), or UnknownImplementation."""
    if ":" in name:
        return _load_spec(name)
    bindings = _load()
    if name not in bindings:
        raise UnknownImplementation(f"unknown implementation {name!r}; known implementations: "
                                    f"{', '.join(sorted(bindings))} (or give one as module:object)")
    return bindings[name]


def all_bindings() -> dict[str, Binding]:
    """Every binding: built in and registered; FIDELITY_IMPLS=a,b,module:object selects (and extends) them."""
    chosen = [n for n in os.environ.get("FIDELITY_IMPLS", "").split(",") if n]
    if not chosen:
        return _load()
    return {binding.name: binding for binding in (get_binding(n) for n in chosen)}
