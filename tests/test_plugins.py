"""Third-party implementations plug in: the worked example `examples/tinylora` is installed as its own package (into
a temporary directory, as a user's environment would hold it) and verified through its entry point, with its own
declarations file; its planted bug (`alpha // r`) must come out as DEVIATES, its declared Kaiming A as DEVIATES-OK.
A binding that fails to import, or whose declarations file is wrong or matches no cell, is reported, not ignored."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fidelity.impls import ENTRY_POINT_GROUP, all_bindings, get_binding
from fidelity.impls.declarations_file import DeclarationFileError, load_declarations, problems
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import PROFILES, WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Verdict

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "tinylora"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """`pip install` the example (no dependencies, no build isolation: offline) into a fresh target directory."""
    source, target = tmp_path_factory.mktemp("src") / "tinylora", tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)  # builds in the copy
    return target


@pytest.fixture
def on_path(installed, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(installed))
    importlib.invalidate_caches()
    return installed


def test_the_entry_point_registers_the_binding_with_its_declarations_file(on_path):
    binding = all_bindings()["tinylora"]
    assert not binding.broken() and binding.version == "0.1.0"
    assert [d.claim for d in binding.declarations] == ["lora.gaussian-a"] and problems(binding) == []


def test_the_planted_bug_is_reported_as_deviates_and_the_declared_deviation_as_ok(on_path):
    runner = Runner({"tinylora": get_binding("tinylora")}, profile=PROFILES["ci"])
    scaling = runner.run("tinylora", "lora", "lora.scaling")
    assert scaling.verdict is Verdict.DEVIATES and not scaling.known_bug, scaling.summary()
    assert "measured scale" in scaling.evidence.observation  # α // r, found where r does not divide α
    assert runner.run("tinylora", "lora", "lora.gaussian-a").verdict is Verdict.DEVIATES_OK
    assert runner.run("tinylora", "lora", "lora.identity-at-init").verdict is Verdict.MATCHES
    assert runner.run("tinylora", "lora", "rslora.scaling").verdict is Verdict.NA


def test_the_command_line_reviews_a_plugged_in_implementation(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed), "FIDELITY_PROFILE": "ci"}
    proc = subprocess.run([sys.executable, "-m", "fidelity.report", "lora", "--impl", "tinylora", "--out",
                           str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # an undeclared DEVIATES fails the run
    assert "tinylora-lora-lora.scaling: DEVIATES [" in proc.stdout
    assert "needs attention: tinylora-lora-lora.scaling: DEVIATES" in proc.stdout
    review = (tmp_path / "lora.md").read_text(encoding="utf-8")
    assert "VERDICT (tinylora): DEVIATES." in review and "VERDICT (tinylora): DEVIATES-OK." in review


def test_a_binding_can_be_named_as_module_and_object(on_path):
    binding = get_binding("tinylora.fidelity_binding:TinyLoraBinding")
    assert binding.name == "tinylora" and not binding.broken()


def test_an_implementation_that_fails_to_import_is_error_and_the_others_still_run(monkeypatch):
    ghost = importlib.metadata.EntryPoint("ghost", "no_such_module_xyz:Binding", ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **kw: [ghost] if kw.get("group") == ENTRY_POINT_GROUP else real(**kw))
    bindings = all_bindings()
    runner = Runner({"ghost": bindings["ghost"], "reference": ReferenceBinding()}, profile=WITNESS)
    broken = runner.run("ghost", "lora", "lora.forward")
    assert broken.verdict is Verdict.ERROR and "No module named 'no_such_module_xyz'" in broken.run.error
    assert runner.run("reference", "lora", "lora.forward").verdict is Verdict.MATCHES


@pytest.mark.parametrize("entry, message", [
    ('[[deviation]]\nclaim = "lora.gaussian-a"\nrationale = "x"\n', "needs the 'alternative'"),
    ('[[deviation]]\nclaim = "lora.gaussian-a"\nrationale = "x"\nalternative = { check = "nope" }\n',
     "unknown check kind 'nope'"),
    ('[[known_bug]]\nclaim = "lora.scaling"\nrationale = "x"\n', "must link its evidence"),
    ('[[known_bug]]\nclaim = "lora.scaling"\nrationale = "x"\nlink = "u"\ncolour = 1\n', "unknown field(s) ['colour']"),
    ('[[deviations]]\n', "unknown table(s) ['deviations']"),
    ('[[deviation]\n', "not valid TOML"),
])
def test_a_malformed_declarations_file_is_one_clear_error(tmp_path, entry, message):
    path = tmp_path / "declarations.toml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(DeclarationFileError, match=None) as info:
        load_declarations(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_declarations_that_match_no_cell_are_reported(tmp_path):
    path = tmp_path / "declarations.toml"
    path.write_text('[[known_bug]]\nclaim = "lora.scalling"\nvariant = "lora"\nrationale = "typo"\nlink = "u"\n'
                    '[[known_bug]]\nclaim = "lora.scaling"\nvariant = "lorra"\nrationale = "typo"\nlink = "u"\n',
                    encoding="utf-8")
    binding = ReferenceBinding()
    binding.declarations = load_declarations(path)
    found = problems(binding)
    assert len(found) == 2 and "matches no cell" in found[0] and "no variant 'lorra'" in found[1]


def test_a_bad_declarations_file_breaks_only_its_binding(tmp_path):
    from fidelity.impls import _with_declarations_file

    path = tmp_path / "declarations.toml"
    path.write_text("[[deviation]]\n", encoding="utf-8")
    binding = ReferenceBinding(name="lab-fork")
    binding.declarations_file = path
    broken = _with_declarations_file(binding)
    result = Runner({"lab-fork": broken}, profile=WITNESS).run("lab-fork", "lora", "lora.forward")
    assert result.verdict is Verdict.ERROR and "bad declarations file" in result.run.error


def test_describe_prints_what_a_binding_must_provide(capsys):
    from fidelity import describe

    assert describe.main(["ia3", "--impl", "reference"]) == 0
    out = capsys.readouterr().out
    assert "gain         l ∈ R^d_out, one gain per output feature; (40,) on the witness" in out
    assert "ia3.trainable" in out and "Inventory(dtypes=('float64', 'float32', 'bfloat16'))" in out
    assert "fidelity reference: dtypes float64, float32, bfloat16" in out
    assert describe.main(["nope"]) == 2 and capsys.readouterr().err.startswith("error: unknown variant 'nope'")
