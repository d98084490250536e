"""Extraction: pages of numbered lines as a reader counts them, sections, margins, annotations, the cache."""

from __future__ import annotations

import json

import pymupdf
import pytest
from synthetic_paper import MD_MATH_LINE, NOTE, STAMP, build_encrypted, build_scanned, write_markdown

from fidelity.papers import extract, pdf
from fidelity.papers.extract import PaperSourceError, PaperText, extract_markdown, extract_pdf


def test_lines_are_what_a_reader_counts(synthetic):
    text = extract_pdf(synthetic.path)
    assert text.source == "pdf"
    assert [[ln.text for ln in page] for page in text.pages] == [synthetic.expected[1], synthetic.expected[2]]
    for p, page in enumerate(text.pages, start=1):
        assert [(ln.page, ln.number) for ln in page] == [(p, n) for n in range(1, len(page) + 1)]


def test_inline_math_fragments_are_rejoined(synthetic):
    raw = [
        "".join(s["text"] for s in ln["spans"])
        for b in pymupdf.open(synthetic.path)[0].get_text("dict")["blocks"]
        for ln in b.get("lines", ())
    ]
    assert "We scale ∆Wx by α" in raw and "r, where α is a constant in r." in raw  # PyMuPDF splits it
    text = extract_pdf(synthetic.path)
    assert text.line(1, 18).text == "We scale ∆Wx by αr, where α is a constant in r."


def test_margins_are_metadata_not_lines(synthetic):
    text = extract_pdf(synthetic.path)
    body = "\n".join(ln.text for ln in text.lines())
    assert text.arxiv_stamp == " ".join(STAMP.split())
    assert text.stamp_id == ("2401.00001", 2)
    kinds = {(m.page, m.kind, m.text) for m in text.margin}
    assert (1, "page-number", "1") in kinds and (2, "page-number", "2") in kinds
    assert (1, "header", "Synthetic Test Paper (preprint)") in kinds
    assert (2, "header", "Synthetic Test Paper (preprint)") in kinds
    assert (1, "figure", "axis label 0.5") in kinds
    for absent in ("arXiv:", "preprint", "axis label"):
        assert absent not in body


def test_annotations_are_not_extracted(synthetic):
    page_text = pymupdf.open(synthetic.path)[0].get_text()
    assert "SECRET NOTE" in page_text  # PyMuPDF itself does extract the FreeText note
    body = " ".join(ln.text for ln in extract_pdf(synthetic.path).lines())
    assert "SECRET" not in body and NOTE.split()[-1] not in body
    assert "sticky" not in body


def test_headings_and_sections(synthetic):
    text = extract_pdf(synthetic.path)
    assert [(h.page, h.number, h.label, h.title) for h in text.headings] == [
        (1, 3, "", "Abstract"),
        (1, 6, "1", "Introduction"),
        (1, 16, "2", "Method"),
        (1, 17, "2.1", "Low-Rank Updates"),
        (1, 21, "3", "EXPERIMENTS"),
        (2, 6, "", "References"),
    ]
    assert text.line(1, 1).section == ""  # front matter
    assert text.line(1, 4).section == "Abstract"
    assert text.line(1, 18).section == "2.1"
    assert text.line(2, 1).section == "3"  # a section runs on across the page break
    assert text.front_matter.splitlines() == ["Locating Quotes in Synthetic Papers", "Ada Lovelace and Alan Turing"]


def test_cache_is_used_and_keyed_by_sha_and_format(synthetic, tmp_path, monkeypatch):
    monkeypatch.setenv("FIDELITY_CACHE_DIR", str(tmp_path))
    first = extract_pdf(synthetic.path)
    cached = tmp_path / "text" / f"{synthetic.sha256}.pdf.v{extract.FORMAT_VERSION}.json"
    assert cached.is_file()
    monkeypatch.setattr(pdf, "_extract_pdf_bytes", lambda *a: pytest.fail("extracted again"))
    second = extract_pdf(synthetic.path)
    assert second.pages == first.pages and second.headings == first.headings and second.margin == first.margin
    assert second.sha256 == synthetic.sha256 and second.path == str(synthetic.path)


def test_damaged_cache_is_ignored(synthetic, tmp_path, monkeypatch):
    monkeypatch.setenv("FIDELITY_CACHE_DIR", str(tmp_path))
    cached = tmp_path / "text" / f"{synthetic.sha256}.pdf.v{extract.FORMAT_VERSION}.json"
    cached.parent.mkdir(parents=True)
    cached.write_text("{not json", encoding="utf-8")
    assert extract_pdf(synthetic.path).line(1, 1).text == "Locating Quotes in Synthetic Papers"
    assert json.loads(cached.read_text(encoding="utf-8"))["sha256"] == synthetic.sha256


def test_json_round_trip(synthetic):
    text = extract_pdf(synthetic.path)
    again = PaperText.from_json(json.loads(json.dumps(text.to_json())), text.path)
    assert again.pages == text.pages and again.front_matter == text.front_matter


@pytest.mark.parametrize("case", ["missing", "not-pdf", "corrupt", "truncated", "encrypted", "scanned"])
def test_unusable_pdfs_raise_one_clear_error(case, synthetic, tmp_path):
    path = tmp_path / "paper.pdf"
    if case == "not-pdf":
        path.write_text("[paper]\narxiv_id = 1\n", encoding="utf-8")
    elif case == "corrupt":
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    elif case == "truncated":
        data = synthetic.path.read_bytes()
        path.write_bytes(data[: len(data) * 3 // 5])
    elif case == "encrypted":
        build_encrypted(synthetic.path, path)
    elif case == "scanned":
        build_scanned(path)
    with pytest.raises(PaperSourceError) as err:
        extract_pdf(path)
    message = str(err.value)
    assert "\n" not in message and "paper.pdf" in message
    expected = {
        "missing": "no such file", "not-pdf": "not a PDF", "corrupt": "corrupt", "truncated": "truncated",
        "encrypted": "encrypted", "scanned": "no text layer",
    }[case]
    assert expected in message


def test_markdown_lines_sections_and_markup(tmp_path):
    path = tmp_path / "md" / "2401.00001.md"
    write_markdown(path)
    text = extract_markdown(path)
    assert text.source == "md" and len(text.pages) == 1
    lines = {ln.number: ln for ln in text.lines()}
    assert min(lines) == 6  # the Title:/URL Source: header is not paper text
    assert lines[6].text == "LOCATING QUOTES IN SYNTHETIC PAPERS" and lines[6].page is None
    assert lines[MD_MATH_LINE].text.startswith("We scale ∆W x by αr")
    assert lines[10].section == "Abstract"
    assert lines[14].section == "1"  # the 2.1 heading runs into the end of this paragraph line...
    assert lines[MD_MATH_LINE].section == "2.1"  # ...and starts the section of the next one
    assert [(h.label, h.title) for h in text.headings] == [
        ("", "Abstract"), ("1", "INTRODUCTION"), ("2.1", "LOW -R ANK UPDATES"),
    ]
    assert text.front_matter == "LOCATING QUOTES IN SYNTHETIC PAPERS"


def test_markdown_line_numbers_are_file_lines_despite_control_characters(tmp_path):
    path = tmp_path / "x.md"
    path.write_text("Markdown Content:\nfirst line with a stray \x1c control char\nsecond line\n", encoding="utf-8")
    assert [(ln.number, ln.text[:5]) for ln in extract_markdown(path).lines()] == [(2, "first"), (3, "secon")]
