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
