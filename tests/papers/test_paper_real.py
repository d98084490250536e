"""The real papers in ../shared/papers (or $FIDELITY_PAPERS_DIR); skipped when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fidelity.papers.extract import extract_markdown, extract_pdf
from fidelity.papers.locate import Located, NearMiss, locate
from fidelity.papers.records import load_all, load_paper
from fidelity.papers.sources import Unavailable, paper_text

REPO = Path(__file__).resolve().parents[2]
PAPERS = Path(os.environ.get("FIDELITY_PAPERS_DIR") or REPO.parent / "shared" / "papers")
LORA_PDF = PAPERS / "2106.09685.pdf"
DORA_PDF = PAPERS / "2402.09353.pdf"
LORA_MD = PAPERS / "md" / "2106.09685.md"
ZERO_INIT = (
    "We use a random Gaussian initialization for A and zero for B, so ∆W = BA is zero at the beginning of training."
)


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is absent (set FIDELITY_PAPERS_DIR to a directory holding the paper files)")
    return path


def test_lora_zero_init_is_on_page_4_lines_28_29():
    text = extract_pdf(_need(LORA_PDF))
    result = locate(text, ZERO_INIT)
    assert isinstance(result, Located)
    assert (result.page, result.lines, result.section) == (4, (28, 29), "4.1")
    assert result.cite() == "Section 4.1, p4:L28-L29"


def test_lora_extraction_landmarks():
    text = extract_pdf(_need(LORA_PDF))
    assert len(text.pages) == 26
    assert text.arxiv_stamp == "arXiv:2106.09685v2 [cs.CL] 16 Oct 2021"
    assert text.stamp_id == ("2106.09685", 2)
    assert text.line(4, 16).text == "4.1 LOW-RANK-PARAMETRIZED UPDATE MATRICES"
    assert text.line(4, 12).text == "4 OUR METHOD"  # number and title are two PyMuPDF lines
    assert text.line(4, 29).text.endswith("We then scale ∆Wx by αr , where α")  # α/r re-joined
    assert text.line(4, 1).text.startswith("Batch Size")  # the page number of p3 is not line 1 of p4
    assert all(not ln.text.isdigit() for page in text.pages for ln in page[-1:])  # page numbers dropped
    assert {(h.label, h.title) for h in text.headings} >= {("", "Abstract"), ("4", "OUR METHOD"), ("", "References")}
    assert "LORA: LOW-RANK ADAPTATION OF LARGE LAN-" in text.front_matter


def test_dora_extraction_landmarks():
    text = extract_pdf(_need(DORA_PDF))
    assert len(text.pages) == 19
    assert text.stamp_id == ("2402.09353", 3)
    assert text.front_matter.startswith("DoRA: Weight-Decomposed Low-Rank Adaptation")
    assert text.line(3, 93).text == "4.1. Weight-Decomposed Low-Rank Adaptation"
    assert text.line(4, 1).text.startswith("Figure 2.")  # figure labels above it are not counted
    found = locate(text, "We initialize DoRA with pre-trained weight W0 as outlined in Eq. (2)")
    assert isinstance(found, Located) and found.cite() == "Section 4.1, p4:L10-L11"


def test_lora_markdown_is_second_class_but_locatable():
    text = extract_markdown(_need(LORA_MD))
    result = locate(text, ZERO_INIT)
    assert isinstance(result, Located) and result.cite() == "Section 4.1, md:129"
    # the conversion lost the ≪ glyph: the PDF's quote is a near miss in the markdown, never a false match
    low_rank = locate(text, "W0 + ∆W = W0 + BA, where B ∈ Rd×r, A ∈ Rr×k, and the rank r ≪ min(d, k)")
    assert isinstance(low_rank, NearMiss) and low_rank.similarity > 0.95


def _claims_with_quotes():
    return [(paper.arxiv_id, c.id) for paper in load_all().values() for c in paper.claims if c.quote]


@pytest.mark.parametrize(("arxiv_id", "claim_id"), _claims_with_quotes())
def test_every_claim_quote_is_verified_when_its_text_is_present(arxiv_id, claim_id):
    paper = load_paper(arxiv_id)
    if not PAPERS.is_dir():
        pytest.skip(f"{PAPERS} is absent")
    text = paper_text(paper, PAPERS)  # the pinned PDF when present, else the markdown conversion
    if isinstance(text, Unavailable):
        pytest.skip(text.reason)
    result = locate(text, paper.claim(claim_id).quote)
    assert isinstance(result, Located), f"{claim_id}: {result.describe()}"
