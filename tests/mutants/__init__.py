"""Mutants: the reference implementations with exactly one property broken, one module per variant.

Each Mutant says which claims must kill it (verdict DEVIATES under the witness-only profile, so the kill
reproduces deterministically) and which claims it must survive (MATCHES): at-init-invisible bugs must survive
the identity claim, and equivalence controls (the same math computed another way) must survive everything they
are run against — otherwise a check tests a convention instead of the claim. Every module here that defines
MUTANTS is collected.
"""

import importlib
import pkgutil

from tests.mutants.base import Mutant

MUTANTS: tuple[Mutant, ...] = tuple(
    m
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
    if info.name != "base"
    for m in getattr(importlib.import_module(f"{__name__}.{info.name}"), "MUTANTS", ())
)
