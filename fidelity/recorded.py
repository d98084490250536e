"""Cells recorded in another environment: how the ecosystem matrix spans libraries that cannot share one.

LyCORIS, AdapterHub, torchtune and loralib each run in their own pinned environment (`noxfile.py`): there,
`python -m fidelity.report all --impl NAME --record` runs that implementation's cells and writes
`reviews/recorded/NAME.json`, the results schema with what a review shows of each cell (its source lines, the check's
evidence in stable form, the declaration and its alternative). In the main environment, where the library is not
installed, `RecordedBinding` replays those cells, so `report all` renders every review, the index and results.json
from the reference, PEFT and the recorded files together: the same text as a run in the library's own environment.

A file is refused (one line: rerun its session) when it was recorded by another version of the suite: another schema,
package version, or code that computes cells (its `code` fingerprint, fidelity/recorded.py:code_fingerprint). A
library whose environment failed to build records ERROR cells that carry the installer's first error line.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fidelity.checks.base import Evidence
from fidelity.impls.base import Binding, Declaration, SourceRef
from fidelity.verdicts import Status, Verdict

PACKAGE = Path(__file__).resolve().parent
# where the main environment reads recorded files (FIDELITY_RECORDED_DIR overrides it, for tests)
RECORDED_DIR = Path(os.environ.get("FIDELITY_RECORDED_DIR", PACKAGE.parent / "reviews" / "recorded"))
# What computes a cell (not what renders it): a change here makes every recorded file stale
_COMPUTES = ("checks", "variants", "papers/records", "impls/base.py", "impls/roles.py", "impls/library.py",
             "impls/declarations_file.py", "cases.py", "numerics.py", "stats.py", "kinds.py", "runner.py",
             "verdicts.py", "stable.py", "profiles.py", "recorded.py")


class RecordedError(ValueError):
    """A recorded results file that cannot be used (unreadable, another suite version): one line saying what to do."""


def code_fingerprint(impl: str) -> str:
    """sha256 (16 hex digits) of the suite's code that computes cells and of the implementation's own binding
    package: the same on every machine (file contents only, in a fixed order)."""
    digest = hashlib.sha256()
    paths = []
    for part in (*_COMPUTES, f"impls/{impl}"):
        path = PACKAGE / part
        paths += sorted(path.rglob("*")) if path.is_dir() else [path]
    for path in paths:
        if path.is_file() and path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _status(record: dict) -> Status:
    if record["verdict"] == "ERROR":
        return Status.ERROR
    if record["verdict"] == "N/A":
        return Status.NOT_APPLICABLE
    return Status(record["status"])


def _evidence(data: dict | None, passed: bool) -> Evidence | None:
    if data is None:
        return None
    return Evidence(passed=passed, observation=data["observation"], examples=data["examples"],
                    witness=data.get("witness", ""), falsifying=data.get("falsifying", ""), token=data.get("token", ""),
                    figure=data.get("figure", {}))


class _Shown(str):
    """A recorded check's repr, which reprs as itself (a declaration's alternative, as the review shows it)."""

    def __repr__(self) -> str:
        return str(self)


class RecordedBinding(Binding):
    """An implementation whose cells were run in its own environment, replayed from its recorded results file."""

    def __init__(self, document: dict, path: Path, stale: str = ""):
        (self.name, info), = document["implementations"].items()
        self.path, self.document = path, document
        self.stale = stale  # why the recording cannot be replayed here (another suite version), or ""
        self._label, self._version = info["label"], info["version"]
        self._variants = document["variants"]
        self._cells = {(c["variant"], c["claim"]): c for c in document["cells"]}

    @property
    def label(self) -> str:
        return self._label

    @property
    def version(self) -> str:
        return self._version

    def recorded_variants(self) -> list[str]:
        """The variants this file has cells of that a review shows (those the implementation provides)."""
        return [v for v, info in self._variants.items() if info["absent"] is None]

    def provides(self, variant: str, options: dict) -> str | None:
        info = self._variants.get(variant)
        if info is None:
            return f"no {variant} cells in {self.path.name}: rerun nox -s {self.name}"
        return info["provides"] if not options else info["absent"]

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        return [SourceRef(path, 0, ()) for path in self._variants.get(variant, {}).get("forward", [])] \
            if topic == "forward" else []

    def replay(self, variant: str, claim):
        """The recorded cell as a CellResult (the runner calls this instead of running a check)."""
        from fidelity.runner import CellResult, CheckRun

        record = self._cells.get((variant, claim.id))
        if self.stale:
            return CellResult(self.name, self.label, variant, claim, "", CheckRun(Status.ERROR, error=self.stale),
                              Verdict.ERROR)
        if record is None:
            run = CheckRun(Status.ERROR, error=f"{self.path.name} has no cell for {variant} {claim.id}: rerun nox -s "
                                               f"{self.name}")
            return CellResult(self.name, self.label, variant, claim, "", run, Verdict.ERROR)
        status = _status(record)
        error = record.get("error", record.get("not_applicable", ""))
        run = CheckRun(status, _evidence(record.get("evidence"), status is Status.HOLDS), error)
        declaration = None
        if (d := record.get("declaration")) is not None:
            declaration = Declaration(claim=claim.id, kind=d["kind"], rationale=d["rationale"], variant=variant,
                                      alternative=_Shown(d["alternative"]) if d["alternative"] else None, preserves=tuple(d["preserves"]),
                                      link=d["link"], signature=d["signature"], where=d.get("where") or "the recording")
        alternative = None
        if (a := record.get("alternative")) is not None:
            alt_status = Status(a["status"])
            evidence = _evidence({"observation": a["observation"], "examples": a["examples"]},
                                 alt_status is Status.HOLDS) if "examples" in a else None
            alternative = CheckRun(alt_status, evidence, "" if evidence else a["observation"])
        sources = [SourceRef(s["path"], s["first"], tuple(s["lines"])) for s in record.get("sources", [])]
        return CellResult(self.name, self.label, variant, claim, record["check"], run, Verdict(record["verdict"]),
                          known_bug=record["known_bug"], reason=record["reason"], declaration=declaration,
                          alternative=alternative, sources=sources)


def recorded_path(impl: str, directory: Path = RECORDED_DIR) -> Path:
    return directory / f"{impl}.json"


def load_recorded(impl: str, directory: Path = RECORDED_DIR) -> RecordedBinding | None:
    """The implementation's recorded cells, None when it has no file; RecordedError (one line) when the file cannot be
    read. One recorded by another version of the suite is `stale`: its variants are known, its cells are ERROR with
    the line that says to rerun it (and a report that shows them writes nothing)."""
    from fidelity.results import SCHEMA, SCHEMA_VERSION, suite_version

    path = recorded_path(impl, directory)
    if not path.is_file():
        return None
    shown = f"reviews/recorded/{path.name}" if directory == RECORDED_DIR else str(path)
    rerun = f"rerun it in its environment with `nox -s {impl}`"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordedError(f"{shown} cannot be read ({exc}); {rerun}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise RecordedError(f"{shown} is not a fidelity results file; {rerun}")
    suite = document.get("suite", {})
    here = {"schema_version": SCHEMA_VERSION, "version": suite_version(), "code": code_fingerprint(impl)}
    there = {"schema_version": document.get("schema_version"), "version": suite.get("version"),
             "code": suite.get("code")}
    if list(document.get("implementations", {})) != [impl] or "variants" not in document:
        raise RecordedError(f"{shown} does not hold the recorded cells of {impl} alone; {rerun}")
    differ = [f"{key} {there[key]} ≠ {here[key]} here" for key in here if there[key] != here[key]]
    stale = f"{shown} was recorded by another version of the suite ({'; '.join(differ)}); {rerun}" if differ else ""
    return RecordedBinding(document, path, stale)
