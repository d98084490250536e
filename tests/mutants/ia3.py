"""Mutants of the reference (IA)³ output gain (ia3), each breaking exactly one property (see tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.ia3 import Ia3Linear
from tests.mutants.base import Mutant

V = "ia3"


class BiasUnscaled(Ia3Linear):
    """claim-kinds.md K16: the gain folded into the weight only, (x Wᵀ) ⊙ g + b; exactly an identity at init."""

    def forward(self, x):
        # x Wᵀ + b + (g − 1) ⊙ x Wᵀ: at g = 1 the added term is exactly 0, so y is returned bit for bit
        return self.base(x) + (self.ia3_l.T - 1) * F.linear(x, self.base.weight)


class GainSlicedWrong(Ia3Linear):
    """claim-kinds.md K05: the last output feature ignores its gain (a part of g unused)."""

    def forward(self, x):
        gain = torch.cat([self.ia3_l[:-1], torch.ones_like(self.ia3_l[-1:])])  # (d_out, 1), last entry pinned to 1
        return self.base(x) * gain.T


class NearOnesInit(Ia3Linear):
    """History C.15: ones replaced by 1 + N(0, 1e-4), a near-identity that a loose tolerance would accept."""

    def __init__(self, base):
        super().__init__(base)
        with torch.no_grad():
            self.ia3_l.add_(1e-4 * torch.randn_like(self.ia3_l))


class GainRandn(Ia3Linear):
    """PEFT's init_ia3_weights=False: the gain left at its N(0, 1) draw; not an identity at init."""

    def __init__(self, base):
        super().__init__(base)
        with torch.no_grad():
            self.ia3_l.normal_()


class GainDetached(Ia3Linear):
    """The gain used through .detach(): the same forward values, but it never learns (dead at step 0)."""

    def forward(self, x):
        return self.base(x) * self.ia3_l.detach().T


class GainFrozen(Ia3Linear):
    """The gain registered but not trained: (IA)³ without its only learned vector."""

    def __init__(self, base):
        super().__init__(base)
        self.ia3_l.requires_grad_(False)


class GateOnInput(Ia3Linear):
    """The mirror of history C.4: a key/value gain on the projection's input, g (1, d_in), computing W diag(g)."""

    def __init__(self, base):
        super().__init__(base)
        self.ia3_l = nn.Parameter(torch.ones(1, base.weight.shape[1], dtype=base.weight.dtype))  # (1, d_in)

    def forward(self, x):
        return self.base(x * self.ia3_l)


class CitesDora(Ia3Linear):
    """The other Liu et al.: DoRA's arXiv id (Liu, Shih-Yang 2024) in place of (IA)³'s (Liu, Haokun 2022)."""

    DOC = "(IA)³ — Liu et al., arXiv:2402.09353: keys and values rescaled by learned vectors, y' = (x Wᵀ + b) ⊙ g."


class MergedWeight(Ia3Linear):
    """Equivalence control: the gain merged into the weight and bias, F.linear(x, diag(g) W, g ⊙ b) (§3.3: "l ⊙ W x =
    (l ⊙ W) x")."""

    def forward(self, x):
        bias = None if self.base.bias is None else self.ia3_l[:, 0] * self.base.bias
        return F.linear(x, self.ia3_l * self.base.weight, bias)


MUTANTS = (
    Mutant(V, "ia3_bias_unscaled", BiasUnscaled, ("ia3.bias-scaled", "ia3.kv-output-gate"),
           survives=("ia3.identity-at-init", "ia3.ones-init", "ia3.step0-gradient", "ia3.influence")),
    Mutant(V, "ia3_gain_sliced_wrong", GainSlicedWrong, ("ia3.influence", "ia3.kv-output-gate"),
           survives=("ia3.identity-at-init", "ia3.step0-gradient", "ia3.trainable")),
    Mutant(V, "ia3_near_ones_init", NearOnesInit, ("ia3.identity-at-init", "ia3.ones-init"),
           survives=("ia3.kv-output-gate", "ia3.bias-scaled", "ia3.step0-gradient")),
    Mutant(V, "ia3_gain_randn", GainRandn, ("ia3.identity-at-init", "ia3.ones-init"),
           survives=("ia3.kv-output-gate", "ia3.trainable")),
    Mutant(V, "ia3_gain_detached", GainDetached, ("ia3.step0-gradient",),
           survives=("ia3.kv-output-gate", "ia3.identity-at-init", "ia3.trainable", "ia3.influence")),
    Mutant(V, "ia3_gain_frozen", GainFrozen, ("ia3.trainable", "ia3.step0-gradient"),
           survives=("ia3.kv-output-gate", "ia3.identity-at-init")),
    Mutant(V, "ia3_gate_on_input", GateOnInput, ("ia3.kv-output-gate", "ia3.trainable", "ia3.ones-init",
                                                      "ia3.identity-at-init", "ia3.step0-gradient")),
    Mutant(V, "ia3_cites_dora", CitesDora, ("ia3.citation",), survives=("ia3.kv-output-gate",)),
    Mutant(V, "ia3_merged_weight (control)", MergedWeight, (),
           survives=("ia3.kv-output-gate", "ia3.bias-scaled", "ia3.ones-init", "ia3.identity-at-init",
                     "ia3.step0-gradient", "ia3.trainable", "ia3.influence", "ia3.citation")),
)

EXPECTED_MUTANTS = 9
EXPECTED_KILLS = 17
