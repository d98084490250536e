"""Outcome of a check + the implementation's declaration -> verdict (ARCHITECTURE.md, first match wins).

| condition                                                                   | verdict                    |
|-----------------------------------------------------------------------------|----------------------------|
| variant or option not provided; claim does not apply                       | N/A                        |
| the check raised outside its assertions                                     | ERROR                      |
| holds, nothing declared                                                     | MATCHES                    |
| holds, but a deviation or bug is declared                                   | STALE                      |
| fails; deviation declared; its alternative holds; every preserved MATCHES  | DEVIATES-OK                |
| fails; known bug declared (and its failure signature, if any, matches)    | DEVIATES (known)           |
| anything else that fails                                                    | DEVIATES                   |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Verdict(str, Enum):
    MATCHES = "MATCHES"
    DEVIATES_OK = "DEVIATES-OK"
    DEVIATES = "DEVIATES"
    STALE = "STALE"
    NA = "N/A"
    ERROR = "ERROR"


class Status(str, Enum):
    """What running a check gave, before declarations are considered."""

    HOLDS = "holds"
    FAILS = "fails"
    NOT_APPLICABLE = "not applicable"
    ERROR = "error"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    known_bug: bool = False  # a DEVIATES that the implementation declared as a known bug (strict xfail)
    reason: str = ""


def decide(status: Status, declaration=None, alternative: Status | None = None,
           preserved: dict[str, "Verdict"] | None = None, observation: str = "") -> Decision:
    """Apply the verdict rules to one cell (`observation`: what the failing check reported)."""
    if status is Status.NOT_APPLICABLE:
        return Decision(Verdict.NA)
    if status is Status.ERROR:
        return Decision(Verdict.ERROR)
    if status is Status.HOLDS:
        if declaration is None:
            return Decision(Verdict.MATCHES)
        return Decision(Verdict.STALE, reason=f"the {declaration.kind.replace('_', ' ')} declared for "
                        f"{declaration.claim} no longer applies: the paper's property now holds")
    if declaration is not None and declaration.kind == "deviation":
        preserved = preserved or {}
        broken = [c for c in declaration.preserves if preserved.get(c) is not Verdict.MATCHES]
        if alternative is Status.HOLDS and not broken:
            return Decision(Verdict.DEVIATES_OK, reason=declaration.rationale)
        why = []
        if alternative is not Status.HOLDS:
            why.append(f"the declared alternative property {alternative.value if alternative else 'was not run'}")
        if broken:
            why.append("preserved claims not MATCHES: " + ", ".join(f"{c}={preserved.get(c, 'not run')}"
                                                                  for c in broken))
        return Decision(Verdict.DEVIATES, reason="declared deviation not honoured: " + "; ".join(why))
    if declaration is not None and declaration.kind == "known_bug":
        if declaration.signature and not re.search(declaration.signature, observation):
            return Decision(Verdict.DEVIATES, reason=f"fails, but not the way the declared known bug does (its "
                            f"signature /{declaration.signature}/ does not match): an undeclared failure")
        return Decision(Verdict.DEVIATES, known_bug=True, reason=f"known bug: {declaration.link}")
    return Decision(Verdict.DEVIATES)
