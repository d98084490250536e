"""K16 bias semantics: at a random non-degenerate state the effective bias b_eff = f(0) is the paper's.

The paper's b_eff comes from the variant's `effective_bias` (b for additive adapters and DoRA, whose weight
decomposition leaves the bias out; g ⊙ b for IA3's output gate, which scales keys and values bias included; R b for
RoAd, which rotates the layer's output). It is compared with the probe's f(0) at T-fwd. Invisible at init, where
every adapter is an identity (history C.8: DoRA scaled the bias by m/‖V‖ and passed its identity test), so it runs
after moving the trainables to a random state, on layers with a bias, and it is non-vacuous only where the rival
reading the check names (`contrast`) gives a bias far from the paper's: otherwise the case cannot tell them apart
and the check reports an error instead of a pass.
"""

from __future__ import annotations

from typing import Callable

from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, effective_weight,
                                  run_property)
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio


class Bias(Check):
    kind = "bias"
    topic = "forward"

    def __init__(self, contrast: Callable, contrast_text: str, options: dict | None = None):
        super().__init__(options)
        # contrast(state, config, b) -> the rival reading's bias (e.g. DoRA's bias scaled by m/‖V‖ too)
        self.contrast, self.contrast_text = contrast, contrast_text

    def __repr__(self) -> str:
        return f"Bias(contrast={self.contrast_text!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            case = case.with_(bias=True)
            config, layer, weight, bias, state = build_randomized(subject, case)
            b64 = bias64(bias, case)
            b_ref, b_abs = spec.effective_bias(state, config, b64)
            rival = self.contrast(state, config, b64)
            _, b_eff = effective_weight(layer, case)
            tol = fwd_tolerance(case.torch_dtype, spec.inner_length(case), b_abs + rival.abs())
            m = margin(b_eff - b_ref, tol)
            separation = margin(rival - b_ref, tol)
            measured = {"max_abs_err_bias": float((b_eff - b_ref).abs().max()), "margin": m,
                        "contrast_distance": float((rival - b_ref).abs().max()), "contrast_margin": separation}
            if m > 1.0:
                to_rival = margin(b_eff - rival, tol)
                also = f"; it equals the {self.contrast_text} reading" if to_rival <= 1 else ""
                raise Violation(f"effective bias f(0) differs from the paper's by up to "
                                f"{figure(measured['max_abs_err_bias'], float(tol.max()))} ({ratio(m)}× the tolerance)"
                                f"{also} [{case}]", measured)
            if separation <= 10.0:
                raise RuntimeError(f"non-vacuity guard: at this random state the {self.contrast_text} reading is within "
                                   f"{separation:.3g}× the tolerance of the paper's bias; the case cannot tell them "
                                   f"apart [{case}]")
            record.add(case, m, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"effective bias f(0) equals the paper's at random trainable values in all "
            f"{rec.examples} examples (with a bias){rec.worst_clause()}, while the {self.contrast_text} "
            f"reading would differ by {rec.first_measured.get('contrast_distance', float('nan')):.3g} on the witness",
        )
