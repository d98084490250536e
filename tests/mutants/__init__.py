"""Mutants: the reference implementations with exactly one property broken, one module per variant.

Each Mutant says which claims must kill it (verdict DEVIATES under the witness-only profile, so the kill
reproduces deterministically) and which claims it must survive (MATCHES): at-init-invisible bugs must survive
the identity claim, and equivalence controls (the same math computed another way) must survive everything they
are run against — otherwise a check tests a convention instead of the claim.
"""

from tests.mutants import antipasto_dplr, lora
from tests.mutants.base import Mutant

MUTANTS: tuple[Mutant, ...] = lora.MUTANTS + antipasto_dplr.MUTANTS
