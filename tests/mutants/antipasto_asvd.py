"""Mutants of the reference antipasto_asvd, each breaking exactly one property (see tests/mutants/__init__.py).

The statistic mutants re-scale the basis from another per-channel (or full) whitening M through antipasto_corda's
`_reorient` (U'_r, S'_r, P = V'ᵀ_r M⁻¹ of SVD(W M), W_res = W − U diag(S) P), so each differs from the reference only
in the statistic. The gain mutants are antipasto_corda's (`gain_mutants`) over this module's class.
"""

from __future__ import annotations

import torch

from fidelity.impls.reference import antipasto_asvd as reference
from fidelity.impls.reference.antipasto_asvd import AntipastoAsvdLinear
from tests.mutants.antipasto_corda import _reorient, _root, _rows, gain_mutants
from tests.mutants.base import Mutant

V = "antipasto_asvd"


class Scaled(AntipastoAsvdLinear):
    """Base of the statistic mutants: the reference, then re-scaled from `whitening(rows, calibration, cov_eps)`."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        if calibrate:
            _reorient(self, weight, self.whitening(_rows(calibration, weight.shape[1]), calibration, cov_eps), r)

    def whitening(self, x, calibration, cov_eps):
        raise NotImplementedError


class PaperEq8(Scaled):
    """ASVD's Eq. 8 (variants.md §2.13): S_ii = (mean_j |X_ji|)^0.5 — paper-faithful, so it makes the declaration of
    `asvd.statistic` STALE; it is neither optimal in E‖(W − Ŵ)x‖² nor antipasto_corda's basis on a diagonal C."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag(x.abs().mean(dim=0).pow(0.5))


class EpsIgnored(Scaled):
    """cov_eps dropped: (E x_i²)^{1/2}, where antipasto_corda keeps (λ + ε)^{1/2}."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag(x.pow(2).mean(dim=0).sqrt())


class EpsOutsideRoot(Scaled):
    """ε added after the square root, (E x_i²)^{1/2} + ε, in place of (E x_i² + ε)^{1/2}."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag(x.pow(2).mean(dim=0).sqrt() + cov_eps)


class CentredStatistic(Scaled):
    """The per-channel variance E[(x_i − x̄_i)²] in place of the uncentred second moment."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag(((x - x.mean(dim=0)).pow(2).mean(dim=0) + cov_eps).sqrt())


class FullCovariance(Scaled):
    """The full (C + εI)^{1/2}, antipasto_corda's whitening, in place of its diagonal: right when C is diagonal, wrong
    on correlated channels (`asvd.diagonal-corda` is an ERROR for it: the two variants are then one code path, which
    the check's non-vacuity guard refuses to call a match)."""

    def whitening(self, x, calibration, cov_eps):
        return _root(x.T @ x / x.shape[0], cov_eps)


class LastSampleOnly(Scaled):
    """The statistic overwritten per calibration sample instead of accumulated: only the last sample counts."""

    def whitening(self, x, calibration, cov_eps):
        last = calibration[-1].to(torch.float64) if calibration.dim() == 3 else x
        return torch.diag((last.pow(2).mean(dim=0) + cov_eps).sqrt())


class SumStatistic(Scaled):
    """The channel sums Σ_j x_ji² in place of the means: a global factor, but not under an absolute ε."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag((x.pow(2).sum(dim=0) + cov_eps).sqrt())


class DiagonalMatmul(Scaled):
    """Equivalence control: W diag(√c) as a matrix product in place of the broadcast W ⊙ √cᵀ (variants.md §3.7)."""

    def whitening(self, x, calibration, cov_eps):
        return torch.diag((x.pow(2).mean(dim=0) + cov_eps).sqrt())


class ScalingNotUndone(AntipastoAsvdLinear):
    """P = V'ᵀ_r, the channel scaling never undone (no S_c⁻¹), with W_res formed from that P: an identity still."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone().to(torch.float64)
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        if calibrate:
            root = (_rows(calibration, weight.shape[1]).pow(2).mean(dim=0) + cov_eps).sqrt()
            with torch.no_grad():
                self.lora_P.copy_(torch.linalg.svd(weight * root, full_matrices=False)[2][:r])
                self.base.weight.copy_(weight - (self.lora_U.double() * self.lora_S.double()) @ self.lora_P.double())


class SilentFallback(AntipastoAsvdLinear):
    """History C.20: without calibration data the plain SVD split is kept instead of raising."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate and calibration is not None, calibration)


class TooFewRowsAccepted(AntipastoAsvdLinear):
    """Fewer than r calibration rows accepted (the statistic exists for any N ≥ 1), where the design raises."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        if calibration is not None and calibration.reshape(-1, base.weight.shape[1]).shape[0] < r:
            calibration = torch.cat([calibration.reshape(-1, base.weight.shape[1])] * r)  # same statistic, count passed
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)


class ResidualPlain(AntipastoAsvdLinear):
    """W_res cropped with the plain SVD's top-r part, while the stored basis is the scaled one."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone().to(torch.float64)
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        u, s, vh = torch.linalg.svd(weight, full_matrices=False)
        with torch.no_grad():
            self.base.weight.copy_(weight - (u[:, :r] * s[:r]) @ vh[:r])


class CalibratesRegardless(AntipastoAsvdLinear):
    """calibrate=False ignored: the basis is scaled by the data anyway, not antipasto's plain split."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        super().__init__(base, r, coeff, suppress_only, cov_eps, True, calibration)


class CitesCorda(AntipastoAsvdLinear):
    """The docstring cites CorDA (arXiv:2406.05223) for the scaled basis instead of ASVD."""

    DOC = "antipasto_asvd — 1+ELU gain (Clark 2026, arXiv:2601.07473) on a diagonal CorDA basis (arXiv:2406.05223)."


GAIN_MUTANTS, GAIN_DECLARED, GAIN_STALE = gain_mutants(AntipastoAsvdLinear, V, "aasvd", "asvd.identity-at-init",
                                                       "asvd.citation", reference.__doc__)

A = "asvd."
MUTANTS = (
    Mutant(V, "aasvd_silent_fallback", SilentFallback, (A + "calibration-required",),
           survives=(A + "identity-at-init", A + "rms-optimality", A + "basis-reconstruction")),
    Mutant(V, "aasvd_too_few_rows_accepted", TooFewRowsAccepted, (A + "calibration-required",),
           survives=(A + "rms-optimality", A + "equal-weighting")),
    Mutant(V, "aasvd_paper_eq8", PaperEq8, (A + "rms-optimality", A + "diagonal-corda"),
           survives=(A + "identity-at-init", A + "basis-reconstruction", A + "equal-weighting")),
    Mutant(V, "aasvd_eps_ignored", EpsIgnored, (A + "rms-optimality", A + "diagonal-corda"),
           survives=(A + "identity-at-init", A + "basis-reconstruction", A + "equal-weighting")),
    Mutant(V, "aasvd_eps_outside_root", EpsOutsideRoot, (A + "rms-optimality", A + "diagonal-corda"),
           survives=(A + "identity-at-init", A + "basis-reconstruction")),
    Mutant(V, "aasvd_centred_statistic", CentredStatistic, (A + "rms-optimality",),
           survives=(A + "diagonal-corda", A + "identity-at-init", A + "equal-weighting")),
    Mutant(V, "aasvd_full_covariance", FullCovariance, (A + "rms-optimality",),
           survives=(A + "identity-at-init", A + "basis-reconstruction", A + "equal-weighting")),
    Mutant(V, "aasvd_sum_statistic", SumStatistic, (A + "rms-optimality", A + "diagonal-corda"),
           survives=(A + "identity-at-init", A + "equal-weighting")),
    Mutant(V, "aasvd_last_sample_only", LastSampleOnly, (A + "equal-weighting",),
           survives=(A + "rms-optimality", A + "diagonal-corda", A + "identity-at-init")),
    Mutant(V, "aasvd_scaling_not_undone", ScalingNotUndone, (A + "rms-optimality", A + "diagonal-corda"),
           survives=(A + "identity-at-init", A + "basis-reconstruction", "antipasto.forward")),
    Mutant(V, "aasvd_residual_plain", ResidualPlain, (A + "basis-reconstruction", A + "identity-at-init"),
           survives=(A + "rms-optimality", A + "diagonal-corda")),
    Mutant(V, "aasvd_calibrates_regardless", CalibratesRegardless, ("antipasto.reconstruction",),
           survives=("antipasto.identity-at-init", A + "rms-optimality")),
    Mutant(V, "aasvd_cites_corda", CitesCorda, (A + "citation",), survives=("antipasto.citation",)),
    *GAIN_MUTANTS,
    Mutant(V, "aasvd_diagonal_matmul (control)", DiagonalMatmul, (),
           survives=(A + "rms-optimality", A + "diagonal-corda", A + "equal-weighting", A + "basis-reconstruction",
                     A + "identity-at-init", "antipasto.forward", "antipasto.confinement")),
)

EXPECTED_MUTANTS = 23
EXPECTED_KILLS = 32

# Judged with the reference's declarations: each must break the declared alternative (the RMS statistic of
# asvd.statistic, or the gain bounds of antipasto.additive-steering) and so turn its DEVIATES-OK into a DEVIATES.
DECLARED_MUTANTS = (
    Mutant(V, "aasvd_eps_outside_root", EpsOutsideRoot, (A + "statistic",), survives=(A + "calibration-required",)),
    Mutant(V, "aasvd_centred_statistic", CentredStatistic, (A + "statistic",), survives=(A + "calibration-required",)),
    Mutant(V, "aasvd_full_covariance", FullCovariance, (A + "statistic",), survives=(A + "calibration-required",)),
    *GAIN_DECLARED,
)

EXPECTED_DECLARED_MUTANTS = 5
EXPECTED_DECLARED_KILLS = 5

# A paper-faithful implementation makes the declaration STALE: (variant, class, claim).
STALE_DECLARATIONS = ((V, PaperEq8, A + "statistic"), *GAIN_STALE)
