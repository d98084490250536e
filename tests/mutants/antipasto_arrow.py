"""Mutants of the reference antipasto_arrow (lora-lite's block-plus-diagonal core on the AntiPaSTO basis), each breaking
exactly one property; judged with nothing declared (tests/test_mutants.py). The reference declares nothing for this
variant, so there are no DECLARED_MUTANTS.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from fidelity.impls.reference.antipasto_arrow import ArrowLinear
from tests.mutants.base import Mutant, crop_bottom_triplets


class ArrowMutant(ArrowLinear):
    """The reference's forward assembled from overridable steps: coordinates -> block, tail -> write back through U."""

    def block(self) -> torch.Tensor:  # (b, b) the matrix the top-b coordinates are multiplied by (transposed)
        return torch.eye(self.b, dtype=self.lora_M.dtype) + self.coeff * self.lora_M

    def gain(self) -> torch.Tensor:  # (r − b,)
        return 1 + F.elu(self.coeff * self.lora_g)

    def core(self, c: torch.Tensor) -> torch.Tensor:  # (N, r) -> (N, r)
        return torch.cat([c[:, :self.b] @ self.block().T, c[:, self.b:] * self.gain()], dim=1)

    def forward(self, x):
        c = (x @ self.lora_Vh.T) * self.lora_S
        return self.base(x) + self.core(c) @ self.lora_U.T


class BlockNearZeroInit(ArrowLinear):
    """M = 1e-6 · randn at init (history C.15, `near_zero_init`): not an identity at init."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b, coeff)
        with torch.no_grad():
            self.lora_M.normal_().mul_(1e-6)


class ResidualFromBottom(ArrowLinear):
    """The *bottom* r singular triplets are split off: an identity at init, but the residual is not the tail."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b, coeff)
        crop_bottom_triplets(self, base, r)


class BaseTrainable(ArrowLinear):
    """W_res left trainable."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b, coeff)
        self.base.weight.requires_grad_(True)


class BlockDetached(ArrowMutant):
    """M used through .detach(): a parameter on paper that never receives a gradient."""

    def block(self):
        return torch.eye(self.b, dtype=self.lora_M.dtype) + self.coeff * self.lora_M.detach()


class GainDetached(ArrowMutant):
    """The tail gain used through .detach()."""

    def gain(self):
        return 1 + F.elu(self.coeff * self.lora_g.detach())


class BlockTransposed(ArrowMutant):
    """top = c_top (I + coeff M) instead of c_top (I + coeff M)ᵀ: output i of the block reads row i of M's transpose."""

    def block(self):
        return super().block().T


class BlockOnLastCoordinates(ArrowMutant):
    """The block on the last b subspace coordinates (the smallest kept S) and the gain on the first r − b: an identity
    at init, but the block acts where the design keeps the diagonal gain."""

    def core(self, c):
        tail = self.lora_S.shape[0] - self.b
        return torch.cat([c[:, :tail] * self.gain(), c[:, tail:] @ self.block().T], dim=1)


class BlockDiagonalOnly(ArrowMutant):
    """Only the diagonal of M is used (I + coeff diag(M)): the block never mixes directions."""

    def block(self):
        return torch.eye(self.b, dtype=self.lora_M.dtype) + self.coeff * torch.diag(torch.diagonal(self.lora_M))


class BlockThroughElu(ArrowMutant):
    """I + ELU(coeff M) entrywise: what "b = 1 degenerates to antipasto" would need (then b = 1 is antipasto exactly)."""

    def block(self):
        return torch.eye(self.b, dtype=self.lora_M.dtype) + F.elu(self.coeff * self.lora_M)


class BlockIgnoresCoeff(ArrowMutant):
    """I + M: the steering coefficient never reaches the block, so coeff = 0 is not the base model."""

    def block(self):
        return torch.eye(self.b, dtype=self.lora_M.dtype) + self.lora_M


class BlockLeaks(ArrowMutant):
    """The block's change, top − c_top, written through a perturbed basis U + 0.1 N: it leaks out of span U_r (zero at
    M = 0, so the identity survives)."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b, coeff)
        gen = torch.Generator().manual_seed(7)
        noise = torch.randn(self.lora_U.shape, generator=gen, dtype=torch.float64).to(self.lora_U.dtype)
        self.register_buffer("leaky_U", self.lora_U + 0.1 * noise)

    def forward(self, x):
        c = (x @ self.lora_Vh.T) * self.lora_S
        h = self.core(c)
        change = torch.cat([h[:, :self.b] - c[:, :self.b], torch.zeros_like(h[:, self.b:])], dim=1)
        return self.base(x) + (h - change) @ self.lora_U.T + change @ self.leaky_U.T


class SignCanonicalisedInForward(ArrowMutant):
    """The core's change, h − c, written through U with its column signs canonicalised (Vh's are not): an identity at
    init, but flipping a singular pair with M → D M D no longer leaves the function unchanged."""

    def forward(self, x):
        c = (x @ self.lora_Vh.T) * self.lora_S
        u = self.lora_U * torch.sign(self.lora_U[0])
        return self.base(x) + c @ self.lora_U.T + (self.core(c) - c) @ u.T


class BlockAtRankAccepted(ArrowLinear):
    """b = r accepted (1 ≤ b ≤ r): a full r × r block and an empty tail, built without an error."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b - 1 if b == r else b, coeff)  # b − 1 passes the reference's check
        if b == r:
            self.b = b
            self.lora_M = nn.Parameter(self.lora_M.new_zeros(b, b))
            self.lora_g = nn.Parameter(self.lora_g.new_zeros(0))


class BlockClamped(ArrowLinear):
    """b outside [1, r) silently clamped into it: it builds, with a block of another size than asked."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, min(max(b, 1), r - 1), coeff)


class CitationWrongId(ArrowLinear):
    """History C.13: the id an older lora-lite README carried (2503.08696) instead of 2601.07473."""

    DOC = "AntiPaSTO arrowhead core (Clark 2026, arXiv:2503.08696): a b × b block and a 1+ELU tail gain."


class SvdSignsFlipped(ArrowLinear):
    """Equivalence control: every singular pair stored with the opposite sign; the function is the same."""

    def __init__(self, base, r, b=8, coeff=1.0):
        super().__init__(base, r, b, coeff)
        with torch.no_grad():
            self.lora_U.neg_()
            self.lora_Vh.neg_()


class BlockExpanded(ArrowMutant):
    """Equivalence control: the block applied as c_top + coeff · c_top Mᵀ, the same map computed another way."""

    def core(self, c):
        top = c[:, :self.b]
        return torch.cat([top + self.coeff * (top @ self.lora_M.T), c[:, self.b:] * self.gain()], dim=1)


V = "antipasto_arrow"
ID, RECON, TRAIN, STEP0, FWD = ("arrow.identity-at-init", "antipasto.reconstruction", "arrow.trainable",
                                "arrow.step0-gradient", "arrow.forward")
COORD, B1, OFF, CONF, SIGN = ("arrow.coordinates", "arrow.b1-antipasto", "antipasto.coeff-zero",
                              "antipasto.confinement", "antipasto.sign-invariance")
RANGE, CITE = "arrow.block-range", "arrow.citation"
ALL = (RECON, ID, TRAIN, STEP0, FWD, COORD, B1, OFF, CONF, SIGN, RANGE, CITE)

MUTANTS = (
    Mutant(V, "arrow_block_near_zero_init", BlockNearZeroInit, (ID,), survives=(FWD, OFF, RECON, COORD)),
    Mutant(V, "arrow_residual_from_bottom", ResidualFromBottom, (RECON,), survives=(ID, FWD, CONF, COORD)),
    Mutant(V, "arrow_base_trainable", BaseTrainable, (TRAIN,), survives=(ID, FWD)),
    Mutant(V, "arrow_block_detached", BlockDetached, (STEP0,), survives=(FWD, ID, TRAIN, COORD)),
    Mutant(V, "arrow_gain_detached", GainDetached, (STEP0,), survives=(FWD, ID, TRAIN, COORD)),
    Mutant(V, "arrow_block_transposed", BlockTransposed, (FWD,), survives=(ID, COORD, B1, SIGN, CONF, OFF)),
    Mutant(V, "arrow_block_on_last_coordinates", BlockOnLastCoordinates, (COORD, FWD), survives=(ID, CONF, OFF)),
    Mutant(V, "arrow_block_diagonal_only", BlockDiagonalOnly, (COORD, FWD), survives=(ID, B1, CONF, SIGN, OFF)),
    Mutant(V, "arrow_block_through_elu", BlockThroughElu, (B1, FWD), survives=(ID, COORD, CONF, OFF)),
    Mutant(V, "arrow_block_ignores_coeff", BlockIgnoresCoeff, (OFF, FWD), survives=(ID, COORD, CONF)),
    Mutant(V, "arrow_block_leaks", BlockLeaks, (CONF, FWD), survives=(ID, RECON, OFF)),
    Mutant(V, "arrow_sign_canonicalised_in_forward", SignCanonicalisedInForward, (SIGN,),
           survives=(ID, RECON, TRAIN, OFF)),
    Mutant(V, "arrow_block_at_rank_accepted", BlockAtRankAccepted, (RANGE,), survives=(ID, FWD)),
    Mutant(V, "arrow_block_clamped", BlockClamped, (RANGE,), survives=(ID, FWD)),
    Mutant(V, "arrow_citation_wrong_id", CitationWrongId, (CITE,)),
    Mutant(V, "arrow_svd_signs_flipped (control)", SvdSignsFlipped, (), survives=ALL),
    Mutant(V, "arrow_block_expanded (control)", BlockExpanded, (), survives=ALL),
)

EXPECTED_MUTANTS = 17
EXPECTED_KILLS = 20
