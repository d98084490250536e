"""K26 sibling equivalence: in a degenerate case the spec names, a variant computes what a sibling variant computes.

Both variants are built by the same implementation from the same weight and the same calibration rows — rows that
make the case degenerate (`calibration`: e.g. rows whose second moment is exactly diagonal, where ASVD's per-channel
scaling is CorDA's whitening) — and compared at init through their realised states, never through a formula of
either:

- their initial terms T̂ (the spec's `initial_term`, U diag(S) P): the column spaces by projectors within 2·t_sub, and
  ‖T̂_a − T̂_b‖₂ ≤ 2·‖W‖₂·(t_sub + t_alg) — K19's allowances (`allowances` in calibration_statistic.py, from the
  sibling's `Reading` of the same rows), doubled because both sides are realised decompositions;
- their frozen singular values S (r,): two backward-stable SVDs of the same W M agree within 2·k_d·eps·σ_1(W M),
  k_d = 4·max(d) + 128 (Weyl), per value.

Non-vacuity: on the witness the same two variants built from the variant's ordinary calibration rows must differ
(projector distance, term or singular values) by more than 10× those allowances — the equality is the degenerate
case's, not a code path the two happen to share. A binding that does not provide the sibling makes the cell N/A.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from fidelity.cases import LayerCase
from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.checks.calibration_statistic import (Reading, allowances, build_with, column_basis, projector_distance,
                                                   spectral, whitened)
from fidelity.impls.base import NotProvided
from fidelity.numerics import decomp_k, eps
from fidelity.stable import magnitude


class Sibling(Check):
    kind = "sibling"
    topic = "calibration"

    def __init__(self, sibling: str, calibration: Callable[[LayerCase], torch.Tensor], calibration_text: str,
                 reading: Reading, options: dict | None = None):
        super().__init__(options)
        self.sibling = sibling  # the other variant's name
        self.calibration, self.calibration_text = calibration, calibration_text  # the degenerate rows, and what
        self.reading = reading  # the sibling's statistic of the rows: the allowances come from its W M

    def __repr__(self) -> str:
        return f"Sibling({self.sibling}, rows: {self.calibration_text})"

    def run(self, subject: Subject, profile) -> Evidence:
        from fidelity.variants import get_variant

        spec, other = subject.variant, get_variant(self.sibling)
        why_not = subject.binding.provides(other.name, subject.options)
        if why_not:
            raise NotProvided(f"the sibling {other.name} is not provided: {why_not}")
        sibling = Subject(subject.binding, other, subject.options)

        def compare(case, data):
            """(measured, allowances) for the two variants built from `data`."""
            layer, weight = build_with(subject, case, subject.config(case), data)
            twin, _ = build_with(sibling, case, sibling.config(case), data)
            w = weight.to(torch.float64)
            ref = whitened(w, data, sibling.config(case), self.reading, case.r)
            t_sub, t_alg = allowances(case, ref, data.reshape(-1, case.d_in).shape[0])
            mine, theirs = realised_state(layer), realised_state(twin)
            term, twin_term = spec.initial_term(mine, subject.config(case)), other.initial_term(theirs,
                                                                                                sibling.config(case))
            measured = {
                "projector_distance": projector_distance(column_basis(term, case.r), column_basis(twin_term, case.r)),
                "term_error": spectral(term - twin_term),
                "singular_value_error": float((mine["singular"] - theirs["singular"]).abs().max()),
            }
            tolerances = {
                "projector_distance": 2 * t_sub,
                "term_error": 2 * spectral(w) * (t_sub + t_alg),
                "singular_value_error":
                    2 * decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * float(ref.sigma[0]),
            }
            return measured, tolerances

        def prop(case, record):
            if not record.examples:  # the witness: off the degenerate case the two must differ
                plain, plain_tol = compare(case, spec.calibration(case))
                if all(plain[k] <= 10 * plain_tol[k] for k in plain):
                    raise RuntimeError(f"non-vacuity: on the variant's own calibration rows {spec.name} and "
                                       f"{other.name} agree within 10× the allowances too; the check cannot tell "
                                       f"them apart [{case}]")
            measured, tolerances = compare(case, self.calibration(case))
            bad = {k: v for k, v in measured.items() if not (v <= tolerances[k])}
            if bad:
                raise Violation(f"on {self.calibration_text}, {spec.name} differs from {other.name}: " + ", ".join(
                    f"{k.replace('_', ' ')} {magnitude(v)} > {tolerances[k]:.3g}" for k, v in bad.items())
                    + f" (2·t_sub, 2·‖W‖₂·(t_sub + t_alg), 2·k_d·eps·σ_1(W M)) [{case}]",
                    {**measured, **{f"{k}_tolerance": t for k, t in tolerances.items()}})
            record.add(case, max(measured[k] / tolerances[k] for k in measured),
                       {**measured, **{f"{k}_tolerance": t for k, t in tolerances.items()}})

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"on {self.calibration_text}, {spec.name} and {other.name} built by the same "
            f"implementation have the same column space (within 2·t_sub), the same initial term U diag(S) P (within "
            f"2·‖W‖₂·(t_sub + t_alg)) and the same singular values (within 2·k_d·eps·σ_1(W M)) in all {rec.examples} "
            f"examples{rec.worst_clause()}; on the variant's own calibration rows they differ (witness)",
        )
