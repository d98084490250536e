"""K05/K10 support: each trainable acts on exactly its stated entries of the core on the frozen subspace coordinates.

For a frozen-SVD-basis adapter the update is W_eff − W_res = U C Vh with C the r × r core on the subspace coordinates
(row i: the output along u_i; column j: the input along v_j). At a random non-degenerate state (claim-kinds.md §1.4),
each region's role is moved by each of the region's own `moves` in turn (steps sized by the variant so that the entries
they reach change by a sizeable multiple of S, whatever the state), and the change of the core is measured through the
probe (claim-kinds.md §1.3), never read: ΔC = U⁺ (W_eff(after) − W_eff(before)) Vh⁺ (U, Vh the realised buffers). Then

- under every move, outside the region's mask every |ΔC_ij| ≤ ε_ij: the role reaches no other coordinate (a block on
  the wrong coordinates, a diagonal gain that mixes, a slice off by one);
- every entry inside the mask moves by more than FILL · ε_ij under at least one move: the role reaches every
  coordinate it claims (a block used only through its diagonal, a gain read through a shorter slice).

A region may need several moves to be decisive: ε grows with the formula on absolute values, and a dense block moved
everywhere at once inflates every row's |K| by the whole move (b entries), while one column at a time adds one entry.

ε_ij = (|U⁺| E |Vh⁺|)_ij, E the elementwise error bound of the two probed effective weights, each 2 · T-fwd
2(n+2)·eps·scale (two rounded outputs subtracted; scale the variant's formula on absolute values at that state), plus
the float64 projection's own rounding 2(d_in + d_out + 2)·eps64·|ΔW|. A NaN anywhere fails. Non-vacuity is the fill
requirement itself: a move that changes nothing fails it, so a region whose move is too small to see is a defect of
the variant's move, reported as such by the margin in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from fidelity.checks.base import (Check, Evidence, Subject, Violation, build_randomized, effective_weight,
                                  realised_state, run_property, set_state)
from fidelity.numerics import fwd_tolerance
from fidelity.stable import figure, noisy

FILL = 10.0  # an entry the role reaches must move by more than this many times its rounding bound


@dataclass(frozen=True)
class Region:
    """One role's claimed reach: `mask(config)` an (r, r) bool tensor of the core entries it may move, `moves(state,
    config, generator)` a list of new values of the role (float64, the role's shape) that together reach every entry of
    the mask, `text` the region in words."""

    role: str
    mask: Callable
    moves: Callable
    text: str


class Support(Check):
    kind = "support"
    topic = "forward"

    def __init__(self, regions: tuple[Region, ...], options: dict | None = None):
        super().__init__(options)
        self.regions = tuple(regions)

    def __repr__(self) -> str:
        return f"Support({'; '.join(f'{g.role}: {g.text}' for g in self.regions)}" \
               f"{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def probe(layer, case, config, bias):
            """W_eff from the probe and its elementwise error bound (2 · T-fwd of the formula at the realised state)."""
            w_eff, _ = effective_weight(layer, case)
            _, w_abs = spec.effective_weight(realised_state(layer), config)
            b_abs = bias.abs().to(torch.float64)[:, None] if bias is not None else 0.0
            return w_eff, 2 * fwd_tolerance(case.torch_dtype, spec.inner_length(case), w_abs + b_abs)

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            u_pinv, vh_pinv = torch.linalg.pinv(state["basis_out"]), torch.linalg.pinv(state["basis_in"])
            w_before, tol_before = probe(layer, case, config, bias)
            gen = case.generator(stream=10)
            worst, weakest, measured = 0.0, float("inf"), {}
            for region in self.regions:
                mask = torch.as_tensor(region.mask(config), dtype=torch.bool)
                where = f"moving '{region.role}' ({region.text})"
                reached = torch.zeros(mask.shape, dtype=torch.float64)  # the largest |ΔC_ij| / ε_ij over the moves
                changes = torch.zeros(mask.shape, dtype=torch.float64)
                out_max = 0.0
                for moved in region.moves(state, config, gen):
                    set_state(layer, {region.role: moved})
                    w_after, tol_after = probe(layer, case, config, bias)
                    set_state(layer, {region.role: state[region.role]})
                    delta_w = w_after - w_before
                    error = tol_before + tol_after + fwd_tolerance(torch.float64, case.d_in + case.d_out, delta_w.abs())
                    delta_c = u_pinv @ delta_w @ vh_pinv  # (r, r) change of the core
                    bound = u_pinv.abs() @ error @ vh_pinv.abs()  # (r, r) ε_ij
                    if not torch.isfinite(delta_c).all():
                        raise Violation(f"{where} gives a NaN or infinite core [{case}]")
                    ratio_c = delta_c.abs() / bound
                    outside = torch.where(mask, torch.zeros_like(ratio_c), ratio_c)
                    out_max = max(out_max, float(outside.max()))
                    if float(outside.max()) > 1.0:
                        i, j = divmod(int(outside.argmax()), outside.shape[1])
                        raise Violation(f"{where} changed the core outside that region: entry ({i + 1}, {j + 1}) "
                                        f"(output along u_{i + 1}, input along v_{j + 1}) moved by "
                                        f"{figure(float(delta_c[i, j].abs()), float(bound[i, j]))}, above its rounding "
                                        f"bound {figure(float(bound[i, j]), float(bound[i, j]) * 1e-6)} [{case}]",
                                        {"outside_margin": float(outside.max())})
                    better = ratio_c > reached
                    reached, changes = torch.where(better, ratio_c, reached), torch.where(better, delta_c.abs(), changes)
                inside = torch.where(mask, reached, torch.full_like(reached, float("inf")))
                in_min = float(inside.min())
                measured.update({f"{region.role}_outside_margin": out_max, f"{region.role}_inside_min_ratio": in_min})
                if not in_min > FILL:  # NaN-safe
                    i, j = divmod(int(inside.argmin()), inside.shape[1])
                    raise Violation(f"{where} left core entry ({i + 1}, {j + 1}) of that region unchanged: it moved by "
                                    + noisy(f"{float(changes[i, j]):.3g}, {in_min:.3g}× its rounding bound",
                                            "at most its rounding bound")
                                    + f" (required > {FILL:g}×): the role does not reach every coordinate it claims "
                                    f"[{case}]", measured)
                worst, weakest = max(worst, out_max), min(weakest, in_min)
            measured.update({"outside_margin": worst, "weakest_fill": weakest})
            record.add(case, max(worst, FILL / weakest), measured)

        regions = "; ".join(f"'{g.role}' only {g.text}" for g in self.regions)
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"at random trained values, the core on the frozen subspace coordinates, "
            f"U⁺ ΔW_eff Vh⁺ from the probe, changes under a move of {regions}: every other entry within its rounding "
            f"bound and every entry of the region by more than {FILL:g}× it, in all {rec.examples} examples"
            + rec.worst_clause(),
        )
