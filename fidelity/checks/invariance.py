"""K07/K11 invariance: a transformation of the trainables that the paper says leaves the function unchanged does
(DeLoRA's normalisation Ξ makes the update independent of the scale of each row of A and each column of B).

At a random non-degenerate state, `transform(state, generator)` gives new trainable values; the output on a random
batch must stay the same within 2 · T-fwd of the formula's scale at both states. Negative control: `control`, a
transformation the function is *not* invariant to (e.g. rescaling single entries instead of whole rows), must move the
output by far more than the tolerance, so the check really sees the parameters it transforms.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, reference_output,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio


class Invariance(Check):
    kind = "invariance"
    topic = "forward"

    def __init__(self, transform: Callable, text: str, control: Callable, control_text: str,
                 options: dict | None = None):
        super().__init__(options)
        self.transform, self.text, self.control, self.control_text = transform, text, control, control_text

    def __repr__(self) -> str:
        return f"Invariance({self.text!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def output(layer, x, values):
            set_state(layer, values)
            with torch.no_grad():
                return layer(x).to(torch.float64)

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            trainables = {k: state[k] for k in layer.roles}
            x = inputs(case)
            x64, b64 = x.to(torch.float64), bias64(bias, case)
            gen = case.generator(stream=8)
            moved = {**trainables, **self.transform(state, gen)}
            rival = {**trainables, **self.control(state, gen)}
            y = output(layer, x, trainables)
            y_moved = output(layer, x, moved)
            y_rival = output(layer, x, rival)
            _, abs_here, _, _ = reference_output(spec, state, config, x64, b64)
            _, abs_moved, _, _ = reference_output(spec, {**state, **moved}, config, x64, b64)
            tol = fwd_tolerance(case.torch_dtype, spec.inner_length(case), abs_here + abs_moved)
            m = margin(y_moved - y, tol)
            control = margin(y_rival - y, tol)
            measured = {"max_abs_change": float((y_moved - y).abs().max()), "margin": m,
                        "control_change": float((y_rival - y).abs().max()), "control_margin": control}
            if m > 1.0:
                change = figure(measured['max_abs_change'], float(tol.max()))
                raise Violation(f"{self.text} changed the output by {change} ({ratio(m)}× the tolerance) [{case}]",
                                measured)
            if control <= 10.0:
                raise RuntimeError(f"negative control: {self.control_text} moved the output by only "
                                   f"{measured['control_change']:.3g}; the check cannot see these parameters [{case}]")
            record.add(case, m, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"output unchanged under {self.text} at random trainable values in all "
            f"{rec.examples} examples{rec.worst_clause()}; {self.control_text} moves it (witness change "
            f"{rec.first_measured.get('control_change', float('nan')):.3g})",
        )
