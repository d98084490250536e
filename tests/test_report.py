"""The review generator: Style R sections per claim and implementation, atomic writes, clear bad-input errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fidelity import report
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.variants import all_variants
from tests.mutants.lora import AlphaNotOverR

REPO = Path(__file__).resolve().parents[1]


def _render(binding, name="x"):
    return report.render("lora", Runner({name: binding}, profile=WITNESS), papers_dir=None, progress=lambda s: None)


def test_review_has_a_section_per_claim_with_quote_code_observation_and_verdict():
    text = _render(ReferenceBinding(), "reference")
    assert text.startswith("# Reference-fidelity check: `lora` vs LoRA (Hu+ 2021, arXiv:2106.09685)")
    assert text.count("\n## ") == 16 + 1  # 16 claims and the bottom line
    assert "> We use a random Gaussian initialization for A" in text
    assert "Code (fidelity/impls/reference/lora.py:" in text
    assert text.count("VERDICT (fidelity reference): ") == 16
    assert "CITATION-CORRECT" not in text  # one verdict vocabulary: a citation found MATCHES
    assert "Reading: We then scale ∆Wx by α/r" in text  # the flattened fraction, read as the check encodes it
    assert "no real bugs: 16 of 16 points" in text


def test_a_review_holds_only_what_rounding_cannot_change():
    text = _render(ReferenceBinding(), "reference")
    assert "worst margin" not in text and "worst case" not in text  # console-only (fidelity/stable.py)
    assert not any("\ue000" <= ch <= "\ue002" for ch in text)  # no stray markers
    assert "within 2(n+2)·eps(dtype)·scale in all" in text


def test_a_deviation_is_reported_with_measured_numbers_and_the_falsifying_example():
    text = _render(ReferenceBinding({"lora": AlphaNotOverR}, name="mutant"), "mutant")
    assert "VERDICT (mutant): DEVIATES. measured scale 16 ≠ claimed α/r = 2" in text
    assert "Falsifying example:" in text
    summary = text.split("## Summary")[1].split("\n## ")[0]  # the first screen: bottom line, table, departures
    assert "`lora.scaling` DEVIATES" in summary and "[§8 `lora.scaling`](#lora-scaling): **DEVIATES**" in summary


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "reviews" / "lora.md"
    report.write_atomically(target, "one\n")
    report.write_atomically(target, "two\n")
    assert target.read_text() == "two\n" and [p.name for p in target.parent.iterdir()] == ["lora.md"]


def test_a_failing_render_writes_nothing(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("render failed")

    monkeypatch.setattr(report, "render", boom)
    with pytest.raises(RuntimeError):
        report.main(["lora", "--out", str(tmp_path), "--impl", "reference"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["no_such_variant"], f"error: unknown variant 'no_such_variant'; known variants: {', '.join(sorted(all_variants()))}"),
    (["lora", "--impl", "lora-lite"], "error: unknown implementation 'lora-lite'; known implementations: adapters, loralib, lycoris, peft, reference, torchtune (or give one as module:object)"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = subprocess.run([sys.executable, "-m", "fidelity.report", *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == message and proc.stdout == ""


def test_check_reports_an_out_of_date_review(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FIDELITY_PROFILE", "dev")
    (tmp_path / "lora.md").write_text("stale\n")
    monkeypatch.setattr(report, "render", lambda *a, **k: "fresh\n")
    assert report.main(["lora", "--out", str(tmp_path), "--check", "--impl", "reference"]) == 1
    assert "+fresh" in capsys.readouterr().out and (tmp_path / "lora.md").read_text() == "stale\n"
