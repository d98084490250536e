"""Mutants of the reference HRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import math

import torch
from torch import nn

from fidelity.impls.reference.hra import HraLinear
from tests.mutants.base import Mutant


class ZeroGate(HraLinear):
    """History C.1: x + gate (x Rᵀ − x) with a trainable gate initialised at 0: an exact identity at init, but U gets
    no gradient (∂L/∂U ∝ gate = 0) and the gate is a trainable the paper does not have."""

    def __init__(self, base, r, apply_GS=False, lam=0.0, gate=0.0):
        super().__init__(base, r, apply_GS, lam)
        self.gate = nn.Parameter(torch.tensor(gate, dtype=base.weight.dtype))

    def forward(self, x):
        return self.base(x + self.gate * (x @ self.transform().T - x))


class HalfGate(ZeroGate):
    """C.1's gate once training moved it to 0.5: (I + R)/2 is not orthogonal. Still an identity at init (R = I)."""

    def __init__(self, base, r, apply_GS=False, lam=0.0):
        super().__init__(base, r, apply_GS, lam, gate=0.5)


class OrderReversed(HraLinear):
    """History C.12: the loop applies H_1 to x first, W Rᵀ instead of W R. Pairs commute, so invisible at init."""

    def transform(self):
        unit = self.hra_u / self.hra_u.norm(dim=0)
        chain = torch.eye(unit.shape[0], dtype=unit.dtype)
        for i in reversed(range(unit.shape[1])):
            u = unit[:, i:i + 1]
            chain = chain - 2 * (chain @ u) @ u.T
        return chain


class UnnormalisedU(HraLinear):
    """H_i = I − 2 u_i u_iᵀ without dividing by ‖u_i‖²: not a reflection unless ‖u_i‖ = 1."""

    def transform(self):
        chain = torch.eye(self.hra_u.shape[0], dtype=self.hra_u.dtype)
        for i in range(self.hra_u.shape[1]):
            u = self.hra_u[:, i:i + 1]
            chain = chain - 2 * (chain @ u) @ u.T
        return chain


class OddRankAccepted(HraLinear):
    """An odd r silently gets r unpaired Kaiming-uniform vectors (PEFT's fall-back, without its warning)."""

    def __init__(self, base, r, apply_GS=False, lam=0.0):
        super().__init__(base, r + r % 2, apply_GS, lam)
        if r % 2:
            u = torch.empty(base.weight.shape[1], r, dtype=base.weight.dtype)
            nn.init.kaiming_uniform_(u, a=math.sqrt(5))
            self.hra_u = nn.Parameter(u)


class LastCoordinateIgnored(HraLinear):
    """The reflections see only the first d_in − 1 coordinates of each u_i: still reflections, still paired."""

    def transform(self):
        u = torch.cat([self.hra_u[:-1], torch.zeros_like(self.hra_u[-1:])])
        unit = u / u.norm(dim=0)
        chain = torch.eye(u.shape[0], dtype=u.dtype)
        for i in range(u.shape[1]):
            chain = chain - 2 * (chain @ unit[:, i:i + 1]) @ unit[:, i:i + 1].T
        return chain


class RegularizerUnsquared(HraLinear):
    """Eq. (6) with ‖I − ÛᵀÛ‖_F instead of its square."""

    def regularizer(self):
        unit = self.hra_u / self.hra_u.norm(dim=0)
        return self.lam * torch.linalg.norm(torch.eye(unit.shape[1], dtype=unit.dtype) - unit.T @ unit)


class RegularizerRawU(HraLinear):
    """Eq. (6) on the raw vectors, UᵀU instead of the unit vectors' ÛᵀÛ."""

    def regularizer(self):
        gram = self.hra_u.T @ self.hra_u
        return self.lam * (torch.eye(gram.shape[0], dtype=gram.dtype) - gram).pow(2).sum()


class GsPairedInit(HraLinear):
    """PEFT's apply_GS: the paired init kept, and classical Gram–Schmidt run on it; the second vector of each pair
    leaves a rounding-noise residual that is normalised into an arbitrary direction (or 0/0)."""

    def __init__(self, base, r, apply_GS=False, lam=0.0):
        super().__init__(base, r, False, lam)  # the paired vectors
        self.apply_GS = apply_GS

    def transform(self):
        if not self.apply_GS:
            return super().transform()
        basis = []
        for i in range(self.hra_u.shape[1]):
            ui = self.hra_u[:, i:i + 1]
            for q in basis:
                ui = ui - (q.T @ ui) * q
            basis.append(ui / ui.norm())
        q = torch.cat(basis, dim=1)
        return torch.eye(q.shape[0], dtype=q.dtype) - 2 * q @ q.T


class GsNotOrthogonalised(HraLinear):
    """apply_GS without the Gram–Schmidt: I − 2 Û Ûᵀ on the unit vectors. Orthogonal at the init [I_r; 0] only."""

    def transform(self):
        if not self.apply_GS:
            return super().transform()
        unit = self.hra_u / self.hra_u.norm(dim=0)
        return torch.eye(unit.shape[0], dtype=unit.dtype) - 2 * unit @ unit.T


class CitationWrongId(HraLinear):
    """Cites the wrong arXiv id that older references (an older lora-lite README) carry for HRA."""

    DOC = "HRA, Yuan et al. 2024, arXiv:2409.01434: a chain of Householder reflections."


class StepwiseReflections(HraLinear):
    """Equivalence control: Eq. (2) literally, x^(j+1) = x^(j) − 2⟨u_(r−j), x^(j)⟩ u_(r−j) on the input, then W."""

    def forward(self, x):
        if self.apply_GS:
            return super().forward(x)
        unit = self.hra_u / self.hra_u.norm(dim=0)
        for j in range(unit.shape[1]):
            u = unit[:, unit.shape[1] - 1 - j]  # (d_in,) u_r first
            x = x - 2 * (x @ u)[:, None] * u
        return self.base(x)


MUTANTS = (
    Mutant("hra", "hra_zero_gate", ZeroGate, ("hra.step0-gradient", "hra.trainable", "hra.chain-formula"),
           survives=("hra.identity-at-init",)),
    Mutant("hra", "hra_gate_half", HalfGate, ("hra.orthogonal", "hra.trainable", "hra.chain-formula"),
           survives=("hra.identity-at-init", "hra.step0-gradient")),
    Mutant("hra", "hra_order_reversed", OrderReversed, ("hra.chain-formula",),
           survives=("hra.identity-at-init", "hra.orthogonal", "hra.influence", "hra.step0-gradient")),
    Mutant("hra", "hra_unnormalised_u", UnnormalisedU, ("hra.orthogonal", "hra.chain-formula", "hra.identity-at-init")),
    Mutant("hra", "hra_odd_r_accepted", OddRankAccepted, ("hra.even-r",),
           survives=("hra.identity-at-init", "hra.chain-formula")),
    Mutant("hra", "hra_last_coordinate_ignored", LastCoordinateIgnored, ("hra.influence", "hra.chain-formula"),
           survives=("hra.identity-at-init", "hra.orthogonal", "hra.step0-gradient")),
    Mutant("hra", "hra_regularizer_unsquared", RegularizerUnsquared, ("hra.orthogonality-regularizer",),
           survives=("hra.chain-formula",)),
    Mutant("hra", "hra_regularizer_raw_u", RegularizerRawU, ("hra.orthogonality-regularizer",),
           survives=("hra.chain-formula",)),
    Mutant("hra", "hra_gs_paired_init", GsPairedInit, ("hra.gs-orthogonal-at-init",),
           survives=("hra.gs-formula", "hra.gs-orthogonal", "hra.identity-at-init")),
    Mutant("hra", "hra_gs_not_orthogonalised", GsNotOrthogonalised, ("hra.gs-formula", "hra.gs-orthogonal"),
           survives=("hra.gs-orthogonal-at-init", "hra.chain-formula")),
    Mutant("hra", "hra_citation_wrong_id", CitationWrongId, ("hra.citation",)),
    Mutant("hra", "hra_stepwise_reflections (control)", StepwiseReflections, (),
           survives=("hra.chain-formula", "hra.orthogonal", "hra.identity-at-init", "hra.influence",
                     "hra.step0-gradient", "hra.trainable")),
)

EXPECTED_MUTANTS = 12
EXPECTED_KILLS = 19
