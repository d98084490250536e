"""OLoRA: Büyükakyüz 2024, "OLoRA: Orthonormal Low-Rank Adaptation of Large Language Models", arXiv:2406.01775
(no local text; the math follows ../shared/spec/variants.md §2.3 and the author's PEFT implementation).

    W = Q R (thin QR),   B = Q_r (d_out, r) orthonormal,   A = R_r (r, d_in) upper-triangular,   W_res = W − s B A
    h = W_res x + b + s · B A x,   s = α/r

Identity at init up to the rounding of W_res; no zero side, both factors live on step 0. Unlike PiSSA there is no
pre-division by s, so for α ≠ r the residual W − s Q_r Q_rᵀ W is not W's component outside span Q_r.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import Citation, Decomposition, Formula, Identity, Inventory, Liveness, Reconstruction
from fidelity.checks.decomposition import SubspaceClaim
from fidelity.variants.base import Role, VariantSpec
from fidelity.variants.lora import LORA_FACTORS, scaled_delta


@dataclass(frozen=True)
class OloraConfig:
    r: int
    alpha: float


def subspaces(case, state, weight, calibration, cfg) -> list[SubspaceClaim]:
    """col(B) vs the span of W's first r columns, B orthonormal; control: the trailing r directions of a complete
    orthonormal basis started from those columns (it holds a direction orthogonal to them, so it is at distance 1).

    Householder QR is backward stable, Q̂ R̂ = W + E with ‖E‖₂ ≲ eps ‖W‖₂, so span Q̂_r is within
    ‖E‖ / σ_r(W[:, :r]) of span W[:, :r]: the condition is ‖W‖₂ / σ_r(W[:, :r]).
    """
    r = case.r
    head = weight[:, :r]  # (d_out, r)
    condition = float(torch.linalg.matrix_norm(weight, ord=2) / torch.linalg.svdvals(head)[-1])
    complete = torch.linalg.qr(head, mode="complete").Q  # (d_out, d_out)
    return [SubspaceClaim("col(B)", state["up"], head, condition, complete[:, -r:], orthonormal=True)]


SPEC = VariantSpec(
    name="olora",
    title="OLoRA (QR initialisation, PEFT init_lora_weights=\"olora\")",
    papers=("2406.01775",),
    roles=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in) = R_r"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r) = Q_r"),
    ),
    zero_at_init=frozenset(),
    live_at_step0=frozenset({"down", "up"}),
    make_config=lambda case, **options: OloraConfig(r=case.r, alpha=case.alpha, **options),
    **LORA_FACTORS,
    identity="recon",
    witness=LayerCase(d_in=32, d_out=24, r=8, alpha=16.0, spectrum="gapped"),
    extra_witnesses=(LayerCase(d_in=20, d_out=28, r=6, alpha=3.0, dtype="float32", spectrum="gapped", seed=1),),
    cases=lambda: layer_cases(spectrum="gapped"),
    subspaces=subspaces,
    initial_term=lambda state, cfg: scaled_delta(state, cfg)[0],
    claims={
        "olora.orthonormal-basis": Decomposition(),
        "olora.reconstruction": Reconstruction(tail=False),
        "olora.identity-at-init": Identity(),
        "olora.trainable": Inventory(),
        "olora.step0-gradient": Liveness(),
        "olora.forward": Formula(),
        "olora.citation": Citation(paper="2406.01775"),
    },
)
