"""Bad input never loses a review: every case of issue 10's list, each one line and nothing half-written.

Validation happens before the first cell runs (the tests below replace `report.produce` with a tripwire where the run
must not start); the files of one run are written as a set, under a lock, or not at all.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fidelity import output, report
from fidelity.impls.reference import ReferenceBinding
from fidelity.papers import sources
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Verdict

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "papers"
needs_papers = pytest.mark.skipif(not (SHARED / "2106.09685.pdf").is_file(), reason="needs ../shared/papers")


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if any cell would run."""
    def tripwire(*args, **kwargs):
        raise AssertionError("a cell ran although the input was bad")

    monkeypatch.setattr(report, "produce", tripwire)


@pytest.fixture
def quick(monkeypatch):
    """Cells replaced by a fixed set of files: a run that gets as far as writing."""
    monkeypatch.setattr(report, "produce", lambda plan, everything, progress=print, record=False: {
        f"{name}.md": f"new {name}\n" for name in plan.names})
    monkeypatch.setattr(report, "write_exact", lambda plan, everything, record=False: None)


def _old_set(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {"lora.md": "old lora\n", "dora.md": "old dora\n", "results.json": "{}\n"}
    for name, text in files.items():
        (directory / name).write_text(text)
    return files


def _unchanged(directory: Path, files: dict[str, str]) -> bool:
    return {p.name: p.read_text() for p in directory.iterdir()} == files


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


# --- papers -------------------------------------------------------------------------------------------------------

@needs_papers
def test_without_a_papers_setting_the_shared_papers_are_found(monkeypatch, tmp_path, quick, capsys):
    monkeypatch.delenv("FIDELITY_PAPERS_DIR", raising=False)
    argv = ["antipasto_dplr", "--impl", "reference", "--out", str(tmp_path)]
    assert report.main(argv) == 0
    sources = report.prepare(report.arguments(argv)).sources
    assert not any(s.unavailable for s in sources.values())  # the PDF and the markdown, from ../shared/papers


def test_no_papers_directory_at_all_is_one_line(monkeypatch, tmp_path, no_run, capsys):
    monkeypatch.delenv("FIDELITY_PAPERS_DIR", raising=False)
    monkeypatch.setenv("FIDELITY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "SHARED_PAPERS", tmp_path / "no-shared")
    assert report.main(["lora", "--out", str(tmp_path / "out")]) == 2
    assert "no papers directory" in _one_line_error(capsys) and not (tmp_path / "out").exists()


def test_a_papers_dir_that_does_not_exist_is_one_line(tmp_path, no_run, capsys):
    assert report.main(["lora", "--papers-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "nowhere" in _one_line_error(capsys)


@needs_papers
def test_a_review_with_verified_quotes_is_not_replaced_by_one_without(tmp_path, no_run, capsys):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(REPO / "reviews" / "lora.md", out / "lora.md")  # quotes the LoRA PDF
    (tmp_path / "empty").mkdir()
    assert report.main(["lora", "--papers-dir", str(tmp_path / "empty"), "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "quotes arXiv:2106.09685" in err and "--allow-unverified" in err
    assert (out / "lora.md").read_text() == (REPO / "reviews" / "lora.md").read_text()


def test_asked_for_unverified_quotes_are_written(tmp_path, quick):
    out = tmp_path / "out"
    out.mkdir()
    (out / "lora.md").write_text("Paper: ../shared/papers/2106.09685.pdf (arXiv:2106.09685v2) — \"LoRA\"\n")
    (tmp_path / "empty").mkdir()
    assert report.main(["lora", "--impl", "reference", "--papers-dir", str(tmp_path / "empty"), "--out", str(out),
                        "--allow-unverified"]) == 0
    assert (out / "lora.md").read_text() == "new lora\n"


def test_a_bad_pdf_for_one_paper_stops_before_any_cell(tmp_path, no_run, capsys):
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "2106.09685.pdf").write_bytes(b"%PDF-1.4 not really")
    assert report.main(["all", "--papers-dir", str(papers), "--out", str(tmp_path / "out")]) == 2
    assert "2106.09685.pdf" in _one_line_error(capsys) and not (tmp_path / "out").exists()


# --- settings -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, message", [
    ({"FIDELITY_PROFILE": "bogus"}, "FIDELITY_PROFILE='bogus' is not a profile"),
    ({"FIDELITY_SEED": "x"}, "FIDELITY_SEED='x' is not an integer"),
])
def test_a_bad_setting_is_one_line(monkeypatch, tmp_path, no_run, capsys, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert report.main(["lora", "--out", str(tmp_path)]) == 2
    assert message in _one_line_error(capsys)


@pytest.mark.parametrize("env", [{"FIDELITY_PROFILE": "dev"}, {"FIDELITY_SEED": "7"}])
def test_another_profile_never_overwrites_the_committed_reviews(monkeypatch, no_run, capsys, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert report.main(["lora"]) == 2
    assert "write it elsewhere with --out" in _one_line_error(capsys)


def test_a_bad_profile_under_pytest_is_one_usage_error():
    proc = subprocess.run([sys.executable, "-m", "pytest", "fidelity/test_claims.py", "-q"], cwd=REPO,
                          capture_output=True, text=True, env={**os.environ, "FIDELITY_PROFILE": "bogus"})
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 4 and lines == ["ERROR: FIDELITY_PROFILE='bogus' is not a profile; use one of dev, ci, "
                                              "thorough"], proc.stdout + proc.stderr


def test_a_malformed_paper_record_under_pytest_is_one_usage_error(monkeypatch):
    from fidelity import conftest
    from fidelity.papers.records import PaperRecordError

    def broken(paper_id, *args):
        raise PaperRecordError(f"papers/{paper_id}.toml: not valid TOML (Invalid value); fix the syntax")

    monkeypatch.setattr("fidelity.papers.records.load_paper", broken)
    config = type("Config", (), {"getoption": lambda self, name, default=None: None})()
    with pytest.raises(pytest.UsageError, match=r"not valid TOML.*fix the syntax"):
        conftest.pytest_configure(config)


def test_hypothesis_seed_under_ci_seeds_the_search():
    proc = subprocess.run([sys.executable, "-m", "pytest", "fidelity/test_claims.py", "--hypothesis-seed=5",
                           "-k", "reference-lora-lora.zero-init"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "FIDELITY_PROFILE": "ci", "FIDELITY_VARIANTS": "lora"})
    assert proc.returncode == 0 and "fidelity: profile ci (50 examples per property, random seed 5)" in proc.stdout


def test_a_seed_replays_and_another_seed_draws_other_examples():
    from fidelity.profiles import PROFILES
    from fidelity.stable import exact

    def worst(seed):
        profile = PROFILES["dev"].seeded(seed)
        return exact(Runner({"r": ReferenceBinding()}, profile).run("r", "lora", "lora.forward").evidence.observation)

    assert worst(5) == worst(5) != worst(6)


# --- output -------------------------------------------------------------------------------------------------------

def test_an_output_that_is_not_a_directory_is_one_line(tmp_path, no_run, capsys):
    (tmp_path / "file").write_text("x")
    assert report.main(["lora", "--out", str(tmp_path / "file" / "reviews")]) == 2
    assert "is not a directory" in _one_line_error(capsys)


def test_a_read_only_output_is_one_line_before_any_cell(tmp_path, monkeypatch, no_run, capsys):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(output.tempfile, "NamedTemporaryFile", read_only)
    assert report.main(["lora", "--out", str(tmp_path)]) == 2
    assert "Read-only file system" in _one_line_error(capsys)


def test_a_full_disk_writes_nothing(tmp_path, monkeypatch, quick, capsys):
    files = _old_set(tmp_path)
    real = Path.write_text

    def full(self, text, *args, **kwargs):
        if self.name == "lora.md":  # the second of the set: the first is already staged
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    assert report.main(["dora", "--impl", "reference", "--out", str(tmp_path)]) == 0  # dora alone still fits
    monkeypatch.setattr(report, "produce", lambda plan, everything, progress=print, record=False: {
        "dora.md": "new dora\n", "lora.md": "new lora\n"})
    files["dora.md"] = "new dora\n"
    assert report.main(["all", "--impl", "reference", "--out", str(tmp_path)]) == 2
    err = _one_line_error(capsys)
    assert "No space left on device" in err and "nothing was written" in err
    assert _unchanged(tmp_path, files)


def test_a_failed_swap_restores_the_old_set(tmp_path, monkeypatch):
    files = _old_set(tmp_path)
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 4:  # the second file's new copy
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", flaky)
    with pytest.raises(output.OutputError, match="old files were restored"):
        output.write_set(tmp_path, {"lora.md": "new\n", "dora.md": "new\n", "results.json": "new\n"})
    assert _unchanged(tmp_path, files)


def test_a_second_writer_is_refused_with_one_line(tmp_path, quick, capsys):
    files = _old_set(tmp_path)
    with output.OutputLock(tmp_path):
        assert report.main(["lora", "--impl", "reference", "--out", str(tmp_path)]) == 2
    assert "another `python -m fidelity.report` is writing" in _one_line_error(capsys)
    assert _unchanged(tmp_path, files)
    assert report.main(["lora", "--impl", "reference", "--out", str(tmp_path)]) == 0  # free again afterwards


def test_an_interrupt_in_process_keeps_the_old_set(tmp_path, monkeypatch, capsys):
    files = _old_set(tmp_path)

    def interrupted(plan, everything, progress=print, record=False):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "produce", interrupted)
    assert report.main(["all", "--impl", "reference", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("interrupted: nothing was written") and "Traceback" not in err
    assert _unchanged(tmp_path, files)


def test_sigint_ends_with_one_line_and_exit_130(tmp_path):
    files = _old_set(tmp_path)
    # A background job of a non-interactive shell (nohup, `cmd &` in a script) inherits SIGINT ignored, and Python
    # keeps an ignored SIGINT ignored: the child gets the default disposition back, as in a terminal.
    proc = subprocess.Popen([sys.executable, "-m", "fidelity.report", "all", "--impl", "reference", "--out",
                             str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = proc.stdout.readline()  # the first cell is done: the run is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert first.startswith("reference-") and proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"interrupted: nothing was written; {tmp_path} is unchanged"]
    assert _unchanged(tmp_path, files)


# --- implementations ----------------------------------------------------------------------------------------------

def test_an_implementation_that_fails_to_load_never_overwrites_its_cells(tmp_path, quick, capsys):
    files = _old_set(tmp_path)
    code = report.main(["lora", "--impl", "reference", "--impl", "no_such_module_xyz:Binding", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "not written: Binding failed to load" in err and "No module named" in err
    assert _unchanged(tmp_path, files)


def test_an_error_line_names_the_exception_type_and_message():
    class Exploding(ReferenceBinding):
        def build(self, *args, **kwargs):
            raise ValueError("shapes do not match\nsecond line of detail")

    result = Runner({"x": Exploding()}, profile=WITNESS).run("x", "lora", "lora.forward")
    assert result.verdict is Verdict.ERROR and result.run.error == "ValueError: shapes do not match"
    # the seconds are the run's own (the first run in a process loads every variant): only their form is fixed
    assert re.search(r"ERROR \[\d+\.\ds\] ValueError: shapes do not match$", result.summary())
    assert "Traceback" in result.run.traceback and "second line of detail" in result.run.traceback


def test_the_example_count_is_the_one_run():
    from fidelity.impls.peft import PeftBinding

    binding = PeftBinding()
    if binding.unavailable():
        pytest.skip(binding.unavailable())
    result = Runner({"peft": binding}, profile=WITNESS).run("peft", "lora", "lora.gaussian-a")
    assert result.verdict is Verdict.DEVIATES_OK and "[1 ex, alternative 1 ex, " in result.summary()
    deviating = Runner({"peft": binding}, profile=WITNESS).run("peft", "delora", "delora.no-zero-side")
    assert deviating.evidence.examples >= 1  # the failing witness was run, and counted



class RsloraOnly(ReferenceBinding):
    """Provides LoRA only with rsLoRA's scaling (an option): still an implementation of the variant."""

    def __init__(self):
        super().__init__(name="rslora_only")

    def provides(self, variant, options):
        return None if variant == "lora" and options.get("use_rslora") else "only rsLoRA"


class NothingHere(ReferenceBinding):
    def __init__(self):
        super().__init__(name="nothing_here")

    def provides(self, variant, options):
        return "this library has no LoRA"


def test_report_runs_the_cells_of_an_implementation_that_provides_only_an_option(tmp_path, capsys):
    code = report.main(["lora", "--impl", f"{__name__}:RsloraOnly", "--out", str(tmp_path), "--allow-unverified"])
    out = capsys.readouterr().out
    assert code == 0 and "rslora_only-lora-rslora.scaling: MATCHES" in out
    review = (tmp_path / "lora.md").read_text()
    assert "Not provided by" not in review and "**rslora_only**: no real bugs found (4 MATCHES, 12 N/A)" in review


def test_an_implementation_that_provides_nothing_asked_for_is_one_line(tmp_path, no_run, capsys):
    code = report.main(["lora", "--impl", f"{__name__}:NothingHere", "--out", str(tmp_path), "--allow-unverified"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == ("error: --impl nothing_here provides no cell of lora: this library has no LoRA "
                                 "(its provides() refuses every claim's options)")
    assert not any(tmp_path.iterdir())


def test_a_reader_that_goes_away_loses_nothing(tmp_path):
    """`report … | head -1`: the console goes quiet, the run goes on and writes its set; no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "fidelity.report", "ia3", "--impl", "reference", "--out",
                             str(tmp_path), "--allow-unverified"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
    assert (tmp_path / "ia3.md").is_file()


def test_a_claim_never_runs_silently_in_another_dtype():
    class Float64Only(ReferenceBinding):
        def dtypes(self, variant):
            return ("float64",)

    result = Runner({"x": Float64Only(name="x")}, profile=WITNESS).run("x", "ia3", "ia3.trainable")
    assert result.verdict is Verdict.MATCHES
    assert result.evidence.observation.endswith(
        "(bfloat16 examples ran in float64; float32 examples ran in float64: the implementation computes ia3 in "
        "float64)")
