"""Calibrate the K29 initial-distribution check: false-alarm rate on a correct implementation, power on a wrong one.

For each seed the check's two layers are redrawn; the reference LoRA (Gaussian A) is tested against the claimed
Gaussian family (a rejection is a false alarm) and the Kaiming-uniform mutant against it too (a rejection is a
detection). Also the Kaiming family's own false alarms on the mutant, and its power on the Gaussian reference.

Usage: python scripts/calibrate_init_distribution.py [SEEDS]   (default 200)
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the mutants live in tests/

from fidelity.checks import InitDistribution
from fidelity.checks.base import Subject, Violation
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.variants import get_variant
from tests.mutants.lora import AKaimingUniform  # noqa: E402


def rejections(cls, family: str, seeds: int) -> int:
    """How many of `seeds` independent draws the check rejects."""
    spec, binding = get_variant("lora"), ReferenceBinding({"lora": cls})
    count = 0
    for seed in range(seeds):
        layers = tuple(c.with_(seed=1000 + 2 * seed + i) for i, c in enumerate(spec.distribution_layers))
        subject = Subject(binding, dataclasses.replace(spec, distribution_layers=layers))
        try:
            InitDistribution(role="down", family=family).run(subject, WITNESS)
        except Violation:
            count += 1
    return count


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = ReferenceBinding().classes["lora"]
    rows = [
        ("gaussian", "reference (Gaussian A)", base, "false alarms"),
        ("gaussian", "mutant (Kaiming-uniform A)", AKaimingUniform, "detections"),
        ("kaiming_uniform", "mutant (Kaiming-uniform A)", AKaimingUniform, "false alarms"),
        ("kaiming_uniform", "reference (Gaussian A)", base, "detections"),
    ]
    print(f"| claimed family | implementation | rejected of {seeds} | meaning |\n|---|---|---|---|")
    for family, name, cls, meaning in rows:
        print(f"| {family} | {name} | {rejections(cls, family, seeds)} | {meaning} |")


if __name__ == "__main__":
    main()
