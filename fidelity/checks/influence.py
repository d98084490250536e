"""K05 per-parameter influence: every trainable tensor, and every slice of it, is used by the forward pass.

At a random non-degenerate state (claim-kinds.md §1.4), each trainable role is perturbed entry by entry by 10 % of
its own size, δ = ±0.1 (|p| + 0.01 rms(p) + 1e-3) with random signs (never a near-zero draw): as a whole, then slice by slice (each coordinate of a vector, each row and each column of a
matrix; at most SLICES per axis, the first and the last always among them, the rest drawn from the case's seed).
Each perturbation must move some output entry, on a random batch and the probe rows I_{d_in}, by more than
INFLUENCE × that entry's T-fwd rounding bound 2(n+2)·eps·scale (an unused part moves nothing, or only by rounding,
≤ 1×). History C.14: a probe
that perturbed one known parameter name missed an adapter whose only trainable it did not recognise; a gain read
through a wrong slice (a part of the vector unused) passes every whole-tensor test.
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, reference_output,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance, margin

SLICES = 12  # slices perturbed per axis of a role (all of them when there are fewer)
INFLUENCE = 10.0  # a 10 % perturbation of a used parameter moves the output by orders more than rounding


def _slices(shape: tuple[int, ...], gen: torch.Generator) -> list[tuple[str, tuple]]:
    """(label, index) of the slices perturbed one at a time: whole tensor, then along each axis."""
    out = [("all", (...,))]
    for axis, size in enumerate(shape):
        if len(shape) == 1 or size > 1:
            picks = list(range(size)) if size <= SLICES else sorted(
                {0, size - 1, *torch.randperm(size - 2, generator=gen)[: SLICES - 2].add(1).tolist()})
            for i in picks:
                index = tuple(i if a == axis else slice(None) for a in range(len(shape)))
                out.append((f"axis{axis}[{i}]", index))
    return out


class Influence(Check):
    kind = "influence"
    topic = "forward"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            # The random batch plus the probe rows I_{d_in} (claim-kinds.md §1.3): a slice that acts on one input or
            # output feature (an IA3 gain entry) then moves some output by a size set by W, not by how close one
            # Gaussian x_j fell to 0 (with one random row, used IA3 gain entries measured 0.45× the bound)
            x = torch.cat([inputs(case), torch.eye(case.d_in, dtype=case.torch_dtype)])
            _, y_abs, _, _ = reference_output(spec, state, config, x.to(torch.float64), bias64(bias, case))
            tol = fwd_tolerance(case.torch_dtype, spec.inner_length(case), y_abs)
            with torch.no_grad():
                y = layer(x).to(torch.float64)
            gen = case.generator(stream=7)
            weakest = float("inf")
            for name in layer.roles:
                value = state[name]
                size = 0.1 * (value.abs() + 0.01 * float(value.pow(2).mean().sqrt()) + 1e-3)
                signs = torch.where(torch.rand(value.shape, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
                for label, index in _slices(tuple(value.shape), gen):
                    moved = value.clone()
                    moved[index] += (signs * size)[index]
                    set_state(layer, {name: moved})
                    with torch.no_grad():
                        change = layer(x).to(torch.float64) - y
                    set_state(layer, {name: value})
                    ratio = margin(change, tol)
                    weakest = min(weakest, ratio)
                    if ratio <= INFLUENCE:
                        moved = float(change.abs().max())
                        measured = {"output_change": moved, "ratio": ratio}
                        raise Violation(f"perturbing '{name}' {label} by 10 % of its scale moved the output by only "
                                        f"{moved:.3g}, at most {ratio:.3g}× an entry's rounding bound (required > "
                                        f"{INFLUENCE:g}×): that part of the parameter is not used [{case}]", measured)
            record.add(case, INFLUENCE / weakest, {"weakest_ratio": weakest})

        roles = ", ".join(r.name for r in spec.roles)
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"perturbing each trainable tensor ({roles}), and each of its coordinates, rows "
            f"and columns (up to {SLICES} per axis), moved some output entry by more than {INFLUENCE:g}× its rounding bound "
            f"in all {rec.examples} examples (weakest move: {INFLUENCE / rec.worst:.3g}× the bound)",
        )
