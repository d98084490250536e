"""The run's results as data: `reviews/results.json` (a versioned schema) and the matrices of `reviews/index.md`.

Everything in the committed form is deterministic under the derandomized `ci` profile and the same on every machine,
so both files are committed and checked for freshness like the reviews: no timestamps, no durations, evidence in its
stable form (fidelity/stable.py: no margins or rounding-level errors, no `measured` numbers), errors in one line, and
versions only of what is pinned (torch, hypothesis, PyMuPDF, the suite, each implementation) and of the papers (arXiv
version and PDF sha256). The exact form (`exact=True`: console text and every measured number, to four significant
digits) is written to the git-ignored cache by `python -m fidelity.report`, never committed.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from collections import Counter

from fidelity.papers.records import load_paper
from fidelity.runner import CellResult, Runner
from fidelity.stable import exact as exact_text
from fidelity.stable import stable
from fidelity.variants import get_variant
from fidelity.verdicts import Verdict

SCHEMA = "fidelity-results"
SCHEMA_VERSION = 2  # 2: cells say their check's status and the alternative's example count; recorded files

# One glyph per verdict in the index matrices (the legend is printed above them).
GLYPHS = {"MATCHES": "✓", "DEVIATES-OK": "≈", "DEVIATES": "✗", "known bug": "✗ᵏ", "STALE": "STALE", "N/A": "N/A",
          "ERROR": "ERROR"}
ORDER = ("MATCHES", "DEVIATES-OK", "known bug", "DEVIATES", "STALE", "N/A", "ERROR")


def outcome(result: CellResult) -> str:
    """The cell's verdict, with a declared known bug told apart from an undeclared DEVIATES."""
    return "known bug" if result.verdict is Verdict.DEVIATES and result.known_bug else result.verdict.value


def _number(value: float):
    """Four significant digits; non-finite values as strings (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return float(f"{value:.4g}") if isinstance(value, float) else value


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return ""


def suite_version() -> str:
    return _version("adapter-fidelity")


def cell_record(result: CellResult, exact: bool = False, recorded: bool = False) -> dict:
    """One cell as data: verdict, evidence, the declaration it was judged with; in the committed (stable) form, or
    with the console's text and every measured number when `exact`; `recorded` adds what a review shows of the cell
    (its source lines), for a file another environment renders (fidelity/recorded.py)."""
    text = exact_text if exact else stable
    ev = result.evidence
    record = {
        "implementation": result.impl,
        "variant": result.variant,
        "claim": result.claim.id,
        "paper": result.claim.paper_id,
        "kind": result.claim.kind,
        "check": result.check,
        "verdict": result.verdict.value,
        "status": result.run.status.value,
        "known_bug": result.known_bug,
        "reason": result.reason,
    }
    if ev is not None:
        record["evidence"] = {
            "observation": text(ev.observation),
            **({"measured": {k: _number(v) for k, v in sorted(ev.measured.items())}} if exact else {}),
            "examples": ev.examples,
            "witness": ev.witness,
            "falsifying": text(ev.falsifying).strip(),
            "token": ev.token,
            **({"figure": ev.figure} if ev.figure else {}),
        }
    if result.run.error:
        record["error" if result.verdict is Verdict.ERROR else "not_applicable"] = text(result.run.error)
    if result.declaration is not None:
        d = result.declaration
        record["declaration"] = {"kind": d.kind, "rationale": d.rationale, "link": d.link, "where": d.where,
                                 "signature": d.signature,
                                 "alternative": repr(d.alternative) if d.alternative is not None else "",
                                 "preserves": list(d.preserves)}
    if result.alternative is not None:
        alt = result.alternative
        record["alternative"] = {"status": alt.status.value,
                                 "observation": text(alt.evidence.observation if alt.evidence else alt.error),
                                 **({"examples": alt.evidence.examples} if alt.evidence else {})}
    if recorded:
        record["sources"] = [{"path": s.path, "first": s.first, "lines": list(s.lines)} for s in result.sources]
    return record


def document(runner: Runner, variants: list[str], exact: bool = False) -> dict:
    """The whole run: schema, versions, papers, and every cell of the given variants, in a stable order (the
    committed form, or the exact one: see the module docstring)."""
    results = [r for v in variants for r in runner.results(v)]
    papers = sorted({pid for v in variants for pid in get_variant(v).papers})
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "suite": {"name": "adapter-fidelity", "version": suite_version()},
        "versions": {p: _version(p) for p in ("torch", "hypothesis", "pymupdf")},
        "profile": {"name": runner.profile.name, "max_examples": runner.profile.max_examples,
                    "derandomize": runner.profile.derandomize,
                    **({"seed": runner.profile.seed} if runner.profile.seed is not None else {})},
        "implementations": {name: {"label": b.label, "version": b.version} for name, b in runner.bindings.items()},
        "papers": {pid: {"version": (p := load_paper(pid)).version, "sha256": p.sha256, "title": p.title}
                   for pid in papers},
        "counts": dict(sorted(Counter(outcome(r) for r in results).items())),
        "by_implementation": {row["name"]: {"variants": row["variants"],
                                            "counts": {o: n for o, n in row["counts"].items() if n}}
                              for row in by_implementation(runner, variants)},
        "cells": [cell_record(r, exact) for r in sorted(results, key=lambda r: (r.variant, r.claim.id, r.impl))],
    }


def recorded_document(runner: Runner, variants: list[str], impl: str) -> dict:
    """One implementation's cells of every given variant, with what its reviews show (fidelity/recorded.py), for the
    main environment to render: the results schema plus the suite's code fingerprint, the implementation's answer
    per variant (absent or not, the path its forward lives in) and each cell's source lines."""
    from fidelity.recorded import code_fingerprint
    from fidelity.runner import absence

    binding = runner.bindings[impl]
    doc = document(runner, variants)
    doc["suite"]["code"] = code_fingerprint(impl)
    doc["implementations"] = {impl: doc["implementations"][impl]}
    doc["variants"] = {}
    for name in variants:
        spec = get_variant(name)
        live = not (binding.unavailable() or binding.broken())
        doc["variants"][name] = {
            "absent": absence(binding, spec), "provides": binding.provides(name, {}) if live else None,
            "forward": [s.path for s in binding.sources(name, "forward")] if live and not absence(binding, spec)
            else []}
    results = [r for v in variants for r in runner.results(v) if r.impl == impl]
    doc["counts"] = dict(sorted(Counter(outcome(r) for r in results).items()))
    doc["cells"] = [cell_record(r, recorded=True) for r in sorted(results, key=lambda r: (r.variant, r.claim.id))]
    return doc


def to_json(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _absent(binding, spec) -> str | None:
    from fidelity.runner import absence

    return absence(binding, spec)


def by_implementation(runner: Runner, variants: list[str]) -> list[dict]:
    """One row per implementation: the variants it provides (of those run), its verdict counts over them, and the
    variants it lacks. N/A counts only cells of provided variants (an option the implementation lacks)."""
    rows = []
    for impl, binding in runner.bindings.items():
        provided = [v for v in variants if not _absent(binding, get_variant(v))]
        results = [r for v in provided for r in runner.results(v) if r.impl == impl]
        tally = Counter(outcome(r) for r in results)
        rows.append({"name": impl, "label": binding.label, "variants": provided,
                     "lacks": [v for v in variants if v not in provided],
                     "counts": {o: tally.get(o, 0) for o in ORDER}, "total": len(results)})
    return rows


def matrices(runner: Runner, variants: list[str]) -> list[dict]:
    """One matrix per paper: its claims (rows) × (implementation, variant) columns that test them, with counts per
    column. A column is every implementation of every variant citing the paper, N/A and ERROR cells included."""
    by_cell = {(r.impl, r.variant, r.claim.id): r for v in variants for r in runner.results(v)}
    out = []
    papers = sorted({pid for v in variants for pid in get_variant(v).papers})
    for pid in papers:
        paper = load_paper(pid)
        specs = [get_variant(v) for v in variants if pid in get_variant(v).papers]
        # an implementation that does not provide a variant at all has no column (the summary lists what it lacks)
        columns = [(impl, spec.name) for spec in specs for impl in runner.bindings
                   if any(c.id in spec.claims for c in paper.claims) and not _absent(runner.bindings[impl], spec)]
        rows = []
        for claim in paper.claims:
            cells = []
            for impl, variant in columns:
                result = by_cell.get((impl, variant, claim.id))
                binding = runner.bindings[impl]
                in_review = not (binding.unavailable() or binding.provides(variant, {}))  # else the review omits it
                cells.append(None if result is None else {
                    "glyph": GLYPHS[outcome(result)], "outcome": outcome(result),
                    "link": f"{variant}.md#{claim.anchor}" if in_review else ""})
            if any(cells):
                rows.append({"claim": claim, "cells": cells})
        counts = []
        for i, _ in enumerate(columns):
            tally = Counter(row["cells"][i]["outcome"] for row in rows if row["cells"][i])
            counts.append(tally)
        out.append({"paper": paper, "columns": columns, "rows": rows,
                    "counts": [{o: c.get(o, 0) for o in ORDER} | {"total": sum(c.values())} for c in counts]})
    return out
