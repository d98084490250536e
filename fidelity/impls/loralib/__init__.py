"""Binding to microsoft/LoRA's loralib: the LoRA paper's authors' own code, one small adapter module per variant (fidelity/impls/library.py says what each holds).

Runs in its own pinned environment: `nox -s loralib` (noxfile.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from fidelity.impls.base import SourceRef
from fidelity.impls.library import LibraryBinding


class LoralibBinding(LibraryBinding):
    name = "loralib"
    distribution = "loralib"
    module = "loralib"

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        """As LibraryBinding's, and a topic may also point at a text file (a `Path`): loralib cites its paper only in
        its README, installed as the distribution's METADATA."""
        where = self.adapters()[variant].sources()
        if topic not in where or not isinstance(where[topic][0], Path):
            return super().sources(variant, topic)
        path, pattern, before = where[topic]
        lines = path.read_text(encoding="utf-8").splitlines()
        root = Path(self._lib().__file__).resolve().parents[1]
        shown = f"{self.distribution}=={self.version} {path.resolve().relative_to(root.resolve())}"
        regex = re.compile(pattern)
        return [SourceRef(shown, max(0, i - before) + 1, tuple(lines[max(0, i - before):i + 1]))
                for i, line in enumerate(lines) if regex.search(line)]
