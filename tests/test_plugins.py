"""Third-party implementations plug in: the worked example `examples/tinylora` is installed as its own package (into
a temporary directory, as a user's environment would hold it) and verified through its entry point, with its own
declarations file; its planted bug (`alpha // r`) must come out as DEVIATES, its declared Kaiming A as DEVIATES-OK.
A binding that fails to import, or whose declarations file is wrong or matches no cell, is reported, not ignored.
The second example, `examples/hooklib`, attaches its adapters by forward hooks under its own configs and storage
layouts (its A is the paper's Aᵀ, its HRA vectors rows, its DeLoRA λ a 0-d tensor); installed the same way, its
binding's roles are views of that storage, and every claim of the six methods it implements must come out MATCHES
(or N/A for an option it does not have)."""

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
from fidelity.impls.base import AdaptedLayer, Binding
from fidelity.impls.declarations_file import DeclarationFileError, load_declarations, problems
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import PROFILES, WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Verdict

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def install(tmp_path_factory, example: str) -> Path:
    """`pip install` one example (no dependencies, no build isolation: offline) into a fresh target directory."""
    source, target = tmp_path_factory.mktemp("src") / example, tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLES / example, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)  # builds in the copy
    return target


def prepend(site: Path, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    return install(tmp_path_factory, "tinylora")


@pytest.fixture(scope="module")
def hooklib_installed(tmp_path_factory) -> Path:
    return install(tmp_path_factory, "hooklib")


@pytest.fixture
def on_path(installed, monkeypatch) -> Path:
    return prepend(installed, monkeypatch)


@pytest.fixture
def hooklib_on_path(hooklib_installed, monkeypatch) -> Path:
    return prepend(hooklib_installed, monkeypatch)


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


def test_hooklib_registers_through_its_entry_point_and_declares_nothing(hooklib_on_path):
    binding = all_bindings()["hooklib"]
    assert not binding.broken() and binding.version == "0.1.0"
    assert binding.declarations == () and problems(binding) == []  # it follows the papers where the suite looks


# hooklib's DoRA draws A Kaiming-uniform only (the paper's §3.1), so the claims run with PEFT's Gaussian-A option are
# N/A, refused by its provides(); every other claim of the six variants, its VeRA's peft-prng convention claims
# included (it draws the shared pair as PEFT does), is MATCHES.
HOOKLIB_NA = {"dora.decomposition-gaussian-a": "init_a='gaussian'", "dora.identity-gaussian-a": "init_a='gaussian'"}
# hooklib adds its update by hooks and never merges it into the weight: its deployment claims are N/A
HOOKLIB_NO_MERGE = {"lora.merge", "lora.unmerge", "dora.merge"}


@pytest.mark.parametrize("variant", ["lora", "dora", "ia3", "hra", "delora", "vera"])
def test_hooklib_matches_every_claim_it_provides(hooklib_on_path, variant):
    runner = Runner({"hooklib": get_binding("hooklib")}, profile=PROFILES["ci"])
    results = {claim: runner.run(impl, v, claim) for impl, v, claim in runner.cells(variant)}
    expected = {claim: Verdict.NA if claim in HOOKLIB_NA or claim in HOOKLIB_NO_MERGE else Verdict.MATCHES
                for claim in results}
    assert {claim: r.verdict for claim, r in results.items()} == expected, "\n".join(
        r.summary() for claim, r in results.items() if r.verdict is not expected[claim])
    for claim, option in HOOKLIB_NA.items():
        if claim in results:
            assert f"hooklib's dora has no option {option}" in results[claim].run.error


def test_hooklib_detach_restores_the_model(hooklib_on_path):
    import torch
    from torch import nn

    import hooklib

    torch.manual_seed(0)
    model = nn.ModuleList(nn.ModuleDict({"k_proj": nn.Linear(12, 10), "q_proj": nn.Linear(12, 10)}) for _ in range(2))
    x, state = torch.randn(3, 12), {k: v.clone() for k, v in model.state_dict().items()}

    def outputs():
        return torch.cat([m(x) for m in model.modules() if isinstance(m, nn.Linear)])

    before = outputs()
    for cfg in (hooklib.LoRAConfig(rank=4), hooklib.DoRAConfig(rank=4), hooklib.IA3Config(), hooklib.HRAConfig(rank=4),
                hooklib.DeLoRAConfig(rank=4), hooklib.VeRAConfig(rank=16)):
        assert len(hooklib.attach(model, cfg)) == 2  # the q_proj (IA3: k_proj) of both blocks
        with torch.no_grad():  # move the adapters off their identity init: the model changes
            for p in (p for a in hooklib.adapters(model) for p in a.parameters()):
                p.add_(0.1 * torch.randn_like(p))
        assert not torch.allclose(outputs(), before, atol=1e-3), type(cfg).__name__
        hooklib.detach(model)  # hooks and adapters gone, the base as it was (DeLoRA's rewritten W restored)
        assert hooklib.adapters(model) == [] and not any(m._forward_hooks or m._forward_pre_hooks
                                                         for m in model.modules())
        assert torch.allclose(outputs(), before, atol=1e-6), type(cfg).__name__
    assert all(torch.allclose(model.state_dict()[k], v, atol=1e-6) for k, v in state.items())


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


class AttachingReference(ReferenceBinding):
    """The reference modules bound through `attach` (a model's named projections) instead of `build`, as a library
    that targets modules by name would be: the verdicts must be the reference's own."""

    def __init__(self):
        super().__init__(name="attaching")

    build = Binding.build
    build_many = Binding.build_many

    def attach(self, variant, model, targets, config, calibration=None):
        import dataclasses

        adapted = {}
        for name in targets:
            module = self.classes[variant](model.get_submodule(name), **dataclasses.asdict(config))
            setattr(model, name, module)
            views = getattr(type(module), "ROLE_VIEWS", {})
            roles = {role: views.get(role, lambda t: t)(getattr(module, attr)) for attr, role in module.ROLES.items()}
            buffers = {role: getattr(module, attr) for attr, role in getattr(module, "BUFFERS", {}).items()}
            adapted[name] = AdaptedLayer(module, None, roles, buffers=buffers, weight=module.base.weight,
                                         merge=getattr(module, "merged", None), unmerge=getattr(module, "unmerged", None))
        return adapted


@pytest.mark.parametrize("variant", ["lora", "vera", "ia3"])
def test_a_binding_that_attaches_to_a_model_gets_the_verdicts_of_build(variant):
    reference, attaching = ReferenceBinding(), AttachingReference()
    runner = Runner({"reference": reference, "attaching": attaching}, profile=WITNESS)
    from fidelity.variants import get_variant

    for claim in get_variant(variant).claims:
        want, got = runner.run("reference", variant, claim), runner.run("attaching", variant, claim)
        assert got.verdict is want.verdict, f"{claim}: {got.summary()}"


def test_scaffold_writes_a_binding_skeleton_and_a_declarations_file_and_never_overwrites(tmp_path, capsys):
    from fidelity import describe

    assert describe.main(["vera", "--scaffold", str(tmp_path), "--library", "my_lib"]) == 0
    binding = (tmp_path / "fidelity_binding.py").read_text()
    compile(binding, "fidelity_binding.py", "exec")
    assert "class MyLibBinding(Binding):" in binding and '"lambda_b": ...,' in binding and '"down": ...,' in binding
    assert load_declarations(tmp_path / "fidelity-declarations.toml") == ()
    assert describe.main(["vera", "--scaffold", str(tmp_path)]) == 2
    assert "scaffold writes only new files" in capsys.readouterr().err
