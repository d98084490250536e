"""K29 initial distribution: a role's init entries follow the named family, and not a moment-matched other.

Statistical, so it is run once on the variant's fixed distribution layers rather than over many hypothesis
examples (repeating a test multiplies its false alarms). For LoRA two layers (512→256, r=32 and 384→128, r=24;
25,600 entries of A) are standardised by the family's scale and pooled; a one-sample KS test compares them with
the claimed family.

Decision (T-stat, α_lo = 1e-3): the claim fails when p < α_lo. The false-alarm rate is α_lo for a fully
specified family (Kaiming-uniform) and at most α_lo when the scale is fitted (Gaussian: Lilliefors-type
estimation makes KS conservative). Power is shown on every run by the negative control, a moment-matched wrong
family, which must be rejected (p < α_lo); if it is not, the sample cannot tell the families apart and the
check reports an error (inconclusive), never a pass.
"""

from __future__ import annotations

import math

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation
from fidelity.stable import plotted
from fidelity.stats import ks_test, normal_cdf, uniform_cdf

ALPHA_LO = 1e-3


def _standardise(family: str, values: torch.Tensor) -> torch.Tensor:
    if family == "gaussian":  # zero mean; the paper gives no variance, so the scale is fitted per layer
        return values / values.pow(2).mean().sqrt()
    if family == "kaiming_uniform":  # kaiming_uniform_(a=√5) on (rows, fan_in) is U(−1/√fan_in, 1/√fan_in)
        return values * math.sqrt(values.shape[1])
    if family == "kaiming_uniform_a0":  # kaiming_uniform_ at its defaults (a = 0, gain √2): U(−√(6/fan_in), √(6/fan_in))
        return values * math.sqrt(values.shape[1] / 6.0)
    if family == "gaussian_1e-5":  # LoRA-XS's R: normal_(0, std=1e-5) in the authors' code, fully specified
        return values / 1e-5
    raise ValueError(f"unknown init family {family!r}")


# (claimed CDF, moment-matched wrong family) of the standardised sample, by family.
FAMILIES = {
    "gaussian": ("N(0, σ) with σ fitted", normal_cdf(1.0), "U(−√3σ, √3σ)", uniform_cdf(math.sqrt(3.0))),
    "kaiming_uniform": ("U(−1/√d_in, 1/√d_in)", uniform_cdf(1.0), "N(0, 1/√(3 d_in))", normal_cdf(1 / math.sqrt(3.0))),
    # torch.nn.init.kaiming_uniform_ with its default a = 0 (He et al. 2015's ReLU gain √2), e.g. VeRA's shared A, B
    "kaiming_uniform_a0": ("U(−√(6/fan_in), √(6/fan_in))", uniform_cdf(1.0), "N(0, √(2/fan_in))",
                           normal_cdf(1 / math.sqrt(3.0))),
    "gaussian_1e-5": ("N(0, 1e-5)", normal_cdf(1.0), "U(−√3·1e-5, √3·1e-5)", uniform_cdf(math.sqrt(3.0))),
}


class InitDistribution(Check):
    kind = "init_distribution"
    topic = "init"

    def __init__(self, role: str, family: str, options: dict | None = None):
        super().__init__(options)
        if family not in FAMILIES:
            raise ValueError(f"unknown init family {family!r}; known: {', '.join(FAMILIES)}")
        self.role, self.family = role, family

    def __repr__(self) -> str:
        return f"InitDistribution(role={self.role!r}, family={self.family!r})"

    def run(self, subject: Subject, profile) -> Evidence:
        claimed_name, claimed_cdf, wrong_name, wrong_cdf = FAMILIES[self.family]
        sample = []
        layers = subject.variant.distribution_layers
        for case in layers:
            layer, _, _ = subject.build(subject.adapt(case))
            values = layer.read(self.role)
            sample.append(_standardise(self.family, values.detach().to(torch.float64)).flatten())
        z = torch.cat(sample)
        d, p = ks_test(z, claimed_cdf)
        d_wrong, p_wrong = ks_test(z, wrong_cdf)
        measured = {"n": float(z.numel()), "ks_d": d, "p_claimed": p, "ks_d_control": d_wrong, "p_control": p_wrong}
        shapes = " and ".join(f"{c.d_in}→{c.d_out}, r={c.r}" + (f", k={c.k}" if c.k else "") for c in layers)
        # the review's figure: the sample's quantiles at 2 %, 4 %, …, 98 % against both families' CDFs
        probs = torch.linspace(0.02, 0.98, 49, dtype=torch.float64)
        plot = {"family": self.family, "claimed": claimed_name, "control": wrong_name, "role": self.role,
                "quantiles": [plotted(float(q), 3) for q in torch.quantile(z, probs)]}
        if p < ALPHA_LO:
            violation = Violation(f"'{self.role}' entries are not {claimed_name}: KS D = {d:.3g}, p = {p:.2g} < "
                                  f"{ALPHA_LO:g} on {z.numel()} entries ({shapes})", measured)
            violation.figure = plot
            raise violation
        if p_wrong >= ALPHA_LO:
            raise RuntimeError(f"inconclusive: the negative control {wrong_name} is not rejected (p = {p_wrong:.2g}); "
                               "the sample cannot tell the families apart")
        return Evidence(
            passed=True,
            observation=f"'{self.role}' entries consistent with {claimed_name}: KS D = {d:.3g}, p = {p:.2g} ≥ "
            f"{ALPHA_LO:g} on {z.numel()} entries ({shapes}); negative control {wrong_name} rejected with "
            f"p = {p_wrong:.2g}",
            measured=measured,
            examples=1,
            witness=shapes,
            figure=plot,
        )
