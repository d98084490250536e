"""Mutants of the reference EVA, each breaking exactly one property (see tests/mutants/__init__.py).

The two readings of "the right singular vectors of the activations" (variants.md §4 row 9) are a pair: the claim
adjudicates the centred one, so `eva_uncentred` (lora-lite's raw-X SVD) must be killed, and the centred reading
computed another way (`eva_centred_via_covariance`, an eigendecomposition of the scatter matrix) must survive —
had the uncentred reading been adjudicated, the roles would swap. History C.11 (load re-ran calibration) needs a
save/load check (K21) and C.17 (calibration through a cropped model) a multi-layer calibration harness; neither is
in the suite yet, so neither is encoded here.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from fidelity.impls.reference.eva import EvaLinear
from tests.mutants.base import Mutant


def _kaiming_a(r: int, d_in: int, dtype) -> torch.Tensor:
    """A plain LoRA down-projection, Kaiming-uniform as in microsoft/LoRA and PEFT."""
    a = torch.empty(r, d_in, dtype=dtype)
    nn.init.kaiming_uniform_(a, a=math.sqrt(5))
    return a


class AFrozen(EvaLinear):
    """History C.10: A stored as a frozen buffer, so only B ever trains."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        a = self.lora_A.detach().clone()
        del self.lora_A
        self.register_buffer("lora_A", a)


class Uncentred(EvaLinear):
    """The uncentred reading (lora-lite's): right singular vectors of the raw X, mean included."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        x = calibration.detach().to(torch.float64)
        with torch.no_grad():
            self.lora_A.copy_(torch.linalg.svd(x, full_matrices=False)[2][:r])


class CentredViaCovariance(EvaLinear):
    """Equivalence control: the centred reading from eigh of the scatter (X − x̄)ᵀ(X − x̄), top-r eigenvectors."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        x = calibration.detach().to(torch.float64)
        xc = x - x.mean(dim=0)
        _, vecs = torch.linalg.eigh(xc.T @ xc)  # ascending eigenvalues
        with torch.no_grad():
            self.lora_A.copy_(vecs[:, -r:].flip(1).T)


class RowSignsFlipped(EvaLinear):
    """Equivalence control: every other row of A negated; a singular vector's sign is free."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        with torch.no_grad():
            self.lora_A[::2].neg_()


class CalibrationIgnored(EvaLinear):
    """Requires the data, then ignores it: a plain LoRA init (Kaiming-uniform A, B = 0)."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        with torch.no_grad():
            self.lora_A.copy_(_kaiming_a(r, base.weight.shape[1], self.lora_A.dtype))


class SilentFallback(EvaLinear):
    """History C.20's class: without data it silently falls back to a plain LoRA init instead of raising."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        if calibration is not None:
            super().__init__(base, r, alpha, calibration, **options)
            return
        nn.Module.__init__(self)
        self.base = base.requires_grad_(False)
        self.scaling = alpha / r
        self.lora_A = nn.Parameter(_kaiming_a(r, base.weight.shape[1], base.weight.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.weight.shape[0], r, dtype=base.weight.dtype))


class ShortDataPadded(EvaLinear):
    """With fewer than r rows it pads the calibration data with zero rows instead of raising."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        if calibration is not None and calibration.shape[0] < r:
            pad = calibration.new_zeros(r - calibration.shape[0], calibration.shape[1])
            calibration = torch.cat([calibration, pad])
        super().__init__(base, r, alpha, calibration, **options)


class Whitened(EvaLinear):
    """PEFT's `whiten=True` behaviour where whitening is off: rows divided by √σ_i, no longer unit norm."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        x = calibration.detach().to(torch.float64)
        s = torch.linalg.svdvals(x - x.mean(dim=0))[:r]
        with torch.no_grad():
            self.lora_A.div_(s.sqrt().to(self.lora_A.dtype)[:, None])


class WhitenIgnored(EvaLinear):
    """whiten=True accepted and ignored: A keeps orthonormal rows."""

    def __init__(self, base, r, alpha, calibration=None, rho=1.0, whiten=False, adjust_scaling_factors=True):
        super().__init__(base, r, alpha, calibration, rho=rho, whiten=False)


class RankTimesRho(EvaLinear):
    """rho read as the layer's rank: round(r·rho) principal directions kept (no budget), padded B."""

    def __init__(self, base, r, alpha, calibration=None, rho=1.0, whiten=False, adjust_scaling_factors=True):
        r_l = min(round(r * rho), base.weight.shape[1])
        super().__init__(base, r_l, alpha * r_l / r if adjust_scaling_factors else alpha, calibration, whiten=whiten)


class BRandom(EvaLinear):
    """B initialised non-zero: not an identity at init."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        with torch.no_grad():
            self.lora_B.normal_()


class AlphaNotOverR(EvaLinear):
    """α applied instead of α/r."""

    def __init__(self, base, r, alpha, calibration=None, **options):
        super().__init__(base, r, alpha, calibration, **options)
        self.scaling = alpha


class CitationWrongId(EvaLinear):
    """The docstring cites the wrong arXiv id an older lora-lite README carried (variants.md §1)."""

    DOC = "EVA — Paischer et al. 2024, Explained Variance Adaptation, arXiv:2409.07871."


MUTANTS = (
    Mutant("eva", "eva_A_frozen", AFrozen, ("eva.trainable-a", "eva.step0-gradient"),
           survives=("eva.identity-at-init", "eva.principal-subspace", "lora.forward")),
    Mutant("eva", "eva_uncentred", Uncentred, ("eva.principal-subspace",),
           survives=("eva.identity-at-init", "eva.calibration-required")),
    Mutant("eva", "eva_calibration_ignored", CalibrationIgnored, ("eva.principal-subspace",),
           survives=("eva.identity-at-init", "eva.zero-init", "eva.calibration-required")),
    Mutant("eva", "eva_silent_fallback", SilentFallback, ("eva.calibration-required",),
           survives=("eva.principal-subspace", "eva.identity-at-init")),
    Mutant("eva", "eva_short_data_padded", ShortDataPadded, ("eva.calibration-required",),
           survives=("eva.principal-subspace",)),
    Mutant("eva", "eva_whitened", Whitened, ("eva.principal-subspace",),
           survives=("eva.identity-at-init", "lora.forward")),
    Mutant("eva", "eva_whiten_ignored", WhitenIgnored, ("eva.whiten",),
           survives=("eva.principal-subspace", "eva.rho-rank", "eva.identity-at-init")),
    Mutant("eva", "eva_rank_times_rho", RankTimesRho, ("eva.rho-rank",),
           survives=("eva.principal-subspace", "eva.whiten", "eva.identity-at-init")),
    Mutant("eva", "eva_B_random", BRandom, ("eva.identity-at-init", "eva.zero-init")),
    Mutant("eva", "eva_alpha_not_over_r", AlphaNotOverR, ("lora.scaling", "lora.forward"),
           survives=("eva.identity-at-init", "eva.principal-subspace")),
    Mutant("eva", "eva_citation_wrong_id", CitationWrongId, ("eva.citation",)),
    Mutant("eva", "eva_centred_via_covariance (control)", CentredViaCovariance, (),
           survives=("eva.principal-subspace", "eva.identity-at-init", "eva.zero-init", "eva.calibration-required")),
    Mutant("eva", "eva_row_signs_flipped (control)", RowSignsFlipped, (),
           survives=("eva.principal-subspace", "eva.identity-at-init", "eva.step0-gradient", "lora.forward")),
)

EXPECTED_MUTANTS = 13
EXPECTED_KILLS = 14
