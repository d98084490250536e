"""Binding to AdapterHub's adapters (adapter-hub/adapters), one small adapter module per variant
(fidelity/impls/library.py says what each holds); the tiny transformers model it attaches to is in `_model.py`.

Runs in its own pinned environment: `nox -s adapters` (noxfile.py).
"""

from __future__ import annotations

from fidelity.impls.library import LibraryBinding


class AdaptersBinding(LibraryBinding):
    name = "adapters"
    distribution = "adapters"
    module = "adapters"
