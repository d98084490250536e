"""K24 config validation: a configuration the method cannot honour is refused, not silently changed.

`invalid(case)` turns each drawn case into one that breaks a stated requirement (HRA's paired identity init needs an
even r). Building it must raise an exception that names the problem; a build that succeeds is a violation, or,
when `warning_suffices`, passes only if a warning was emitted (used as a declared alternative: an implementation that
documents the fall-back and warns about it).
"""

from __future__ import annotations

import warnings
from typing import Callable

from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class Validation(Check):
    kind = "validation"
    topic = "init"

    def __init__(self, invalid: Callable, text: str, warning_suffices: bool = False, options: dict | None = None):
        super().__init__(options)
        self.invalid, self.text, self.warning_suffices = invalid, text, warning_suffices

    def __repr__(self) -> str:
        how = "raise or warn" if self.warning_suffices else "raise"
        return f"Validation({self.text!r}, expect={how}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        seen: list[str] = []

        def prop(case, record):
            bad = self.invalid(case)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    subject.build(bad)
                except Violation:  # built, but with roles of the wrong shape: not a refusal
                    raise
                except Exception as exc:  # the refusal the claim asks for
                    seen.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200])
                    record.add(bad, 0.0, {"raised": 1.0})
                    return
            warned = [str(w.message).splitlines()[0] for w in caught]
            if self.warning_suffices and warned:
                seen.append(f"warning: {warned[0]}"[:200])
                record.add(bad, 0.0, {"raised": 0.0, "warned": 1.0})
                return
            also = f" (it only warned: {warned[0][:120]})" if warned else ""
            raise Violation(f"{self.text}: building with {bad} succeeded without an error{also}",
                            {"raised": 0.0, "warned": float(bool(warned))})

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"{self.text}: refused in all {rec.examples} examples"
            f"{' (raise or warning)' if self.warning_suffices else ''}, e.g. {seen[0] if seen else '?'}",
        )
