"""The committed reviews read well (issue 13): no code block or inference said twice in one review, every declaration
cited where it is written, every figure linked and present, damaged quotes given their reading."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REVIEWS = sorted(p for p in (ROOT / "reviews").glob("*.md") if p.name != "index.md")


@pytest.mark.parametrize("review", REVIEWS, ids=lambda p: p.stem)
def test_no_code_block_and_no_inference_is_said_twice(review):
    text = review.read_text(encoding="utf-8")
    blocks = Counter(re.findall(r"^Code[^\n]*\(([^\n]*)\):\n```python\n(.*?)```", text, re.M | re.S))
    assert not [cite for (cite, _), n in blocks.items() if n > 1]
    inferences = Counter(re.findall(r"^Inference: (.*)$", text, re.M))
    assert not [line for line, n in inferences.items() if n > 1]
    assert "The measured behaviour is what the paper states" not in text and "CITATION-CORRECT" not in text


@pytest.mark.parametrize("review", REVIEWS, ids=lambda p: p.stem)
def test_declarations_are_cited_where_they_are_written(review):
    text = review.read_text(encoding="utf-8")
    assert "Evidence: the declaration." not in text
    for path, line in re.findall(r"declared at ([\w/.]+\.py):(\d+)", text):
        source = (ROOT / path).read_text(encoding="utf-8").splitlines()
        assert "Declaration(" in source[int(line) - 1], f"{path}:{line} is not where a declaration starts"


@pytest.mark.parametrize("review", REVIEWS, ids=lambda p: p.stem)
def test_figures_are_linked_and_present(review):
    for name in re.findall(r"\]\((figures/[^)]+\.svg)\)", review.read_text(encoding="utf-8")):
        svg = (ROOT / "reviews" / name).read_text(encoding="utf-8")
        assert svg.startswith("<?xml") and "<dc:date>" not in svg  # no date: the same bytes on every machine


def test_every_figure_is_linked_from_a_review():
    linked = {name for review in REVIEWS for name in re.findall(r"\]\((figures/[^)]+\.svg)\)",
                                                                   review.read_text(encoding="utf-8"))}
    present = {f"figures/{p.name}" for p in (ROOT / "reviews" / "figures").glob("*.svg")}
    assert present == linked and present


def test_damaged_quotes_carry_their_reading():
    lora = (ROOT / "reviews" / "lora.md").read_text(encoding="utf-8")
    assert "> We then scale ∆Wx by αr" in lora  # the quote as located ...
    assert "Reading: We then scale ∆Wx by α/r" in lora  # ... and how the check reads it
    assert "Reading: “LORA: LOW-RANK ADAPTATION OF LARGE LANGUAGE MODELS”" in lora


def test_every_claim_kind_has_an_inference_writer():
    from fidelity.inference import TEXTS
    from fidelity.kinds import KINDS

    assert set(KINDS) <= set(TEXTS), f"write the inference of {sorted(set(KINDS) - set(TEXTS))} in fidelity/inference.py"
