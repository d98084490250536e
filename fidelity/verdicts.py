"""Outcome of a check + the implementation's declaration -> verdict (ARCHITECTURE.md, first match wins).

| condition                                                                   | verdict                    |
|-----------------------------------------------------------------------------|----------------------------|
| variant or option not provided; claim does not apply                       | N/A                        |
| the check raised outside its assertions                                     | ERROR                      |
| holds, nothing declared                                                     | MATCHES                    |
| holds, but a deviation or bug is declared                                   | STALE                      |
| fails; deviation declared; its alternative holds; every preserved MATCHES  | DEVIATES-OK                |
| fails; known bug declared (and its failure signature, if any, matches,    | DEVIATES (known)           |
|   and its exact alternative property, if any, holds)                       |                            |
|   (beside a deviation, the known bug's signature is matched against the    |                            |
|    failure of the deviation's alternative: a deliberate departure with a   |                            |
|    known bug inside it)                                                     |                            |
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


def _known(bug, observation: str, context: str = "") -> Decision:
    """DEVIATES (known) when the bug's signature matches the failure, else an undeclared DEVIATES."""
    if bug.signature and not re.search(bug.signature, observation):
        return Decision(Verdict.DEVIATES, reason=f"{context}fails, but not the way the declared known bug does (its "
                        f"signature /{bug.signature}/ does not match): an undeclared failure")
    inside = f"{context}fails the way the known bug does; " if context else ""
    return Decision(Verdict.DEVIATES, known_bug=True, reason=f"{inside}known bug: {bug.link}")


def decide(status: Status, declaration=None, alternative: Status | None = None,
           preserved: dict[str, "Verdict"] | None = None, observation: str = "", bug=None,
           alternative_observation: str = "") -> Decision:
    """Apply the verdict rules to one cell.

    `declaration` is the cell's deviation or known bug; `bug` a known bug declared beside a deviation; `observation`
    what the failing check reported, `alternative_observation` what the deviation's failing alternative reported.
    """
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
            if bug is not None:  # the deviation's alternative holds again: the known bug inside it is fixed
                return Decision(Verdict.STALE, reason=f"the known bug declared for {bug.claim} no longer applies: "
                                "the declared deviation's alternative property now holds")
            return Decision(Verdict.DEVIATES_OK, reason=declaration.rationale)
        if bug is not None and alternative is Status.FAILS and not broken:
            return _known(bug, alternative_observation, "a declared deviation whose alternative property ")
        why = []
        if alternative is not Status.HOLDS:
            why.append(f"the declared alternative property {alternative.value if alternative else 'was not run'}")
        if broken:
            why.append("preserved claims not MATCHES: " + ", ".join(f"{c}={preserved.get(c, 'not run')}"
                                                                  for c in broken))
        return Decision(Verdict.DEVIATES, reason="declared deviation not honoured: " + "; ".join(why))
    if declaration is not None and declaration.kind == "known_bug":
        if declaration.alternative is not None and alternative is not Status.HOLDS:
            return Decision(Verdict.DEVIATES, reason="fails, but not as the declared known bug is characterised (its "
                            f"exact alternative property {alternative.value if alternative else 'was not run'}): an "
                            "undeclared failure")
        decision = _known(declaration, observation)
        if decision.known_bug and declaration.alternative is not None:
            return Decision(Verdict.DEVIATES, known_bug=True, reason=f"{decision.reason}; characterised exactly: "
                            "its alternative property holds")
        return decision
    return Decision(Verdict.DEVIATES)
