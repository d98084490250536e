"""K01 zero-init identity: at init the adapted layer equals the base layer, bit for bit (T-exact).

The contribution of a zero factor is structurally zero in the same dtype (`y + 0 == y`), so nothing but
exact equality, in the base output's dtype, counts (history C.15: relaxed tolerances hid near-zero inits).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class Identity(Check):
    kind = "identity"
    topic = "init"

    def run(self, subject: Subject, profile) -> Evidence:
        def prop(case, record):
            layer, _, _ = subject.build(case)
            x = inputs(case)
            with torch.no_grad():
                y_adapted, y_base = layer(x), layer.base_forward(x)
            diff = float((y_adapted.to(torch.float64) - y_base.to(torch.float64)).abs().max())
            measured = {"max_abs_diff": diff}
            if y_adapted.dtype != y_base.dtype:
                raise Violation(f"output dtype {y_adapted.dtype} differs from the base's {y_base.dtype}", measured)
            if not torch.equal(y_adapted, y_base):
                raise Violation(
                    f"at init the adapted output differs from the base output by up to {diff:.3g} "
                    f"(required: bit-exact equality) [{case}]",
                    measured,
                )
            record.add(case, 0.0, measured)

        return run_property(
            prop,
            profile,
            observation=lambda rec: f"adapted output equal to the base output bit for bit in all {rec.examples} "
            "examples (float64 and float32, with and without bias)",
        )
