"""Cells recorded in another environment (fidelity/recorded.py): replayed, they render exactly what a live run renders;
a file from another suite version or one that cannot be read is refused with one line; an environment that did not
build records ERROR cells with the installer's line, only where the library provides the variant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.recorded import load_recorded
from fidelity.report import render, render_index
from fidelity.results import document, recorded_document, to_json
from fidelity.runner import Runner

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ["lora", "dora", "ia3"]


def _record(tmp_path: Path) -> Path:
    live = Runner({"reference": ReferenceBinding()}, WITNESS)
    for cell in live.cells():
        if cell[1] in VARIANTS:
            live.run(*cell)
    directory = tmp_path / "recorded"
    directory.mkdir()
    (directory / "reference.json").write_text(to_json(recorded_document(live, VARIANTS, "reference")), "utf-8")
    return directory


def test_replayed_cells_render_exactly_what_the_live_run_renders(tmp_path):
    directory = _record(tmp_path)
    replayed = load_recorded("reference", directory)
    assert replayed is not None and not replayed.stale
    live = Runner({"reference": ReferenceBinding()}, WITNESS)
    replay = Runner({"reference": replayed}, WITNESS)
    for name in VARIANTS:
        assert render(name, replay, None, lambda line: None) == render(name, live, None, lambda line: None), name
    assert render_index(replay, VARIANTS) == render_index(live, VARIANTS)
    assert to_json(document(replay, VARIANTS)) == to_json(document(live, VARIANTS))


def test_a_file_from_another_suite_version_replays_as_errors_that_say_to_rerun_it(tmp_path):
    directory = _record(tmp_path)
    path = directory / "reference.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["suite"]["code"] = "0" * 16
    path.write_text(json.dumps(doc), "utf-8")
    replayed = load_recorded("reference", directory)
    assert "recorded by another version of the suite (code 0000000000000000 ≠" in replayed.stale
    result = Runner({"reference": replayed}, WITNESS).run("reference", "lora", "lora.forward")
    assert result.verdict.value == "ERROR" and "nox -s reference" in result.run.error


def _report(*args, recorded: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "FIDELITY_RECORDED_DIR": str(recorded), "FIDELITY_PROFILE": "ci"}
    return subprocess.run([sys.executable, "-m", "fidelity.report", *args], check=False, capture_output=True, text=True,
                          env=env,
                          cwd=cwd or REPO, timeout=600)


def test_a_stale_recording_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    doc = json.loads((REPO / "reviews" / "recorded" / "loralib.json").read_text("utf-8"))
    doc["suite"]["version"] = "0.0.1"
    (recorded / "loralib.json").write_text(json.dumps(doc), "utf-8")
    out = tmp_path / "out"
    done = _report("lora", "--impl", "loralib", "--out", str(out), "--allow-unverified", "-q", recorded=recorded)
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("not written: loralib") and "recorded by another version of the suite (version 0.0.1" \
        in line and "nox -s loralib" in line, done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_an_unreadable_recording_is_one_line(tmp_path):
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "loralib.json").write_text("{ not json", "utf-8")
    done = _report("lora", "--impl", "loralib", "--out", str(tmp_path / "out"), "--allow-unverified", "-q",
                   recorded=recorded)
    assert done.returncode == 1 and "loralib.json cannot be read" in done.stderr and "Traceback" not in done.stderr


def test_record_needs_all_and_one_implementation(tmp_path):
    done = _report("lora", "--record", "--impl", "loralib", recorded=tmp_path)
    assert done.returncode == 2 and "give all and exactly one --impl" in done.stderr


def test_an_environment_that_did_not_build_records_errors_only_where_the_library_provides_the_variant(tmp_path):
    line = "its environment failed to build: error: No solution found when resolving dependencies"
    out = tmp_path / "out"
    done = _report("all", "--impl", "loralib", "--record", "--environment-error", line, "--out", str(out), "-q",
                   recorded=tmp_path / "none")
    assert done.returncode == 1, done.stderr
    doc = json.loads((out / "recorded" / "loralib.json").read_text("utf-8"))
    errors = {(c["variant"], c["claim"]) for c in doc["cells"] if c["verdict"] == "ERROR"}
    assert errors and {variant for variant, _ in errors} == {"lora"}
    assert all(c["error"] == line for c in doc["cells"] if c["verdict"] == "ERROR")
    assert doc["variants"]["lora"]["absent"] is None and doc["variants"]["dora"]["absent"]
