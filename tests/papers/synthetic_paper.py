"""A synthetic paper built with PyMuPDF for the paper-text tests, and a paper record for it.

The synthetic paper has what real arXiv PDFs have: two columns, a running header and page numbers, a rotated
arXiv stamp in the left margin, ligatures, a hyphenated line end, inline math that PyMuPDF splits into two
lines, small-caps and bold headings, a figure label, and a FreeText annotation plus a sticky note. The
builder returns the body lines a reader counts on each page, so tests compare extraction with them.
"""

from __future__ import annotations

from pathlib import Path

import pymupdf

REPO = Path(__file__).resolve().parents[2]
ARXIV_ID = "2401.00001"
TITLE = "Locating Quotes in Synthetic Papers"
STAMP = "arXiv:2401.00001v2  [cs.LG]  1 Jan 2024"
NOTE = "SECRET NOTE TEXT THAT MUST NOT BE EXTRACTED"
QUOTE_COLUMN_BREAK = "the column break quote starts here and continues at the top of the right column"
QUOTE_PAGE_BREAK = "the page break quote begins on the first page and ends on the second page"
QUOTE_MATH = "We scale ∆Wx by α r, where α is a constant"
QUOTE_REPEATED = "We repeat one sentence twice to test ambiguity."

_REGULAR = pymupdf.Font("tiro")
_BOLD = pymupdf.Font("tibo")
_MONO = pymupdf.Font("cour")
LEFT, RIGHT, TOP1, TOP2, LEADING = 54.0, 318.0, 190.0, 70.0, 12.0


class _Pen:
    """Writes text pieces onto a page, each as its own text object, the way TeX emits them."""

    def __init__(self, page: pymupdf.Page):
        self.page = page

    def put(self, x: float, y: float, text: str, size: float = 10, font: pymupdf.Font = _REGULAR) -> float:
        writer = pymupdf.TextWriter(self.page.rect)
        _, end = writer.append((x, y), text, font=font, fontsize=size)
        writer.write_text(self.page)
        return end.x


def _column(pen: _Pen, x: float, y: float, lines: list[str], out: list[str]) -> float:
    for text in lines:
        pen.put(x, y, text)
        out.append(text)
        y += LEADING
    return y


def build_paper(path: Path, *, title: str = TITLE, annotate: bool = True, stamp: str = STAMP) -> dict[int, list[str]]:
    """Write the synthetic two-page paper to `path`; return the expected body lines per page."""
    doc = pymupdf.open()
    expected: dict[int, list[str]] = {1: [], 2: []}
    page = doc.new_page(width=612, height=792)
    pen = _Pen(page)
    out = expected[1]
    pen.put(230, 36, "Synthetic Test Paper (preprint)", size=8)  # running header
    pen.put(120, 80, title, size=16)
    out.append(title)
    pen.put(230, 100, "Ada Lovelace and Alan Turing")
    out.append("Ada Lovelace and Alan Turing")
    pen.put(280, 126, "Abstract", size=12, font=_BOLD)
    out.append("Abstract")
    _column(pen, LEFT, 142, [
        "We study how to find verbatim quotes in papers set in two columns, with ligatures and hyphens.",
        "Every line of this abstract is counted the way a reader counts the lines of a printed page.",
    ], out)
    pen.put(LEFT, TOP1, "1", size=12, font=_BOLD)
    pen.put(LEFT + 16, TOP1, "Introduction", size=12, font=_BOLD)
    out.append("1 Introduction")
    _column(pen, LEFT, TOP1 + 16, [
        "Adapters are small modules that are trained while the",
        "base model stays frozen; the modiﬁed forward pass adds",
        "their output to the output of the frozen layer. The update",
        "has a low-rank de-",
        "composition into two factors, which keeps the number",
        "of trainable parameters small and the ﬂow of gradients",
        "simple. As a ﬁrst example, the column break quote starts",
        "here and",
    ], out)
    y = TOP1
    y = _column(pen, RIGHT, y, ["continues at the top of the right column without a break."], out)
    pen.put(RIGHT, y + 6, "2 Method", size=12, font=_BOLD)
    out.append("2 Method")
    y += 22
    pen.put(RIGHT, y, "2.1 Low-Rank Updates", font=_BOLD)
    out.append("2.1 Low-Rank Updates")
    y += LEADING
    # inline math: "by" then a fraction α/r, raised and lowered; PyMuPDF splits the printed line in two
    end = pen.put(RIGHT, y, "We scale ∆Wx by")
    pen.put(end + 2, y - 3, "α", size=7)
    after = pen.put(end + 2, y + 3, "r", size=7)
    pen.put(after + 1, y, ", where α is a constant in r.")
    out.append("We scale ∆Wx by αr, where α is a constant in r.")
    y += LEADING
    y = _column(pen, RIGHT, y, [
        "The weight W0 ∈Rd×k stays frozen while A and B train.",
        "Nothing else in this column is of any importance at all.",
    ], out)
    end = pen.put(RIGHT, y + 6, "3 E", size=12)  # small caps: capitals in two sizes
    pen.put(end, y + 6, "XPERIMENTS", size=9.6)
    out.append("3 EXPERIMENTS")
    y += 22
    pen.put(RIGHT, y + 2, "axis label 0.5", size=6, font=_MONO)  # a figure label: not a body line
    y += LEADING
    _column(pen, RIGHT, y, [
        QUOTE_REPEATED,
        "Finally, the page break quote begins on the first page and",
    ], out)
    pen.put(303, 760, "1")  # page number
    page.insert_text((30, 600), stamp, fontsize=20, rotate=90)
    if annotate:
        page.add_freetext_annot(pymupdf.Rect(RIGHT, 560, 560, 600), NOTE, fontsize=10)
        page.add_text_annot((RIGHT, 620), "sticky note content that must not be extracted either")

    page = doc.new_page(width=612, height=792)
    pen = _Pen(page)
    out = expected[2]
    pen.put(230, 36, "Synthetic Test Paper (preprint)", size=8)
    y = _column(pen, LEFT, TOP2, [
        "ends on the second page, after the running header.",
        QUOTE_REPEATED,
        "A last paragraph gives this column a few more lines,",
        "so that the page has enough text to count as a page",
        "of a paper and not as a scanned image without text.",
    ], out)
    pen.put(LEFT, y + 6, "References", size=12, font=_BOLD)
    out.append("References")
    _column(pen, LEFT, y + 22, ["[1] A. Author. A paper about adapters. 2021."], out)
    pen.put(303, 760, "2")
    doc.save(path)
    return expected


def paper_toml(sha256: str = "", quotes: tuple[str, ...] = (QUOTE_MATH,), title: str = TITLE) -> str:
    """A paper record for the synthetic paper, with one formula claim per quote and a citation claim."""
    claims = "".join(
        f'\n[[claims]]\nid = "synth.claim-{i}"\ntitle = "Claim {i}"\nsection = "2.1"\nquote = "{q}"\n'
        f'statement = "Claim {i} of the synthetic paper."\nkind = "formula"\n'
        for i, q in enumerate(quotes)
    )
    return (
        f'[paper]\narxiv_id = "{ARXIV_ID}"\nversion = 2\ntitle = "{title}"\nshort_name = "Synth"\n'
        f'authors = ["Ada Lovelace", "Alan Turing"]\nyear = 2024\nsha256 = "{sha256}"\n{claims}'
        f'\n[[claims]]\nid = "synth.citation"\ntitle = "Citation"\nsection = "front matter"\nquote = "{TITLE}"\n'
        f'statement = "Cites the synthetic paper."\nkind = "citation"\n'
    )


def build_scanned(path: Path) -> None:
    """A PDF whose page is only an image: no text layer, as a scan."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 64, 64), False)
    pix.clear_with(200)
    page.insert_image(pymupdf.Rect(100, 100, 500, 500), pixmap=pix)
    doc.save(path)


def build_encrypted(source: Path, path: Path) -> None:
    """`source` saved with AES-256 encryption and a user password."""
    doc = pymupdf.open(source)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="reader", owner_pw="owner")


MARKDOWN = """Title: 2401.00001v2.pdf

URL Source: https://arxiv.org/pdf/2401.00001

Markdown Content:
# LOCATING QUOTES IN SYNTHETIC PAPERS

# Abstract

We study how to find verbatim quotes in papers set in two columns, with ligatures and hyphens.

# 1 INTRODUCTION

Adapters are small modules that are trained while the base model stays frozen; the modified forward pass adds their output. 2.1 LOW -R ANK UPDATES

We scale ∆W x by αr , where α is a constant in r. The weight W0 ∈ Rd×k stays frozen while A and

B train, and the low-rank de-composition keeps the number of trainable parameters small.
"""
MD_MATH_LINE = 16  # the file line holding "We scale ∆W x by αr"


def write_markdown(path: Path) -> None:
    """A jina-style markdown conversion of the synthetic paper."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MARKDOWN, encoding="utf-8")
