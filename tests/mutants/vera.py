"""Mutants of the reference VeRA, each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.vera import VeraLinear
from tests.mutants.base import Mutant

V = "vera"


class ZeroSideSwapped(VeraLinear):
    """λ_d = 0 and λ_b = d_initial: the zero on the wrong vector. Still an identity (Λ_d A x = 0), but λ_b is the one
    left without a first gradient."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        with torch.no_grad():
            self.vera_lambda_b.fill_(d_initial)
            self.vera_lambda_d.zero_()


class BNonZero(VeraLinear):
    """λ_b initialised to d_initial like λ_d: the layer is not the base at init."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        with torch.no_grad():
            self.vera_lambda_b.fill_(d_initial)


class DInitialIgnored(VeraLinear):
    """λ_d initialised with ones whatever d_initial says (Figure 1's illustration taken as the method)."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, 1.0, projection_prng_key)


class DInitialFloat32(VeraLinear):
    """d_initial filled in float32 and then cast (PEFT's creation order): 0.1 becomes 0.10000000149 in float64."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        with torch.no_grad():
            self.vera_lambda_d.copy_(torch.full_like(self.vera_lambda_d, d_initial, dtype=torch.float32))


class ProjectionsTrainable(VeraLinear):
    """A and B registered as trainable parameters instead of frozen buffers (the forward is unchanged)."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        vera_A, vera_B = self.vera_A, self.vera_B
        del self.vera_A, self.vera_B
        self.vera_A, self.vera_B = nn.Parameter(vera_A), nn.Parameter(vera_B)


class ProjectionsPerLayer(VeraLinear):
    """Each layer draws its own A and B from the global RNG: same distribution, not shared, not from the seed."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        with torch.no_grad():
            self.vera_A.copy_(nn.init.kaiming_uniform_(torch.empty_like(self.vera_A, dtype=torch.float32)))
            self.vera_B.copy_(nn.init.kaiming_uniform_(torch.empty_like(self.vera_B, dtype=torch.float32)))


class KeyIgnored(VeraLinear):
    """The generator is always seeded with 0: shared, but projection_prng_key selects nothing."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, 0)


class Float64Draw(VeraLinear):
    """Control: A and B drawn from a generator seeded with the key, B first and directly in float64 — another
    library's convention (not PEFT's staging), the same paper: a function of the seed alone, shared by every layer."""

    CONVENTIONS = ()  # it does not follow PEFT's PRNG convention: vera.seeded-a/-b/-key are N/A for it

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        generator = torch.Generator().manual_seed(projection_prng_key)
        with torch.no_grad():
            self.vera_B.copy_(nn.init.kaiming_uniform_(torch.empty_like(self.vera_B, dtype=torch.float64),
                                                       generator=generator))
            self.vera_A.copy_(nn.init.kaiming_uniform_(torch.empty_like(self.vera_A, dtype=torch.float64),
                                                       generator=generator))


class KaimingLinearBound(VeraLinear):
    """A drawn with nn.Linear's kaiming_uniform_(a=√5), U(±1/√d_in), a √6 smaller bound than the paper's Kaiming."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        generator = torch.Generator().manual_seed(projection_prng_key)
        vera_A = nn.init.kaiming_uniform_(torch.empty(self.vera_A.shape), a=math.sqrt(5), generator=generator)
        with torch.no_grad():
            self.vera_A.copy_(vera_A)  # B is the generator's second draw either way


class BFanOut(VeraLinear):
    """B drawn with mode="fan_out": its bound from d_out, U(±√(6/d_out)), instead of its fan-in r."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        generator = torch.Generator().manual_seed(projection_prng_key)
        nn.init.kaiming_uniform_(torch.empty(self.vera_A.shape), generator=generator)  # A's draw, as before
        vera_B = nn.init.kaiming_uniform_(torch.empty(self.vera_B.shape), mode="fan_out", generator=generator)
        with torch.no_grad():
            self.vera_B.copy_(vera_B)


class DOnOutput(VeraLinear):
    """d applied on the output side: λ_d of length d_out, ∆W = diag(λ_b ⊙ λ_d) B A, no scale between A and B."""

    def __init__(self, base, r, d_initial=0.1, projection_prng_key=0):
        super().__init__(base, r, d_initial, projection_prng_key)
        self.vera_lambda_d = nn.Parameter(torch.full((base.weight.shape[0],), d_initial, dtype=base.weight.dtype))

    def forward(self, x):
        return self.base(x) + (x @ self.vera_A.T) @ self.vera_B.T * (self.vera_lambda_b * self.vera_lambda_d)


class LambdaBLastUnused(VeraLinear):
    """The last output row ignores its λ_b entry (scaled by 0 instead): a slice of b is unused."""

    def forward(self, x):
        lambda_b = torch.cat([self.vera_lambda_b[:-1], torch.zeros_like(self.vera_lambda_b[-1:])])
        return self.base(x) + ((x @ self.vera_A.T) * self.vera_lambda_d) @ self.vera_B.T * lambda_b


class CitationWrongId(VeraLinear):
    DOC = "VeRA (Kopiczko et al. 2023, arXiv:2310.11453): h = W0 x + Λ_b B Λ_d A x with frozen shared A, B."


class MergedForward(VeraLinear):
    """Equivalence control: ∆W = diag(λ_b) B diag(λ_d) A merged explicitly, then F.linear(x, W0 + ∆W, b)."""

    def forward(self, x):
        delta = (self.vera_lambda_b[:, None] * self.vera_B) @ (self.vera_lambda_d[:, None] * self.vera_A)
        return F.linear(x, self.base.weight + delta, self.base.bias)


MUTANTS = (
    Mutant(V, "vera_zero_side_swapped", ZeroSideSwapped, ("vera.zero-b", "vera.step0-gradient", "vera.d-initial"),
           survives=("vera.identity-at-init", "vera.formula", "vera.shared")),
    Mutant(V, "vera_b_nonzero", BNonZero, ("vera.identity-at-init", "vera.identity-d-initial-small", "vera.zero-b",
                                           "vera.step0-gradient"), survives=("vera.formula", "vera.d-initial")),
    Mutant(V, "vera_d_initial_ignored", DInitialIgnored, ("vera.d-initial", "vera.d-initial-small"),
           survives=("vera.identity-at-init", "vera.zero-b", "vera.step0-gradient", "vera.formula")),
    Mutant(V, "vera_d_initial_float32", DInitialFloat32, ("vera.d-initial", "vera.d-initial-small"),
           survives=("vera.identity-at-init", "vera.formula", "vera.zero-b")),
    Mutant(V, "vera_projections_trainable", ProjectionsTrainable, ("vera.frozen-random",),
           survives=("vera.identity-at-init", "vera.formula", "vera.shared", "vera.step0-gradient")),
    Mutant(V, "vera_projections_per_layer", ProjectionsPerLayer,
           ("vera.shared", "vera.shared-key", "vera.seeded", "vera.seeded-a", "vera.seeded-b"),
           survives=("vera.identity-at-init", "vera.formula", "vera.kaiming-a", "vera.kaiming-b",
                     "vera.frozen-random")),
    Mutant(V, "vera_key_ignored", KeyIgnored, ("vera.seeded", "vera.seeded-key"),
           survives=("vera.seeded-a", "vera.seeded-b", "vera.shared", "vera.shared-key", "vera.formula")),
    Mutant(V, "vera_A_kaiming_linear_bound", KaimingLinearBound, ("vera.kaiming-a", "vera.seeded-a"),
           survives=("vera.kaiming-b", "vera.seeded-b", "vera.shared", "vera.identity-at-init", "vera.formula")),
    Mutant(V, "vera_B_fan_out", BFanOut, ("vera.kaiming-b", "vera.seeded-b"),
           survives=("vera.kaiming-a", "vera.seeded-a", "vera.shared", "vera.identity-at-init", "vera.formula")),
    Mutant(V, "vera_d_on_output", DOnOutput, ("vera.formula", "vera.frozen-random", "vera.d-initial",
                                                 "vera.identity-at-init", "vera.zero-b", "vera.seeded")),
    Mutant(V, "vera_lambda_b_last_unused", LambdaBLastUnused, ("vera.influence", "vera.formula"),
           survives=("vera.identity-at-init", "vera.step0-gradient")),
    Mutant(V, "vera_citation_wrong_id", CitationWrongId, ("vera.citation",)),
    Mutant(V, "vera_float64_draw (control)", Float64Draw, (),
           survives=("vera.seeded", "vera.shared", "vera.shared-key", "vera.kaiming-a", "vera.kaiming-b",
                     "vera.identity-at-init", "vera.formula")),
    Mutant(V, "vera_merged_forward (control)", MergedForward, (),
           survives=("vera.formula", "vera.identity-at-init", "vera.identity-d-initial-small", "vera.influence",
                     "vera.step0-gradient", "vera.shared", "vera.frozen-random")),
)

EXPECTED_MUTANTS = 14
EXPECTED_KILLS = 32
