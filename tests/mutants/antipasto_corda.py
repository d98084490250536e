"""Mutants of the reference antipasto_corda, each breaking exactly one property (see tests/mutants/__init__.py).

The whitening mutants re-orient the basis from another matrix M through `_reorient` (same split, same residual rule:
U = U'_r, S = S'_r, P = V'ᵀ_r M⁻¹ of SVD(W M), W_res = W − U diag(S) P), so each differs from the reference only in
the statistic it whitens with. The gain mutants (`gain_mutants`, shared with antipasto_asvd) change the forward pass
or the trainable only. MUTANTS are judged against the papers with nothing declared; DECLARED_MUTANTS break the
property a declared deviation puts in place of the paper's (the C^{1/2} statistic of `corda.oriented-basis`, the
gain bounds of `antipasto.additive-steering`) and are judged with the declarations in force.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from fidelity.impls.reference import antipasto_corda as reference
from fidelity.impls.reference.antipasto_corda import AntipastoCordaLinear
from tests.mutants.base import Mutant

V = "antipasto_corda"


def _rows(calibration, d_in: int) -> torch.Tensor:
    return calibration.reshape(-1, d_in).to(torch.float64)


def _root(c: torch.Tensor, eps: float) -> torch.Tensor:
    """(C + εI)^{1/2} through eigh, λ ← max(λ, 0) + ε (the reference's whitening, for mutants that change C)."""
    lam, q = torch.linalg.eigh(c)
    return (q * (lam.clamp(min=0) + eps).sqrt()) @ q.T


def _reorient(layer, weight: torch.Tensor, m: torch.Tensor, r: int) -> None:
    """Re-split the layer from SVD(W M) for another whitening M: U'_r, S'_r, P = V'ᵀ_r M⁻¹, W_res = W − U diag(S) P."""
    w = weight.to(torch.float64)
    u, s, vh = torch.linalg.svd(w @ m, full_matrices=False)
    p = torch.linalg.solve(m.T, vh[:r].T).T  # (r, d_in) V'ᵀ_r M⁻¹
    with torch.no_grad():
        layer.lora_U.copy_(u[:, :r])
        layer.lora_S.copy_(s[:r])
        layer.lora_P.copy_(p)
        term = (layer.lora_U.double() * layer.lora_S.double()) @ layer.lora_P.double()
        layer.base.weight.copy_(w - term)


class Whitened(AntipastoCordaLinear):
    """Base of the whitening mutants: the reference, then re-oriented from `whitening(rows, calibration, cov_eps)`."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone()
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        if calibrate:
            _reorient(self, weight, self.whitening(_rows(calibration, weight.shape[1]), calibration, cov_eps), r)

    def whitening(self, x, calibration, cov_eps):
        raise NotImplementedError


class PaperWC(Whitened):
    """The paper's reading (Eq. 2–3): SVD(W C) and P = (Vᵀ C⁻¹)_r, C undamped — paper-faithful, so it makes the
    declaration of `corda.oriented-basis` STALE, and it loses the whitened optimality the design rests on."""

    def whitening(self, x, calibration, cov_eps):
        return x.T @ x / x.shape[0]


class CalibrationIgnored(Whitened):
    """Data required, then ignored: M = I, the plain top-r split whatever the activations."""

    def whitening(self, x, calibration, cov_eps):
        return torch.eye(x.shape[1], dtype=torch.float64)


class CentredCovariance(Whitened):
    """The centred covariance (X − x̄)ᵀ(X − x̄)/N in place of the uncentred second moment."""

    def whitening(self, x, calibration, cov_eps):
        x = x - x.mean(dim=0)
        return _root(x.T @ x / x.shape[0], cov_eps)


class EpsIgnored(Whitened):
    """cov_eps dropped: C^{1/2} of the raw eigenvalues (max(λ, 0)), not (C + εI)^{1/2}."""

    def whitening(self, x, calibration, cov_eps):
        return _root(x.T @ x / x.shape[0], 0.0)


class SumCovariance(Whitened):
    """C = XᵀX summed, not averaged: a global factor that cancels for CorDA's undamped C, but not under an absolute
    ε, whose weight it divides by N."""

    def whitening(self, x, calibration, cov_eps):
        return _root(x.T @ x, cov_eps)


class LastSampleOnly(Whitened):
    """The covariance overwritten per calibration sample instead of accumulated: only the last sample counts."""

    def whitening(self, x, calibration, cov_eps):
        last = calibration[-1].to(torch.float64) if calibration.dim() == 3 else x
        return _root(last.T @ last / last.shape[0], cov_eps)


class Cholesky(Whitened):
    """Equivalence control: a Cholesky factor L (C + εI = L Lᵀ) in place of (C + εI)^{1/2}: W L = W C^{1/2} O with O
    orthogonal, so U, S and P = V'ᵀ_r L⁻¹ are the same."""

    def whitening(self, x, calibration, cov_eps):
        c = x.T @ x / x.shape[0]
        return torch.linalg.cholesky(c + cov_eps * torch.eye(c.shape[0], dtype=c.dtype))


class NotUnwhitened(AntipastoCordaLinear):
    """P = V'ᵀ_r, the whitening never undone (no C^{-1/2}), with W_res formed from that P: an identity still."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone().to(torch.float64)
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        if calibrate:
            x = _rows(calibration, weight.shape[1])
            vh = torch.linalg.svd(weight @ _root(x.T @ x / x.shape[0], cov_eps), full_matrices=False)[2]
            with torch.no_grad():
                self.lora_P.copy_(vh[:r])
                self.base.weight.copy_(weight - (self.lora_U.double() * self.lora_S.double()) @ self.lora_P.double())


class SilentFallback(AntipastoCordaLinear):
    """History C.20: without calibration data the plain SVD split is kept instead of raising."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate and calibration is not None, calibration)


class TooFewRowsAccepted(AntipastoCordaLinear):
    """Fewer than r calibration rows accepted (ε makes C + εI invertible anyway), where the design raises."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        if calibration is not None and calibration.reshape(-1, base.weight.shape[1]).shape[0] < r:
            x = calibration.reshape(-1, base.weight.shape[1])
            calibration = torch.cat([x] * r)  # the same rows repeated: C unchanged, the count check passed
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)


class ResidualPlain(AntipastoCordaLinear):
    """W_res cropped with the plain SVD's top-r part, while the stored basis is the oriented one."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        weight = base.weight.detach().clone().to(torch.float64)
        super().__init__(base, r, coeff, suppress_only, cov_eps, calibrate, calibration)
        u, s, vh = torch.linalg.svd(weight, full_matrices=False)
        with torch.no_grad():
            self.base.weight.copy_(weight - (u[:, :r] * s[:r]) @ vh[:r])


class CalibratesRegardless(AntipastoCordaLinear):
    """calibrate=False ignored: the basis is oriented by the data anyway, not antipasto's plain split."""

    def __init__(self, base, r, coeff=1.0, suppress_only=False, cov_eps=1e-3, calibrate=True, calibration=None):
        super().__init__(base, r, coeff, suppress_only, cov_eps, True, calibration)


class CitesPissa(AntipastoCordaLinear):
    """The docstring cites PiSSA (arXiv:2404.02948) for the oriented basis instead of CorDA."""

    DOC = "antipasto_corda — 1+ELU gain (Clark 2026, arXiv:2601.07473) on a PiSSA basis (Meng 2024, arXiv:2404.02948)."


def gain_mutants(base, variant: str, prefix: str, identity_claim: str, citation_claim: str, doc: str):
    """The gain's mutants for antipasto_corda and antipasto_asvd (the same forward over `base`'s U, S, P)."""

    class GainIgnoresCoeff(base):
        """S ⊙ (1 + ELU(g)): the steering coefficient is never applied, so coeff = 0 is not the base model."""

        def forward(self, x):
            return self.base(x) + ((x @ self.lora_P.T) * self.lora_S * (1 + F.elu(self.lora_g))) @ self.lora_U.T

    class GainDetached(base):
        """The gain is used through .detach(): a parameter that never receives a gradient."""

        def forward(self, x):
            s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g.detach()))
            return self.base(x) + ((x @ self.lora_P.T) * s_eff) @ self.lora_U.T

    class GainNearZeroInit(base):
        """g = 1e-6 · randn at init (history C.15): not an identity, before or after calibration."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            with torch.no_grad():
                self.lora_g.normal_().mul_(1e-6)

    class GainWritesOutsideU(base):
        """The gain's change S_eff − S is written through U + 0.1 N: it leaks out of span U_r."""

        def forward(self, x):
            p = x @ self.lora_P.T
            s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
            gen = torch.Generator().manual_seed(7)
            leaky = self.lora_U + 0.1 * torch.randn(self.lora_U.shape, generator=gen, dtype=torch.float64).to(
                self.lora_U.dtype)
            return self.base(x) + (p * self.lora_S) @ self.lora_U.T + (p * (s_eff - self.lora_S)) @ leaky.T

    class GainReadsOutsideP(base):
        """The gain's change reads the input through P + 0.1 N: the update leaks out of the row space of P."""

        def forward(self, x):
            s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
            gen = torch.Generator().manual_seed(7)
            leaky = self.lora_P + 0.1 * torch.randn(self.lora_P.shape, generator=gen, dtype=torch.float64).to(
                self.lora_P.dtype) * self.lora_P.abs().mean()
            return self.base(x) + ((x @ self.lora_P.T) * self.lora_S + (x @ leaky.T) * (s_eff - self.lora_S)) \
                @ self.lora_U.T

    class GainExpInsteadOfElu(base):
        """S ⊙ e^(coeff g): positive and right for coeff·g ≤ 0, exponential where 1 + ELU is linear (K14)."""

        def forward(self, x):
            g = self.lora_g.clamp(max=0) if self.suppress_only else self.lora_g
            return self.base(x) + ((x @ self.lora_P.T) * self.lora_S * torch.exp(self.coeff * g)) @ self.lora_U.T

    class SuppressOnlyIgnored(base):
        """The suppress_only flag is accepted but does nothing: S_eff > S for coeff·g > 0 although it is set."""

        def forward(self, x):
            s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
            return self.base(x) + ((x @ self.lora_P.T) * s_eff) @ self.lora_U.T

    class SignCanonicalisedInForward(base):
        """U's column signs canonicalised inside the forward pass, P's not."""

        def forward(self, x):
            u = self.lora_U * torch.sign(self.lora_U[0])
            s_eff = self.lora_S * (1 + F.elu(self.coeff * self.lora_g))
            return self.base(x) + ((x @ self.lora_P.T) * s_eff) @ u.T

    class BaseTrainable(base):
        """W_res left trainable."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.base.weight.requires_grad_(True)

    class CitationWrongId(base):
        """History C.13: the AntiPaSTO id an older lora-lite README carried (2503.08696)."""

        DOC = doc.replace("2601.07473", "2503.08696")

    class SvdSignsFlipped(base):
        """Equivalence control: every singular pair stored with the opposite sign; the function is the same."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            with torch.no_grad():
                self.lora_U.neg_()
                self.lora_P.neg_()

    class PaperAdditiveGain(base):
        """The paper's additive reading S + coeff·∆S with ∆S = S ⊙ g: the declaration must then turn STALE."""

        def forward(self, x):
            return self.base(x) + ((x @ self.lora_P.T) * self.lora_S * (1 + self.coeff * self.lora_g)) @ self.lora_U.T

    p, a = prefix, "antipasto."
    mutants = (
        Mutant(variant, f"{p}_gain_ignores_coeff", GainIgnoresCoeff, (a + "coeff-zero", a + "forward"),
               survives=(identity_claim, a + "step0-gradient")),
        Mutant(variant, f"{p}_gain_detached", GainDetached, (a + "step0-gradient",),
               survives=(a + "forward", identity_claim, a + "trainable")),
        Mutant(variant, f"{p}_gain_near_zero_init", GainNearZeroInit, (identity_claim, a + "identity-at-init"),
               survives=(a + "forward", a + "coeff-zero")),
        Mutant(variant, f"{p}_gain_writes_outside_U", GainWritesOutsideU, (a + "confinement", a + "forward"),
               survives=(identity_claim,)),
        Mutant(variant, f"{p}_gain_reads_outside_P", GainReadsOutsideP, (a + "confinement", a + "forward"),
               survives=(identity_claim,)),
        Mutant(variant, f"{p}_sign_canonicalised_in_forward", SignCanonicalisedInForward,
               (a + "sign-invariance", identity_claim), survives=(a + "trainable",)),
        Mutant(variant, f"{p}_base_trainable", BaseTrainable, (a + "trainable",), survives=(identity_claim,)),
        Mutant(variant, f"{p}_citation_wrong_id", CitationWrongId, (a + "citation",), survives=(citation_claim,)),
        Mutant(variant, f"{p}_svd_signs_flipped (control)", SvdSignsFlipped, (),
               survives=(identity_claim, a + "identity-at-init", a + "forward", a + "confinement",
                         a + "sign-invariance", a + "coeff-zero", a + "step0-gradient")),
    )
    declared = (
        Mutant(variant, f"{p}_gain_exp_instead_of_elu", GainExpInsteadOfElu, (a + "additive-steering",),
               survives=(a + "coeff-zero",)),
        Mutant(variant, f"{p}_suppress_only_ignored", SuppressOnlyIgnored, (a + "additive-steering",),
               survives=(a + "forward", a + "coeff-zero")),
    )
    return mutants, declared, ((variant, PaperAdditiveGain, a + "additive-steering"),)


GAIN_MUTANTS, GAIN_DECLARED, GAIN_STALE = gain_mutants(
    AntipastoCordaLinear, V, "acorda", "corda.identity-at-init", "corda.citation",
    reference.__doc__)

C = "corda."
MUTANTS = (
    Mutant(V, "acorda_silent_fallback", SilentFallback, (C + "calibration-required",),
           survives=(C + "identity-at-init", C + "whitened-optimality", C + "basis-reconstruction")),
    Mutant(V, "acorda_too_few_rows_accepted", TooFewRowsAccepted, (C + "calibration-required",),
           survives=(C + "whitened-optimality", C + "equal-weighting")),
    Mutant(V, "acorda_calibration_ignored", CalibrationIgnored, (C + "whitened-optimality",),
           survives=(C + "calibration-required", C + "identity-at-init", C + "basis-reconstruction")),
    Mutant(V, "acorda_paper_wc", PaperWC, (C + "whitened-optimality",),
           survives=(C + "identity-at-init", C + "basis-reconstruction", C + "equal-weighting")),
    Mutant(V, "acorda_centred_covariance", CentredCovariance, (C + "whitened-optimality",),
           survives=(C + "identity-at-init", C + "basis-reconstruction", C + "equal-weighting")),
    Mutant(V, "acorda_eps_ignored", EpsIgnored, (C + "whitened-optimality",),
           survives=(C + "identity-at-init", C + "basis-reconstruction", C + "equal-weighting")),
    Mutant(V, "acorda_sum_covariance", SumCovariance, (C + "whitened-optimality",),
           survives=(C + "identity-at-init", C + "equal-weighting")),
    Mutant(V, "acorda_last_sample_only", LastSampleOnly, (C + "equal-weighting",),
           survives=(C + "whitened-optimality", C + "identity-at-init")),
    Mutant(V, "acorda_not_unwhitened", NotUnwhitened, (C + "whitened-optimality",),
           survives=(C + "identity-at-init", C + "basis-reconstruction", "antipasto.forward",
                     "antipasto.confinement")),
    Mutant(V, "acorda_residual_plain", ResidualPlain, (C + "basis-reconstruction", C + "identity-at-init"),
           survives=(C + "whitened-optimality", "antipasto.confinement")),
    Mutant(V, "acorda_calibrates_regardless", CalibratesRegardless, ("antipasto.reconstruction",),
           survives=("antipasto.identity-at-init", C + "whitened-optimality")),
    Mutant(V, "acorda_cites_pissa", CitesPissa, (C + "citation",), survives=("antipasto.citation",)),
    *GAIN_MUTANTS,
    Mutant(V, "acorda_cholesky (control)", Cholesky, (),
           survives=(C + "whitened-optimality", C + "equal-weighting", C + "basis-reconstruction",
                     C + "identity-at-init", "antipasto.forward", "antipasto.confinement",
                     "antipasto.sign-invariance")),
)

EXPECTED_MUTANTS = 22
EXPECTED_KILLS = 26

# Judged with the reference's declarations: each must break the declared alternative (the C^{1/2} statistic of
# corda.oriented-basis, or the gain bounds of antipasto.additive-steering) and so turn its DEVIATES-OK into a DEVIATES.
DECLARED_MUTANTS = (
    Mutant(V, "acorda_eps_ignored", EpsIgnored, (C + "oriented-basis",), survives=(C + "calibration-required",)),
    Mutant(V, "acorda_centred_covariance", CentredCovariance, (C + "oriented-basis",),
           survives=(C + "calibration-required",)),
    Mutant(V, "acorda_calibration_ignored", CalibrationIgnored, (C + "oriented-basis",),
           survives=(C + "calibration-required",)),
    *GAIN_DECLARED,
)

EXPECTED_DECLARED_MUTANTS = 5
EXPECTED_DECLARED_KILLS = 5

# A paper-faithful implementation makes the declaration STALE: (variant, class, claim).
STALE_DECLARATIONS = ((V, PaperWC, C + "oriented-basis"), *GAIN_STALE)
