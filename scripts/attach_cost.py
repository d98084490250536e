"""A library's own attach cost, apart from the suite's: the mean time of one `build` at the witness layer, per variant
the implementation provides, beside the reference's build of the same variant (what the suite itself adds).

Usage: python scripts/attach_cost.py IMPL [--repeat N]   (run in the implementation's environment, e.g. .nox/lycoris)
Prints one markdown table row per variant: | IMPL | variant | library build ms | reference build ms |
"""

from __future__ import annotations

import argparse
import time

from fidelity.cases import PAPER_WITNESS
from fidelity.checks.base import Subject
from fidelity.impls import get_binding
from fidelity.variants import get_variant


def mean_build_ms(binding, variant: str, repeat: int) -> float:
    """Mean wall time of one build of the witness layer (the suite's base layer and calibration rows included, as a
    check builds it), after one build that pays for imports and first-call caches."""
    subject = Subject(binding, get_variant(variant), {})
    subject.build(PAPER_WITNESS)
    start = time.perf_counter()
    for _ in range(repeat):
        subject.build(PAPER_WITNESS)
    return 1000 * (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("impl")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    binding, reference = get_binding(args.impl), get_binding("reference")
    for variant in sorted(getattr(binding, "adapters", dict)()):
        if binding.provides(variant, {}):
            continue
        try:
            own = f"{mean_build_ms(binding, variant, args.repeat):.2f}"
        except Exception as exc:  # a variant that needs calibration rows or several layers: say so, go on
            own = f"n/a ({type(exc).__name__})"
        print(f"| {args.impl} | {variant} | {own} | {mean_build_ms(reference, variant, args.repeat):.2f} |", flush=True)


if __name__ == "__main__":
    main()
