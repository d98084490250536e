"""K09 decomposition: the stored bases span the subspaces the paper names, compared through projectors.

The variant spec states its subspace claims as `SubspaceClaim`s (an estimate read from the realised tensors, the true
top-r basis computed independently in float64, the condition σ_1 / gap of the decomposed matrix, and a wrong basis for
the negative control). Signs and rotations inside the span are free, so only projectors are compared: ‖P̂ − P‖₂ ≤ k_d ·
eps · σ_1 / gap (Davis–Kahan, T-sub; k_d = 4 max(d_in, d_out) + 128, fidelity/numerics.py), or a declared T-approx
allowance for iterative decompositions; the distance to the wrong subspace must be large (≥ 0.5). A claim that the
stored basis is itself orthonormal (OLoRA's B = Q_r) also requires ‖Qᵀ Q − I‖_max ≤ k_d · eps (T-decomp with σ_1 = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, realised_state, run_property
from fidelity.numerics import decomp_k, eps
from fidelity.stable import magnitude


@dataclass(frozen=True)
class SubspaceClaim:
    """One subspace claim of a variant: span(estimate) = span(truth), and far from span(wrong)."""

    name: str
    estimate: torch.Tensor  # (n, r) columns spanning what the implementation realised
    truth: torch.Tensor  # (n, r) the paper's subspace, computed independently in float64
    condition: float  # σ_1 / (σ_r − σ_(r+1)) of the decomposed matrix
    wrong: torch.Tensor  # (n, r) a subspace the estimate must be far from (e.g. the bottom-r one)
    approx: float = 0.0  # a declared T-approx allowance (iterative SVDs); 0 = exact, T-sub applies
    singular_values: torch.Tensor | None = None  # of the decomposed matrix, descending (for declared allowances)
    orthonormal: bool = False  # the estimate's columns must themselves be orthonormal (BᵀB = I)


def projector(basis: torch.Tensor) -> torch.Tensor:
    q, _ = torch.linalg.qr(basis.to(torch.float64))
    return q @ q.T


def subspace_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖P_a − P_b‖₂: the sine of the largest principal angle between the spans."""
    return float(torch.linalg.matrix_norm(projector(a) - projector(b), ord=2))


class Decomposition(Check):
    kind = "decomposition"
    topic = "init"

    def __init__(self, options: dict | None = None, allowance=None, allowance_text: str = ""):
        super().__init__(options)
        # A declared T-approx allowance, (case, SubspaceClaim) -> float, used in place of T-sub: only as the
        # alternative of an implementation's declared deviation (an iterative or randomized decomposition).
        self.allowance, self.allowance_text = allowance, allowance_text

    def __repr__(self) -> str:
        return f"Decomposition(allowance={self.allowance_text})" if self.allowance else super().__repr__()

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        seen = {"names": (), "approx": False, "orthonormal": False}  # what the observation line reports

        def prop(case, record):
            config = subject.config(case)
            layer, weight, _ = subject.build(case, config)
            claims = spec.subspaces(case, realised_state(layer), weight.to(torch.float64), spec.calibration(case),
                                    config)
            measured, worst = {}, 0.0
            seen["names"] = tuple(dict.fromkeys(seen["names"] + tuple(c.name for c in claims)))  # across examples
            for c in claims:
                seen["approx"] |= bool(c.approx)
                seen["orthonormal"] |= c.orthonormal
                declared = c.approx or (self.allowance(case, c) if self.allowance else 0.0)
                tol = declared or decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype) * c.condition
                seen["approx"] |= bool(declared)
                dist, far = subspace_distance(c.estimate, c.truth), subspace_distance(c.estimate, c.wrong)
                measured.update({f"{c.name}_distance": dist, f"{c.name}_tolerance": tol, f"{c.name}_to_wrong": far})
                if not (dist <= tol):
                    # an iterative or randomized decomposition's error is itself moved by rounding: its order only
                    raise Violation(f"{c.name}: ‖P̂ − P‖₂ = {magnitude(dist)} > {tol:.3g} "
                                    f"({'declared T-approx' if declared else 'k_d·eps·σ_1/gap, k_d = 4·max(d) + 128'}) "
                                    f"[{case}]",
                                    measured)
                if far < 0.5:
                    raise RuntimeError(f"negative control: {c.name} is only {far:.3g} from the wrong subspace; the "
                                       f"check cannot tell them apart [{case}]")
                worst = max(worst, dist / tol)
                if c.orthonormal:
                    gram = c.estimate.to(torch.float64).T @ c.estimate.to(torch.float64)
                    err = float((gram - torch.eye(gram.shape[0], dtype=torch.float64)).abs().max())
                    tol_orth = decomp_k(case.d_in, case.d_out) * eps(case.torch_dtype)
                    measured.update({f"{c.name}_orthonormality": err, f"{c.name}_orthonormality_tolerance": tol_orth})
                    if not (err <= tol_orth):
                        raise Violation(f"{c.name}: the basis is not orthonormal, ‖QᵀQ − I‖_max = {magnitude(err)} > "
                                        f"{tol_orth:.3g} (k_d·eps) [{case}]", measured)
                    worst = max(worst, err / tol_orth)
            record.add(case, worst, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"every stored subspace ({', '.join(seen['names'])}) equals the paper's within "
            + ("the declared T-approx allowance" if seen["approx"] else "T-sub, k_d·eps·condition")
            + " (projectors, so signs are free)"
            + (", is orthonormal within k_d·eps" if seen["orthonormal"] else "")
            + f" and is far from the negative control, in all {rec.examples} examples"
            + (" (k_d = 4·max(d) + 128)" if seen["orthonormal"] or not seen["approx"] else "") + rec.worst_clause(),
        )
