"""Measured numbers in evidence text: exact on the console, machine-independent in committed files.

The committed reviews, index and results are checked for freshness on whatever machine CI runs on, and rounding-level
numbers differ between CPUs, BLAS code paths and thread counts. So a check writes its evidence once, marking what
depends on rounding, and the text is rendered two ways (README, "Committed output"):

- `exact(text)`: everything, at full precision: the console, test failures, `.cache/fidelity/exact/`;
- `stable(text)`: what the committed files hold: a `noisy(...)` part is replaced by its stable wording (by default it
  is left out), everything else is kept verbatim.

What a check may leave unmarked: exact numbers (shapes, hyper-parameters, counts, tolerances' constants), and
macroscopic measurements, i.e. quantities far above their own rounding noise, shown with at most three significant
digits (`figure` shows one whose noise is bounded, e.g. by its tolerance, to the digits that bound allows). What it must
mark: margins (error/tolerance ratios: `ratio`), errors at rounding level, which example happened to be the worst, and
sizes that rounding itself moves (an iterative algorithm's error: `magnitude`).
"""

from __future__ import annotations

import math
import re

_OPEN, _MID, _CLOSE = "\ue000", "\ue001", "\ue002"  # private-use code points: never in paper, code or config text
_MARKED = re.compile(f"{_OPEN}([^{_OPEN}{_MID}{_CLOSE}]*){_MID}([^{_OPEN}{_MID}{_CLOSE}]*){_CLOSE}")
NOISE_FACTOR = 100.0  # a committed digit's place value is at least this many times the value's noise bound


def noisy(text: str, instead: str = "") -> str:
    """`text` on the console; `instead` (by default nothing) in committed files: for what rounding can change."""
    return f"{_OPEN}{exact(text)}{_MID}{stable(instead)}{_CLOSE}"


def exact(text: str) -> str:
    """The text as the console shows it: every measured number at full precision."""
    return _MARKED.sub(r"\1", text)


def stable(text: str) -> str:
    """The text as committed files hold it: rounding-dependent parts replaced by their stable wording."""
    return _MARKED.sub(r"\2", text)


def plotted(value: float, digits: int = 3) -> float:
    """A number as a committed figure plots it: `digits` significant digits (a small plot resolves fewer), so that
    rounding-level differences between machines do not reach the SVG."""
    return float(f"{value:.{digits}g}")


def figure(value: float, noise: float, digits: int = 3) -> str:
    """A measured `value` whose rounding noise is bounded by `noise` (e.g. its check's tolerance, which bounds the
    rounding of a correct computation and is far above what two machines differ by): committed to at most `digits`
    significant digits, and only to those whose place value is at least NOISE_FACTOR × `noise` (with digits=10,
    1.333332222 at a tolerance of 6e-13; 2.39 at 1e-6), so they are the same on every machine; on the console to at
    least six. A value that does not stand that far above its noise is committed as "below" that resolution."""
    if not (math.isfinite(value) and math.isfinite(noise) and noise > 0):
        return f"{value:.4g}"
    resolution = 10.0 ** math.ceil(math.log10(NOISE_FACTOR * noise))
    if abs(value) < resolution:
        return noisy(f"{value:.3g}", f"below {resolution:.0e}")
    allowed = math.floor(math.log10(abs(value))) - round(math.log10(resolution)) + 1
    return noisy(f"{value:.{max(allowed, digits, 6)}g}", f"{value:.{min(allowed, digits)}g}")


def ratio(value: float) -> str:
    """An error/tolerance ratio (a margin) in a message: "≤ 1" committed where it passes (how far below is rounding);
    above 1, to the digits its own noise leaves (an error's rounding is well under a tenth of its tolerance)."""
    if not math.isfinite(value):
        return f"{value}"
    if value <= 1.0:
        return noisy(f"{value:.3g}", "≤ 1")
    if value < 100.0:
        return noisy(f"{value:.3g}", "> 1")
    return figure(value, 0.1)


def magnitude(value: float) -> str:
    """A measured size that rounding itself can move by tens of percent (the error of an iterative or randomized
    algorithm, or rounding amplified by an unstable one): exact on the console, committed as its nearest power of ten
    ("~1e-07"), the only part of it that is the same on every machine."""
    if not math.isfinite(value) or value == 0:
        return f"{value:.3g}"
    return noisy(f"{value:.3g}", f"~1e{round(math.log10(abs(value))):+03d}")
