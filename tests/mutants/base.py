"""A mutant: a reference module with exactly one property broken, and the claims that must kill it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    variant: str
    name: str
    cls: type
    killed_by: tuple[str, ...]  # claims whose verdict must be DEVIATES (through the deterministic witness alone)
    survives: tuple[str, ...] = ()  # claims that must still be MATCHES (at-init-invisible bugs, controls)


def crop_bottom_triplets(module, base, r: int) -> None:
    """Re-split a frozen-SVD-basis module from W's *bottom* r singular triplets (U, S, Vh buffers and W_res).

    Still an identity at init, but the residual is not the tail: the at-init-invisible bug the reconstruction
    check must kill (shared by the AntiPaSTO-family mutants).
    """
    import torch

    with torch.no_grad():
        base.weight.add_((module.lora_U * module.lora_S) @ module.lora_Vh)  # undo the top-r crop
        u, s, vh = torch.linalg.svd(base.weight.to(torch.float64), full_matrices=False)
        module.lora_U.copy_(u[:, -r:])
        module.lora_S.copy_(s[-r:])
        module.lora_Vh.copy_(vh[-r:])
        base.weight.sub_((module.lora_U * module.lora_S) @ module.lora_Vh)
