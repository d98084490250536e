"""K05 per-parameter influence: every trainable tensor, and every slice of it, is used by the forward pass.

At a random non-degenerate state (claim-kinds.md §1.4), each trainable role is perturbed entry by entry by a tenth
of its own size or of the role's, δ = ±0.1 (|p| + rms(p) + 1e-3) with random signs: as a whole, then slice by slice
(each coordinate of a vector, each row and each column of a matrix; at most SLICES per axis, the first and the last
always among them, the rest drawn from the case's seed). A move must change some output entry, on a random batch and
the probe rows I_{d_in}, by more than INFLUENCE × that entry's T-fwd rounding bound 2(n+2)·eps·scale (an unused part
moves nothing, or only by rounding, ≤ 2×: two rounded outputs are subtracted). History C.14: a probe that perturbed
one known parameter name missed an adapter whose only trainable it did not recognise; a gain read through a wrong
slice (a part of the vector unused) passes every whole-tensor test.

The decision is made far from the threshold, whatever the drawn state:
- an entry's step is at least a tenth of its role's rms (an entry drawn near 0, 0.016 in a row of norm 2.3, would
  turn a normalised row by too little to see in float32: 15.6× the bound against the 10× required);
- each slice is moved by +δ and by −δ: f(p + δ) − f(p − δ) ≈ 2 δ·∇f, so one of the two is at least δ·∇f even where
  a step lands across a stationary point (a RoAd angle 0.23 rad below π stepped by +0.44 rad keeps its cos);
- a slice of several entries is also moved orthogonally to its value: a part used only through its direction
  (DeLoRA's normalised columns of B) ignores a δ parallel to it, which random signs give a 2-entry column half the time;
- the moves are tried in turn until one is DECISIVE (100× the bound; almost always the first), then again with steps
  10 and 100 times larger: a used part grows with its step, an unused one stays at rounding (PEFT DoRA's B entry of a
  row of W nearly parallel to A, at d_in = 2, moved that row by 11× the bound, by 110× with a tenfold step).
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import (Check, Evidence, Subject, Violation, bias64, build_randomized, reference_output,
                                  run_property, set_state)
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import noisy

SLICES = 12  # slices perturbed per axis of a role (all of them when there are fewer)
INFLUENCE = 10.0  # a 10 % perturbation of a used parameter moves the output by orders more than rounding
DECISIVE = 10 * INFLUENCE  # a move this far above rounding needs no larger step
ESCALATION = (1.0, 10.0, 100.0)  # step multiples tried in turn while the move is not decisive


def _orthogonal(value: torch.Tensor, like: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A random tensor of `like`'s norm orthogonal to `value` (both one slice): it turns the slice, never scales it."""
    r = torch.randn(value.shape, generator=gen, dtype=torch.float64)
    norm2 = float(value.pow(2).sum())
    if norm2 > 0:
        r -= (float((r * value).sum()) / norm2) * value
    return r * (float(like.norm()) / max(float(r.norm()), 1e-300))


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
                size = 0.1 * (value.abs() + float(value.pow(2).mean().sqrt()) + 1e-3)
                signs = torch.where(torch.rand(value.shape, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
                for label, index in _slices(tuple(value.shape), gen):
                    step = (signs * size)[index]
                    steps = [step, -step] + ([_orthogonal(value[index], step, gen)] if step.numel() > 1 else [])
                    ratio, change = -1.0, None
                    for delta in (grow * step for grow in ESCALATION for step in steps):  # until one is decisive
                        moved = value.clone()
                        moved[index] += delta
                        set_state(layer, {name: moved})
                        with torch.no_grad():
                            moved_change = layer(x).to(torch.float64) - y
                        moved_ratio = margin(moved_change, tol)
                        if moved_ratio > ratio:
                            ratio, change = moved_ratio, moved_change
                        if ratio > DECISIVE:
                            break
                    set_state(layer, {name: value})
                    weakest = min(weakest, ratio)
                    if ratio <= INFLUENCE:
                        moved = float(change.abs().max())
                        measured = {"output_change": moved, "ratio": ratio}
                        raise Violation(f"perturbing '{name}' {label} by ±10 % of its scale, and up to "
                                        f"{ESCALATION[-1]:g} times that, moved the output by only "
                                        + noisy(f"{moved:.3g}, at most {ratio:.3g}× an entry's rounding bound",
                                                "up to its rounding bound")
                                        + f" (required > {INFLUENCE:g}×): that part of the parameter is not used "
                                        f"[{case}]", measured)
            record.add(case, INFLUENCE / weakest, {"weakest_ratio": weakest})

        roles = ", ".join(r.name for r in spec.roles)
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"perturbing each trainable tensor ({roles}), and each of its coordinates, rows "
            f"and columns (up to {SLICES} per axis), by ±10 % (orthogonally too, for a slice of several entries; up to "
            f"{ESCALATION[-1]:g} times more where the move is not decisive) moved some output entry by more than "
            f"{INFLUENCE:g}× its rounding bound in all {rec.examples} examples"
            + noisy(f" (weakest move: {INFLUENCE / rec.worst:.3g}× the bound, {rec.worst_case})"),
        )
