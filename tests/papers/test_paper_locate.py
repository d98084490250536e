"""The quote locator: normalisation, exact unique matches across breaks, and the three ways of failing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic_paper import (
    MD_MATH_LINE,
    QUOTE_COLUMN_BREAK,
    QUOTE_MATH,
    QUOTE_PAGE_BREAK,
    QUOTE_REPEATED,
    write_markdown,
)

from fidelity.papers.extract import Line, PaperText, extract_markdown, extract_pdf
from fidelity.papers.locate import (
    Ambiguous,
    Located,
    NearMiss,
    NotFound,
    QuoteError,
    Span,
    locate,
    normalize,
    occurrences,
)


@pytest.fixture(scope="module")
def text(synthetic) -> PaperText:
    return extract_pdf(synthetic.path)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("modiﬁed ﬂow ﬀ ﬃ", "modified flow ff ffi"),
        ("∆W", "ΔW"),
        ("low-rank de-\ncomposition", "lowrank decomposition"),
        ("“instrisic dimension” ‘x’", "\"instrisic dimension\" 'x'"),
        ("a – b — c − d", "a b c d"),
        ("W0 ∈Rd×k", "W0 ∈ Rd×k"),
        ("LOW-RANK ADAPTATION", "Low-Rank Adaptation"),
        ("𝑊∈ℝ𝑑×𝑑", "W∈Rd×d"),
        ("naïve", "naive"),
        ("a\x1cb\u200bc", "abc"),
    ],
)
def test_normalize_makes_equal(a, b):
    assert normalize(a) == normalize(b)


def test_normalize_keeps_what_matters():
    assert normalize("W0 + BA") != normalize("W0 + AB")
    assert normalize("α/r") != normalize("αr")


def test_quote_on_one_line(text):
    result = locate(text, "base model stays frozen; the modified forward pass adds")
    assert isinstance(result, Located) and result.verified and result.status == "found"
    assert (result.page, result.lines, result.section) == (1, (8, 8), "1")
    assert result.cite() == "Section 1, p1:L8"
    assert result.text == "base model stays frozen; the modiﬁed forward pass adds"  # verbatim, ligature kept


def test_quote_across_rejoined_math_and_whitespace(text):
    result = locate(text, QUOTE_MATH)
    assert isinstance(result, Located)
    assert result.cite() == "Section 2.1, p1:L18"
    assert result.span.where_long == "p. 1, line 18"
    assert isinstance(locate(text, "The weight W0 ∈ Rd×k stays frozen while A and B train."), Located)


def test_quote_across_hyphenated_line_end(text):
    result = locate(text, "The update has a low-rank decomposition into two factors")
    assert isinstance(result, Located)
    assert result.cite() == "Section 1, p1:L9-L11"
    assert result.span.where_long == "p. 1, lines 9-11"


def test_quote_across_column_break(text):
    result = locate(text, QUOTE_COLUMN_BREAK)
    assert isinstance(result, Located)
    assert (result.span.first.number, result.span.last.number) == (13, 15)
    assert result.cite() == "Section 1, p1:L13-L15"


def test_quote_across_page_break(text):
    result = locate(text, QUOTE_PAGE_BREAK)
    assert isinstance(result, Located)
    assert result.span.where == "p1:L23-p2:L1"
    assert result.span.where_long == "p. 1, line 23 to p. 2, line 1"
    assert result.cite() == "Section 3, p1:L23-p2:L1"


def test_front_matter_quote(text):
    result = locate(text, "LOCATING QUOTES IN SYNTHETIC PAPERS")
    assert isinstance(result, Located) and result.cite() == "front matter, p1:L1"


def test_ambiguous_lists_every_place(text):
    result = locate(text, QUOTE_REPEATED)
    assert isinstance(result, Ambiguous) and not result.verified
    assert [p.where for p in result.places] == ["p1:L22", "p2:L2"]
    assert result.cite() == "ambiguous: Section 3, p1:L22; Section 3, p2:L2"


def test_near_miss_says_where_and_what_the_paper_says(text):
    result = locate(text, "We scale ∆Wx by α/r, where α is a constant in r.")
    assert isinstance(result, NearMiss) and not result.verified
    assert result.similarity > 0.9
    assert result.span.where == "p1:L18"
    assert "αr, where α is a constant in r" in result.span.text
    assert result.cite().startswith("near miss (") and result.cite().endswith("Section 2.1, p1:L18")


def test_not_found(text):
    result = locate(text, "Transformers are all you need for every conceivable task")
    assert isinstance(result, NotFound) and result.status == "not found"
    assert result.similarity < 0.75


@pytest.mark.parametrize("quote", ["", "   ", "too short", "∆W = BA"])
def test_bad_quotes_raise(text, quote):
    with pytest.raises(QuoteError):
        locate(text, quote)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_passage_is_found_exactly_where_it_is(text, data):
    """A verbatim slice of up to three lines, re-spaced the way a reader types it, is always found (never a near
    miss) and always within the lines it was cut from."""
    lines = list(text.lines())
    i = data.draw(st.integers(0, len(lines) - 1), label="first line")
    j = data.draw(st.integers(i, min(i + 2, len(lines) - 1)), label="last line")
    passage = " ".join(ln.text for ln in lines[i : j + 1])
    start = data.draw(st.integers(0, len(passage) - 1), label="start")
    end = data.draw(st.integers(start + 1, len(passage)), label="end")
    spacing = data.draw(st.lists(st.sampled_from(["", " ", "  ", "\n"]), min_size=passage.count(" ") + 1))
    pieces = passage[start:end].split(" ")
    quote = "".join(p + s for p, s in zip(pieces, spacing))
    if sum(c.isalnum() for c in normalize(quote)) < 20:
        with pytest.raises(QuoteError):
            locate(text, quote)
        return
    result = locate(text, quote)
    spans = [result.span] if isinstance(result, Located) else list(getattr(result, "places", []))
    assert isinstance(result, Located | Ambiguous), result
    within = [s for s in spans if lines.index(s.first) >= i and lines.index(s.last) <= j]
    assert within, (quote, [s.where for s in spans])


def test_occurrences_of_short_terms(text):
    assert [s.where for s in occurrences(text, "frozen")] == ["p1:L8", "p1:L9", "p1:L19"]
    assert occurrences(text, "svd_flip") == []


def test_markdown_citation(tmp_path):
    path = tmp_path / "md" / "2401.00001.md"
    write_markdown(path)
    md = extract_markdown(path)
    result = locate(md, QUOTE_MATH)
    assert isinstance(result, Located)
    assert result.span.where == f"md:{MD_MATH_LINE}"
    assert result.cite() == f"Section 2.1, md:{MD_MATH_LINE}"
    across = locate(md, "stays frozen while A and B train, and the low-rank decomposition")
    assert isinstance(across, Located) and across.span.where == f"md:{MD_MATH_LINE}-{MD_MATH_LINE + 2}"


def test_span_rendering_without_sections():
    a, b = Line(None, 3, "x", ""), Line(None, 3, "x", "")
    assert Span(a, b, "x").cite() == "front matter, md:3"
    c, d = Line(4, 28, "x", "4.1"), Line(4, 29, "y", "4.1")
    assert Span(c, d, "x y").cite() == "Section 4.1, p4:L28-L29"
    assert Span(c, d, "x y").where_long == "p. 4, lines 28-29"
    e = Line(13, 2, "z", "References")
    assert Span(e, e, "z").cite() == "References, p13:L2"
    f = Line(18, 30, "z", "D.1")
    assert Span(f, f, "z").cite() == "Section D.1, p18:L30"
