"""K04 which factor is zero: at init the variant's zero-side roles are exactly zero and the others are not.

This is the part of the init claim that identity alone cannot see: a layer with the zero on the wrong side
(A = 0, B random) is an identity too, but it trains differently (history: zero side swapped).
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class ZeroSide(Check):
    kind = "zero_side"
    topic = "init"

    def __init__(self, zero: frozenset[str] | None = None, options: dict | None = None):
        super().__init__(options)
        # the roles claimed exactly zero at init; None: the spec's zero_at_init. Another set states an
        # implementation's declared alternative init (PEFT's DeLoRA: B = 0 where the paper draws B Kaiming)
        self.zero = None if zero is None else frozenset(zero)

    def __repr__(self) -> str:
        extra = [f"zero={sorted(self.zero)}"] if self.zero is not None else []
        return f"ZeroSide({', '.join(extra + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        zero_at_init = spec.zero_at_init if self.zero is None else self.zero

        def prop(case, record):
            layer, _, _ = subject.build(case)
            nonzero = {name: int(torch.count_nonzero(layer.read(name))) for name in layer.roles}
            measured = {f"nonzero_{k}": float(v) for k, v in nonzero.items()}
            for name, count in nonzero.items():
                if name in zero_at_init and count:
                    raise Violation(f"role '{name}' should be exactly zero at init but has {count} non-zero "
                                    f"entries [{case}]", measured)
                if name not in zero_at_init and not count:
                    raise Violation(f"role '{name}' should be random (non-zero) at init but is all zero [{case}]",
                                    measured)
            record.add(case, 0.0, measured)

        zero = ", ".join(sorted(zero_at_init))
        other = ", ".join(sorted(r.name for r in spec.roles if r.name not in zero_at_init))
        return run_property(
            prop,
            profile,
            subject,
            observation=lambda rec: (f"'{zero}' exactly zero and " if zero else "no role zero: ") +
            f"'{other}' non-zero at init in all {rec.examples} examples",
        )
