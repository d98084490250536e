"""PDF extraction with PyMuPDF: printed lines in reading order, with the page furniture set aside.

Line numbers are page-relative and count printed lines as a reader does: fragments of one printed line that
PyMuPDF splits at inline math are re-joined; running headers, page numbers, the arXiv margin stamp, other
rotated text and labels inside figures are not body lines (they are kept in `PaperText.margin`). PyMuPDF's
default text order is used (`sort=True` scrambles two-column LaTeX), and annotations are deleted before
extracting (a FreeText note's text would otherwise read as page text).
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from fidelity.papers.text import (
    _NUMBERED,
    _UNNUMBERED,
    _WORD3,
    STAMP,
    Heading,
    Line,
    Margin,
    PaperSourceError,
    PaperText,
    _cache_load,
    _cache_store,
    _read,
)

if TYPE_CHECKING:
    import pymupdf

_PAGE_NUMBER = re.compile(r"^(?:page\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})$", re.IGNORECASE)
_TEX_MATH_FONT = re.compile(r"^(CM|MSBM|MSAM|EUFM|EUSM|EUEX|rsfs|stmary|wasy|LMMath|LMRoman)", re.IGNORECASE)
_SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
_DIGITS_SPACE = re.compile(r"[\d\s]+")
_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
_BOLD_FONT = re.compile(r"bold|medi|semibold|demi|heavy|black|cmbx", re.IGNORECASE)


@dataclass
class _Frag:
    """One PyMuPDF line: a piece of a printed line."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    block: tuple[float, float]  # x-range of its block
    fonts: frozenset = frozenset()
    letters: int = 0


@dataclass
class _Row:
    """A printed line: fragments on one baseline."""

    frags: list[_Frag]

    @property
    def y0(self) -> float:
        return min(f.y0 for f in self.frags)

    @property
    def y1(self) -> float:
        return max(f.y1 for f in self.frags)

    @cached_property
    def text(self) -> str:
        """Fragments left to right; a space only where there is a visible gap (not inside small caps)."""
        out, prev = "", None
        for f in sorted(self.frags, key=lambda f: f.x0):
            gap = prev is not None and f.x0 - prev.x1 > 0.15 * min(f.size, prev.size)
            out += (" " if gap else "") + f.text.strip()
            prev = f
        return out


def _mupdf():
    """PyMuPDF, imported on first use: it takes most of a second, and cached text does not need it."""
    import pymupdf

    return pymupdf


@contextmanager
def _quiet_mupdf():
    pymupdf = _mupdf()
    errors = pymupdf.TOOLS.mupdf_display_errors()
    warnings = pymupdf.TOOLS.mupdf_display_warnings()
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    try:
        yield
    finally:
        pymupdf.TOOLS.mupdf_display_errors(errors)
        pymupdf.TOOLS.mupdf_display_warnings(warnings)
        pymupdf.TOOLS.mupdf_warnings(reset=True)


def extract_pdf(path: Path | str) -> PaperText:
    """Extract a PDF into numbered lines with sections (cached by the file's sha256)."""
    path, data, sha = _read(path)
    cached = _cache_load(sha, "pdf", str(path))
    if cached is not None:
        return cached
    with _quiet_mupdf():
        text = _extract_pdf_bytes(data, path.name)
    text.sha256, text.path = sha, str(path)
    _cache_store(text)
    return text


def _open_pdf(data: bytes, name: str) -> pymupdf.Document:
    pymupdf = _mupdf()
    if b"%PDF-" not in data[:1024]:
        raise PaperSourceError(f"{name} is not a PDF (no %PDF- header); give the paper's PDF file")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # MuPDF raises several types for damaged files
        raise PaperSourceError(
            f"{name} is not a readable PDF (corrupt or truncated: {exc}); download it again"
        ) from None
    if not doc.is_pdf:
        raise PaperSourceError(f"{name} is not a PDF; give the paper's PDF file")
    if doc.needs_pass or doc.is_encrypted:
        raise PaperSourceError(f"{name} is an encrypted PDF; use an unencrypted copy (the arXiv original is not)")
    if doc.page_count == 0 or doc.is_repaired:
        raise PaperSourceError(
            f"{name} is a corrupt or truncated PDF (MuPDF had to repair it); download it again"
        )
    return doc


def _extract_pdf_bytes(data: bytes, name: str) -> PaperText:
    doc = _open_pdf(data, name)
    margin: list[Margin] = []
    size_chars: Counter = Counter()
    font_chars: Counter = Counter()
    pages: list[tuple[pymupdf.Rect, list[_Frag]]] = []
    try:
        for page in doc:
            _strip_annotations(page)
            frags, rotated = _fragments(page, size_chars, font_chars)
            margin += [Margin(page.number + 1, "stamp" if STAMP.search(t) else "rotated", t) for t in rotated]
            pages.append((page.rect, frags))
    except Exception as exc:
        raise PaperSourceError(f"{name} cannot be read past its first pages ({exc}); download it again") from None
    finally:
        doc.close()
    body_size = size_chars.most_common(1)[0][0] if size_chars else 10.0
    families = _text_fonts(pages, font_chars)
    rows_per_page = []
    for i, (rect, frags) in enumerate(pages):
        figure = [_is_figure_text(f, families, body_size) for f in frags]
        margin += [Margin(i + 1, "figure", f.text.strip()) for f, fig in zip(frags, figure) if fig]
        rows_per_page.append(_join_rows([f for f, fig in zip(frags, figure) if not fig], rect.width))
    body = _drop_margins(rows_per_page, [rect.height for rect, _ in pages], margin)
    letters = sum(f.letters for rows in body for row in rows for f in row.frags)
    if letters < 20 * len(body):
        raise PaperSourceError(f"{name} has no text layer (a scanned PDF?); use the arXiv PDF, which has one")
    numbered, headings = _number_and_section(body, body_size)
    stamps = [m.text for m in margin if m.kind == "stamp"]
    return PaperText(
        source="pdf",
        pages=numbered,
        front_matter=_front_matter(numbered),
        arxiv_stamp=" ".join(stamps[0].split()) if stamps else "",
        headings=headings,
        margin=margin,
    )


def _text_fonts(pages: list[tuple[pymupdf.Rect, list[_Frag]]], font_chars: Counter) -> frozenset:
    """Font families of running text: those of long lines, TeX's math fonts and the commonest font."""
    fonts = {f for f, _ in font_chars.most_common(1)}
    for rect, frags in pages:
        for f in frags:
            if len(f.text.strip()) >= 25 and f.x1 - f.x0 >= 0.3 * rect.width:
                fonts |= f.fonts
    fonts |= {f for f in font_chars if _TEX_MATH_FONT.match(f)}
    return frozenset(_family(f) for f in fonts)


def _is_figure_text(f: _Frag, text_families: frozenset, body_size: float) -> bool:
    """A label inside a figure (PowerPoint, matplotlib): smaller than body text and set only in fonts that no
    running text uses. A reader does not count such lines; headings and captions are never caught."""
    return f.size < body_size - 0.5 and not any(_family(font) in text_families for font in f.fonts)


@lru_cache(maxsize=None)
def _family(font: str) -> str:
    return re.split(r"[-,]", font, maxsplit=1)[0] if not _TEX_MATH_FONT.match(font) else font


@lru_cache(maxsize=None)
def _font(name: str) -> str:
    return name.split("+", 1)[1] if _SUBSET_PREFIX.match(name) else name


def _strip_annotations(page: pymupdf.Page) -> None:
    annot = page.first_annot
    while annot:
        annot = page.delete_annot(annot)
    widget = page.first_widget
    while widget:
        widget = page.delete_widget(widget)


def _fragments(page: pymupdf.Page, size_chars: Counter, font_chars: Counter) -> tuple[list[_Frag], list[str]]:
    """Horizontal lines as fragments, in PyMuPDF's default order; rotated lines' texts separately."""
    frags: list[_Frag] = []
    rotated: list[str] = []
    pymupdf = _mupdf()
    flags = pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    for block in page.get_text("dict", flags=flags, sort=False)["blocks"]:  # sort=True scrambles two columns
        for ln in block.get("lines", ()):
            spans = [s for s in ln["spans"] if s["text"]]
            text = "".join(s["text"] for s in spans)
            if not text.strip():
                continue
            dx, dy = ln["dir"]
            if abs(dy) > 0.05 or dx < 0:
                rotated.append(text.strip())
                continue
            letters = bold_letters = 0
            fonts = set()
            for s in spans:
                n = len(_LETTER.findall(s["text"]))
                if not n:
                    continue
                font = _font(s["font"])
                size_chars[round(s["size"] * 2) / 2] += n
                font_chars[font] += n
                letters += n
                fonts.add(font)
                if s["flags"] & 16 or _BOLD_FONT.search(font):
                    bold_letters += n
            x0, y0, x1, y1 = ln["bbox"]
            frags.append(
                _Frag(
                    text=text,
                    x0=x0, y0=y0, x1=x1, y1=y1,
                    size=max(s["size"] for s in spans),
                    bold=letters > 0 and bold_letters >= 0.8 * letters,
                    fonts=frozenset(fonts) or frozenset(_font(s["font"]) for s in spans),
                    letters=letters,
                    block=(block["bbox"][0], block["bbox"][2]),
                )
            )
    return frags, rotated


def _two_columns(frags: list[_Frag], width: float) -> bool:
    mid = width / 2
    wide = [f for f in frags if f.x1 - f.x0 > 0.25 * width]
    left = sum(f.x1 < mid - 2 for f in wide)
    right = sum(f.x0 > mid + 2 for f in wide)
    return left >= 3 and right >= 3


def _join_rows(frags: list[_Frag], width: float) -> list[_Row]:
    """Re-join fragments of one printed line: consecutive in text order, on one baseline, in one column."""
    gutter = width / 2 if _two_columns(frags, width) else None
    rows: list[_Row] = []
    for f in frags:
        row = rows[-1] if rows else None
        if row is not None and _same_baseline(row, f) and _same_column(row, f, gutter):
            row.frags.append(f)
        else:
            rows.append(_Row([f]))
    return rows


def _same_baseline(row: _Row, f: _Frag) -> bool:
    for g in row.frags:
        overlap = min(g.y1, f.y1) - max(g.y0, f.y0)
        if overlap >= 0.5 * min(g.y1 - g.y0, f.y1 - f.y0):
            return True
    return False


def _same_column(row: _Row, f: _Frag, gutter: float | None) -> bool:
    if gutter is None:
        return True
    spans_gutter = [g for g in (*row.frags, f) if g.block[0] < gutter - 2 and g.block[1] > gutter + 2]
    if spans_gutter:
        return True  # a full-width block (title, wide table or figure) in a two-column page
    x0 = min(g.x0 for g in row.frags)
    x1 = max(g.x1 for g in row.frags)
    return not (x1 <= gutter + 2 <= f.x0 + 4 or f.x1 <= gutter + 2 <= x0 + 4)


def _drop_margins(rows_per_page: list[list[_Row]], heights: list[float], margin: list[Margin]) -> list[list[_Row]]:
    """Remove page numbers (a number as the top or bottom row of a page) and running headers and footers (a
    top or bottom row repeated, digits aside, on at least 30% of the pages); record them in `margin`."""
    body = []
    for i, (rows, height) in enumerate(zip(rows_per_page, heights)):
        numbers = [row for _, row in _edge_rows(rows, height) if _PAGE_NUMBER.match(row.text.strip())]
        margin.extend(Margin(i + 1, "page-number", row.text.strip()) for row in numbers)
        body.append([r for r in rows if not any(r is n for n in numbers)])
    edges = [_edge_rows(rows, height) for rows, height in zip(body, heights)]
    repeats = Counter(key for page in edges for key in {_running_key(row) for _, row in page} if key)
    needed = max(2, -(-3 * len(body) // 10))
    for i, page in enumerate(edges):
        running = [(kind, row) for kind, row in page if repeats[_running_key(row)] >= needed]
        margin.extend(Margin(i + 1, kind, row.text) for kind, row in running)
        body[i] = [r for r in body[i] if not any(r is row for _, row in running)]
    return body


def _edge_rows(rows: list[_Row], height: float) -> list[tuple[str, _Row]]:
    """The top row if it is in the top 15% of the page ("header"), the bottom row if in the bottom 15%."""
    if not rows:
        return []
    top = min(rows, key=lambda r: r.y0)
    bottom = max(rows, key=lambda r: r.y1)
    out = [("header", top)] if top.y1 < 0.15 * height else []
    if bottom.y0 > 0.85 * height and bottom is not top:
        out.append(("footer", bottom))
    return out


def _running_key(row: _Row) -> str:
    return _DIGITS_SPACE.sub("", row.text).casefold()


def _heading_of(row: _Row, body_size: float) -> tuple[str, str] | None:
    """(label, title) if this printed line is a section heading ("4.1 TITLE", "Abstract") set in a heading
    style: capitals (small caps included), a larger size, or bold."""
    text = " ".join(row.text.split())
    if not text or len(text) > 100:
        return None
    unnumbered = text.rstrip(".:").casefold() in _UNNUMBERED
    m = None if unnumbered else _NUMBERED.match(text)
    if not (unnumbered or m):
        return None
    words = [w for w in _WORD.findall(text) if len(w) > 1]  # one-letter words may be math (r, W)
    caps = sum(map(len, words)) >= 3 and all(w.isupper() for w in words)
    larger = max(f.size for f in row.frags) >= body_size + 1
    bold = all(f.bold or not f.letters for f in row.frags)
    if not (caps or larger or bold):
        return None
    if unnumbered:
        title = text.rstrip(".:")
        return "", title.title() if caps else title
    title = m.group("title").strip()
    if title.endswith((",", ";", ".")) or len(title.split()) > 14 or "=" in title:
        return None
    if not _WORD3.search(title):  # a figure legend such as "U S A U S A"
        return None
    return m.group("label"), title


def _number_and_section(body: list[list[_Row]], body_size: float) -> tuple[list[list[Line]], list[Heading]]:
    pages: list[list[Line]] = []
    headings: list[Heading] = []
    section = ""
    for p, rows in enumerate(body, start=1):
        lines = []
        for n, row in enumerate(rows, start=1):
            found = _heading_of(row, body_size)
            if found:
                heading = Heading(p, n, *found)
                headings.append(heading)
                section = heading.key
            lines.append(Line(p, n, row.text, section))
        pages.append(lines)
    return pages, headings


def _front_matter(pages: list[list[Line]]) -> str:
    """The first page's lines before the first heading (title, authors, affiliations)."""
    first = pages[0] if pages else []
    head = [ln.text for ln in first if not ln.section]
    return "\n".join(head if head and len(head) < len(first) else [ln.text for ln in first[:20]])
