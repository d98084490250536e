"""Mutants of the reference OLoRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch

from fidelity.impls.reference.olora import OloraLinear
from tests.mutants.base import Mutant


class BNotOrthonormalised(OloraLinear):
    """B = W[:, :r], the raw columns, and A = R_rr⁻¹ R_r: the same B A, span and residual, but Bᵀ B ≠ I."""

    def __init__(self, base, r, alpha):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            head = self.lora_A[:, :r].clone()  # (r, r) upper-triangular R_rr
            self.lora_A.copy_(torch.linalg.solve_triangular(head, self.lora_A, upper=True))
            self.lora_B.copy_(self.lora_B @ head)


class LastColumns(OloraLinear):
    """QR of W's columns in reverse order: B spans W's last r columns (W_res = W − s B A still holds)."""

    def __init__(self, base, r, alpha):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            base.weight.add_(self.scaling * self.lora_B @ self.lora_A)  # back to W
            q, rr = torch.linalg.qr(base.weight.flip(1))
            self.lora_B.copy_(q[:, :r])
            self.lora_A.copy_(rr[:r].flip(1))
            base.weight.sub_(self.scaling * self.lora_B @ self.lora_A)


class ResidualNotRewritten(OloraLinear):
    """The base weight is left as W: Q_r R_r is counted twice at init."""

    def __init__(self, base, r, alpha):
        super().__init__(base, r, alpha)
        with torch.no_grad():
            base.weight.add_(self.scaling * self.lora_B @ self.lora_A)


class QrSignsFlipped(OloraLinear):
    """Equivalence control: the QR's sign convention flipped, (Q_r D, D R_r); the same B A, span and function."""

    def __init__(self, base, r, alpha):
        super().__init__(base, r, alpha)
        d = torch.where(torch.arange(r) % 2 == 0, -1.0, 1.0).to(self.lora_A.dtype)  # (r,)
        with torch.no_grad():
            self.lora_A.mul_(d[:, None])
            self.lora_B.mul_(d)


MUTANTS = (
    Mutant("olora", "olora_B_not_orthonormalised", BNotOrthonormalised, ("olora.orthonormal-basis",),
           survives=("olora.reconstruction", "olora.identity-at-init", "olora.forward")),
    Mutant("olora", "olora_last_columns", LastColumns, ("olora.orthonormal-basis",),
           survives=("olora.reconstruction", "olora.identity-at-init")),
    Mutant("olora", "olora_residual_not_rewritten", ResidualNotRewritten,
           ("olora.identity-at-init", "olora.reconstruction"), survives=("olora.orthonormal-basis",)),
    Mutant("olora", "olora_qr_signs_flipped (control)", QrSignsFlipped, (),
           survives=("olora.orthonormal-basis", "olora.reconstruction", "olora.identity-at-init", "olora.forward",
                     "olora.step0-gradient", "olora.trainable")),
)

EXPECTED_MUTANTS = 4
EXPECTED_KILLS = 4
