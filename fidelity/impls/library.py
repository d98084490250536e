"""The base of the suite's own bindings to third-party libraries (loralib, LyCORIS, AdapterHub, torchtune).

A library binding is a package `fidelity/impls/<name>/`: its `__init__.py` subclasses `LibraryBinding` (name, the
distribution, the import name, the pins of its environment in `noxfile.py`) and each variant it binds is one small
module of that package setting:

- VARIANT: the suite's variant name;
- `attach(lib, model, targets, config, calibration) -> {target: AdaptedLayer}` (the library attached to the suite's
  `TinyModel`), or `build(lib, weight, bias, config, calibration) -> AdaptedLayer` (a layer built directly);
  `lib` is the imported library;
- `sources() -> {topic: (object, line pattern, lines of context before each match)}` and `citation_text(options)`;
- optionally `provides(options)` (the reason an option is missing, or None), DTYPES, CONVENTIONS;
- DECLARATIONS: the library's documented departures (with the line or page that documents them) and its known
  bugs (with the evidence), beside the code they concern.

The library is imported only when one of its cells runs. Where it is not installed, its cells come from the results
file its own environment wrote (`nox -s <name>`; fidelity/recorded.py), or are N/A with the command that runs them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys
from pathlib import Path

from fidelity.impls.base import AdaptedLayer, Binding, NotProvided, SourceRef, source_lines


class LibraryBinding(Binding):
    name = "?"
    distribution = "?"  # the package index name, e.g. lycoris-lora
    module = "?"  # the import name, e.g. lycoris

    def _lib(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        return importlib.import_module(self.module)

    def adapters(self) -> dict:
        """variant -> its adapter module (every module of the binding's package that sets VARIANT)."""
        if "_adapters" not in self.__dict__:
            package = sys.modules[type(self).__module__]
            found = {}
            for info in pkgutil.iter_modules(package.__path__):
                adapter = importlib.import_module(f"{package.__name__}.{info.name}")
                if hasattr(adapter, "VARIANT"):
                    found[adapter.VARIANT] = adapter
            self._adapters = found
        return self._adapters

    @property
    def declarations(self):
        return tuple(d for adapter in self.adapters().values() for d in getattr(adapter, "DECLARATIONS", ()))

    @property
    def version(self) -> str:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" if self.version else f"{self.name} (not installed)"

    def unavailable(self) -> str | None:
        # a library that replaced itself in sys.modules by a lazy module (adapters, transformers) has no __spec__
        if self.module in sys.modules or importlib.util.find_spec(self.module) is not None:
            return None
        return (f"{self.distribution} is not installed here; its cells run in its own environment: nox -s "
                f"{self.name}")

    def provides(self, variant: str, options: dict) -> str | None:
        if variant not in self.adapters():
            return f"no {variant} in {self.name}, or not bound yet"
        return getattr(self.adapters()[variant], "provides", lambda options: None)(options)

    def dtypes(self, variant: str) -> tuple[str, ...]:
        return getattr(self.adapters().get(variant), "DTYPES", ("float64", "float32"))

    def conventions(self, variant: str) -> tuple[str, ...]:
        return getattr(self.adapters().get(variant), "CONVENTIONS", ())

    def build(self, variant, weight, bias, config, calibration=None) -> AdaptedLayer:
        adapter = self.adapters()[variant]
        if hasattr(adapter, "build"):
            return adapter.build(self._lib(), weight, bias, config, calibration)
        return super().build(variant, weight, bias, config, calibration)

    def build_many(self, variant, layers, config) -> list[AdaptedLayer]:
        adapter = self.adapters()[variant]
        if hasattr(adapter, "build_many"):
            return adapter.build_many(self._lib(), layers, config)
        if not hasattr(adapter, "attach"):
            raise NotProvided(f"the {self.name} binding cannot build several adapted {variant} layers in one model")
        return super().build_many(variant, layers, config)

    def attach(self, variant, model, targets, config, calibration=None) -> dict[str, AdaptedLayer]:
        return self.adapters()[variant].attach(self._lib(), model, targets, config, calibration)

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        where = self.adapters()[variant].sources()
        if topic not in where:
            return []
        obj, pattern, before = where[topic]
        root = Path(self._lib().__file__).resolve().parents[1]  # site-packages: paths start with the import name
        return source_lines(obj, root, f"{self.distribution}=={self.version} ", pattern, before)

    def citation_text(self, variant: str, options: dict) -> str:
        self._lib()
        return self.adapters()[variant].citation_text(options)
