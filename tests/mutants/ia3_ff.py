"""Mutants of the reference (IA)³ feed-forward gain (ia3_ff), each breaking exactly one property (see
tests/mutants/__init__.py)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.ia3_ff import Ia3FeedForwardLinear
from tests.mutants.base import Mutant

V = "ia3_ff"


class OnOutput(Ia3FeedForwardLinear):
    """History C.4: lora-lite's single output gate used for the feed-forward layer, (x Wᵀ + b) ⊙ g with g (d_out, 1):
    diag(g) W instead of (l_ff ⊙ γ(W1 x)) W2's W diag(g). An identity at init."""

    def __init__(self, base):
        super().__init__(base)
        self.ia3_l = nn.Parameter(torch.ones(base.weight.shape[0], 1, dtype=base.weight.dtype))  # (d_out, 1)

    def forward(self, x):
        return self.base(x) * self.ia3_l.T


class BiasScaled(Ia3FeedForwardLinear):
    """claim-kinds.md K16: the bias also scaled by the gain, entrywise as an output gate would scale it (g's entries
    cycled over the outputs; on a square layer PEFT's output-gate bias merge). Exactly an identity at init."""

    def forward(self, x):
        d_out = self.base.weight.shape[0]
        gain = self.ia3_l[0].repeat(-(-d_out // self.ia3_l.shape[1]))[:d_out]  # (d_out,)
        # (x ⊙ g) Wᵀ + b + (g − 1) ⊙ b: at g = 1 the added term is exactly 0
        return self.base(x * self.ia3_l) + (gain - 1) * self.base.bias


class GainSlicedWrong(Ia3FeedForwardLinear):
    """claim-kinds.md K05: the last intermediate feature passes ungated (a part of g unused)."""

    def forward(self, x):
        gain = torch.cat([self.ia3_l[:, :-1], torch.ones_like(self.ia3_l[:, -1:])], dim=1)  # (1, d_in), last pinned
        return self.base(x * gain)


class NearOnesInit(Ia3FeedForwardLinear):
    """History C.15: ones replaced by 1 + N(0, 1e-4), a near-identity that a loose tolerance would accept."""

    def __init__(self, base):
        super().__init__(base)
        with torch.no_grad():
            self.ia3_l.add_(1e-4 * torch.randn_like(self.ia3_l))


class GainRandn(Ia3FeedForwardLinear):
    """PEFT's init_ia3_weights=False: the gain left at its N(0, 1) draw; not an identity at init."""

    def __init__(self, base):
        super().__init__(base)
        with torch.no_grad():
            self.ia3_l.normal_()


class GainDetached(Ia3FeedForwardLinear):
    """The gain used through .detach(): the same forward values, but it never learns (dead at step 0)."""

    def forward(self, x):
        return self.base(x * self.ia3_l.detach())


class GainFrozen(Ia3FeedForwardLinear):
    """The gain registered but not trained."""

    def __init__(self, base):
        super().__init__(base)
        self.ia3_l.requires_grad_(False)


class CitesDora(Ia3FeedForwardLinear):
    """The other Liu et al.: DoRA's arXiv id (Liu, Shih-Yang 2024) in place of (IA)³'s (Liu, Haokun 2022)."""

    DOC = "(IA)³ feed-forward gate — Liu et al., arXiv:2402.09353: (l_ff ⊙ γ(W1 x)) W2."


class MergedWeight(Ia3FeedForwardLinear):
    """Equivalence control: the gain merged into W2's columns, F.linear(x, W diag(g), b), the bias untouched."""

    def forward(self, x):
        return F.linear(x, self.base.weight * self.ia3_l, self.base.bias)


MUTANTS = (
    Mutant(V, "ia3_ff_on_output", OnOutput, ("ia3_ff.input-gate", "ia3_ff.trainable", "ia3_ff.ones-init",
                                                  "ia3_ff.identity-at-init", "ia3_ff.step0-gradient")),
    Mutant(V, "ia3_ff_bias_scaled", BiasScaled, ("ia3_ff.bias-unscaled", "ia3_ff.input-gate"),
           survives=("ia3_ff.identity-at-init", "ia3_ff.ones-init", "ia3_ff.step0-gradient", "ia3_ff.influence")),
    Mutant(V, "ia3_ff_gain_sliced_wrong", GainSlicedWrong, ("ia3_ff.influence", "ia3_ff.input-gate"),
           survives=("ia3_ff.identity-at-init", "ia3_ff.step0-gradient", "ia3_ff.trainable", "ia3_ff.bias-unscaled")),
    Mutant(V, "ia3_ff_near_ones_init", NearOnesInit, ("ia3_ff.identity-at-init", "ia3_ff.ones-init"),
           survives=("ia3_ff.input-gate", "ia3_ff.bias-unscaled", "ia3_ff.step0-gradient")),
    Mutant(V, "ia3_ff_gain_randn", GainRandn, ("ia3_ff.identity-at-init", "ia3_ff.ones-init"),
           survives=("ia3_ff.input-gate", "ia3_ff.trainable")),
    Mutant(V, "ia3_ff_gain_detached", GainDetached, ("ia3_ff.step0-gradient",),
           survives=("ia3_ff.input-gate", "ia3_ff.identity-at-init", "ia3_ff.trainable", "ia3_ff.influence")),
    Mutant(V, "ia3_ff_gain_frozen", GainFrozen, ("ia3_ff.trainable", "ia3_ff.step0-gradient"),
           survives=("ia3_ff.input-gate", "ia3_ff.identity-at-init")),
    Mutant(V, "ia3_ff_cites_dora", CitesDora, ("ia3_ff.citation",), survives=("ia3_ff.input-gate",)),
    Mutant(V, "ia3_ff_merged_weight (control)", MergedWeight, (),
           survives=("ia3_ff.input-gate", "ia3_ff.bias-unscaled", "ia3_ff.ones-init", "ia3_ff.identity-at-init",
                     "ia3_ff.step0-gradient", "ia3_ff.trainable", "ia3_ff.influence", "ia3_ff.citation")),
)

EXPECTED_MUTANTS = 9
EXPECTED_KILLS = 17
