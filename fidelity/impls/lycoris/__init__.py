"""Binding to LyCORIS (KohakuBlueleaf/LyCORIS), one small adapter module per variant (fidelity/impls/library.py says what each holds).

Runs in its own pinned environment: `nox -s lycoris` (noxfile.py).
"""

from __future__ import annotations

from fidelity.impls.library import LibraryBinding


class LycorisBinding(LibraryBinding):
    name = "lycoris"
    distribution = "lycoris-lora"
    module = "lycoris"
