"""Binding behaviour that the verdicts depend on: a missing PEFT is N/A with the install hint."""

from __future__ import annotations

import importlib.util

from fidelity.impls.peft import INSTALL_HINT, PeftBinding
from fidelity.profiles import WITNESS
from fidelity.runner import Runner
from fidelity.verdicts import Verdict


def test_peft_not_installed_makes_its_cells_na_with_the_install_hint(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    result = Runner({"peft": PeftBinding()}, profile=WITNESS).run("peft", "lora", "lora.forward")
    assert result.verdict is Verdict.NA and result.run.error == INSTALL_HINT
    assert "pip install" in INSTALL_HINT


def test_peft_cells_cite_the_installed_source_lines():
    refs = PeftBinding().sources("lora", "init")
    assert any("kaiming_uniform_" in line for ref in refs for line in ref.lines)
    assert all(ref.path.startswith("huggingface/peft@v0.21.2 src/peft/") for ref in refs)
