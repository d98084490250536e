"""Quote locator: find a claim's quote in extracted paper text and say where it is (page, lines, section).

Text is normalised only at match time, the same way on both sides: Unicode compatibility forms (NFKD, which
also splits ligatures such as ﬁ ﬂ ﬀ ﬃ), accents and case dropped (small caps extract as capitals), ∆ (U+2206)
read as Δ (U+0394), curly quotes as straight ones, every dash and hyphen removed (so "de-" + "composition" at
a line end matches "decomposition", and "−" matches "-"), and all whitespace removed (PyMuPDF renders
"W0 ∈Rd×k" where a reader types "W0 ∈ Rd×k"). Lines are concatenated in reading order, so a quote may run
across lines, a column break or a page break. A quote is verified only by an exact, unique match of at least
`MIN_QUOTE_CHARS` letters or digits; otherwise the result says not found, ambiguous (every place), or near
miss (the most similar passage and its similarity).
"""

from __future__ import annotations

import bisect
import difflib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from fidelity.papers.extract import Line, PaperText
from fidelity.papers.records import MIN_QUOTE_CHARS

NEAR_MISS = 0.75  # similarity from which a non-match is reported as a near miss rather than not found
_SEED = 8  # length of the exact pieces used to find candidate passages for a near miss

_MAP = {
    "\u2206": "\u0394",  # INCREMENT -> GREEK CAPITAL DELTA
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
}
_DROP = set("-\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_ASCII_DROP = str.maketrans("", "", "-\x7f" + "".join(map(chr, range(33))))  # hyphen, controls, whitespace


class QuoteError(ValueError):
    """A quote that cannot be looked up: empty, or too short to count as evidence."""


@lru_cache(maxsize=4096)
def _norm_char(ch: str) -> str:
    ch = _MAP.get(ch, ch)
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if c in _DROP or c.isspace() or unicodedata.combining(c) or unicodedata.category(c) in ("Cc", "Cf"):
            continue
        out.append(_MAP.get(c, c))
    return "".join(out).casefold()


def normalize(text: str) -> str:
    """The match-time form of a text (see the module docstring)."""
    if text.isascii():
        return text.translate(_ASCII_DROP).lower()
    return "".join(_norm_char(c) for c in text)


@dataclass(frozen=True)
class Span:
    """Where a passage is: its first and last line, and its verbatim extracted text."""

    first: Line
    last: Line
    text: str

    @property
    def page(self) -> int | None:
        """Page of the first line (None for markdown)."""
        return self.first.page

    @property
    def section(self) -> str:
        """Enclosing section of the first line ("4.1", "Abstract"; "" for the front matter)."""
        return self.first.section

    @property
    def where(self) -> str:
        """Compact location: `p4:L28-L29`, `p4:L40-p5:L2`, `md:129`, `md:129-130`."""
        a, b = self.first, self.last
        if a.page is None:
            return f"md:{a.number}" if a.number == b.number else f"md:{a.number}-{b.number}"
        if a.page != b.page:
            return f"p{a.page}:L{a.number}-p{b.page}:L{b.number}"
        return f"p{a.page}:L{a.number}" if a.number == b.number else f"p{a.page}:L{a.number}-L{b.number}"

    @property
    def where_long(self) -> str:
        """Prose location: `p. 4, lines 28-29`, `p. 4, line 40 to p. 5, line 2`, `md:129`."""
        a, b = self.first, self.last
        if a.page is None:
            return self.where
        if a.page != b.page:
            return f"p. {a.page}, line {a.number} to p. {b.page}, line {b.number}"
        return f"p. {a.page}, line {a.number}" if a.number == b.number else f"p. {a.page}, lines {a.number}-{b.number}"

    @property
    def section_label(self) -> str:
        """`Section 4.1`, `Abstract`, or `front matter`."""
        s = self.section
        if not s:
            return "front matter"
        return f"Section {s}" if s[0].isdigit() or (len(s.split(".")[0]) == 1 and s[0].isupper()) else s

    def cite(self) -> str:
        """Review location: `Section 4.1, p4:L28-L29` (PDF) or `Section 4.1, md:129` (markdown)."""
        return f"{self.section_label}, {self.where}"


@dataclass(frozen=True)
class Located:
    """The quote was found exactly (after normalisation) and once: verified."""

    quote: str
    span: Span
    status = "found"
    verified = True

    @property
    def page(self) -> int | None:
        return self.span.page

    @property
    def lines(self) -> tuple[int, int]:
        """First and last line number (page-relative; on two pages when the quote crosses a page break)."""
        return self.span.first.number, self.span.last.number

    @property
    def section(self) -> str:
        return self.span.section

    @property
    def text(self) -> str:
        """The matched passage as extracted (artefacts included, for the review's blockquote)."""
        return self.span.text

    def cite(self) -> str:
        """`Section 4.1, p4:L28-L29`, or `Section 4.1, md:129` for a markdown source."""
        return self.span.cite()

    def describe(self) -> str:
        """One phrase for reports: `found at Section 4.1, p4:L28-L29`."""
        return f"found at {self.cite()}"


@dataclass(frozen=True)
class NotFound:
    """Nothing similar enough to the quote is in the text."""

    quote: str
    similarity: float  # of the most similar passage, 0..1
    status = "not found"
    verified = False

    def cite(self) -> str:
        return f"not found (best similarity {self.similarity:.0%})"

    def describe(self) -> str:
        """One phrase for reports: `not found (best similarity 41%)`."""
        return self.cite()


@dataclass(frozen=True)
class Ambiguous:
    """The quote matches exactly in more than one place; every place is listed."""

    quote: str
    places: tuple[Span, ...]
    status = "ambiguous"
    verified = False

    def cite(self) -> str:
        return "ambiguous: " + "; ".join(p.cite() for p in self.places)

    def describe(self) -> str:
        """One phrase for reports: `ambiguous, 2 places: Section 3, p1:L22; Section 3, p2:L2`."""
        return f"ambiguous, {len(self.places)} places: " + "; ".join(p.cite() for p in self.places)


@dataclass(frozen=True)
class NearMiss:
    """No exact match, but a passage with this similarity (0..1) exists; `span.text` is what the paper says."""

    quote: str
    similarity: float
    span: Span
    status = "near miss"
    verified = False

    def cite(self) -> str:
        return f"near miss ({self.similarity:.0%}) at {self.span.cite()}"

    def describe(self) -> str:
        """One phrase for reports, with what the paper says there."""
        return f"near miss ({self.similarity:.0%}) at {self.span.cite()}, which reads \"{self.span.text}\""


Result = Located | NotFound | Ambiguous | NearMiss


class _Index:
    """The whole text normalised and concatenated, with each line's start offset."""

    def __init__(self, text: PaperText):
        self.lines = list(text.lines())
        parts = [normalize(ln.text) for ln in self.lines]
        self.starts = []
        offset = 0
        for part in parts:
            self.starts.append(offset)
            offset += len(part)
        self.norm = "".join(parts)

    def line_at(self, offset: int) -> int:
        """Index (into self.lines) of the line holding normalised offset `offset`."""
        return bisect.bisect_right(self.starts, offset) - 1

    def span(self, start: int, end: int) -> Span:
        """The Span of normalised offsets [start, end), with the verbatim text it came from."""
        i, j = self.line_at(start), self.line_at(end - 1)
        texts = [self.lines[k].text for k in range(i, j + 1)]
        head = _cut(texts[0], start - self.starts[i])
        if i == j:
            return Span(self.lines[i], self.lines[j], _take(head, end - start))
        middle = texts[1:-1]
        last = _take(texts[-1], end - self.starts[j])
        return Span(self.lines[i], self.lines[j], " ".join([head, *middle, last]).strip())


def _cut(text: str, n: int) -> str:
    """`text` without its first characters that normalise to `n` characters."""
    count = 0
    for k, ch in enumerate(text):
        if count >= n and normalize(ch):
            return text[k:]
        count += len(normalize(ch))
    return ""


def _take(text: str, n: int) -> str:
    """The shortest prefix of `text` whose normalised form has `n` characters."""
    count = 0
    for k, ch in enumerate(text):
        count += len(normalize(ch))
        if count >= n:
            return text[: k + 1]
    return text


def _index(text: PaperText) -> _Index:
    if not isinstance(text.index, _Index):
        text.index = _Index(text)
    return text.index


def check_quote(quote: str) -> str:
    """The normalised quote; raises QuoteError when it is empty or has too few letters or digits."""
    if not quote or not quote.strip():
        raise QuoteError("the quote is empty; give a verbatim passage of the paper")
    norm = normalize(quote)
    letters = sum(ch.isalnum() for ch in norm)
    if letters < MIN_QUOTE_CHARS:
        raise QuoteError(
            f"the quote has {letters} letters or digits, fewer than {MIN_QUOTE_CHARS}; quote a longer passage"
        )
    return norm


def _find_all(norm: str, needle: str) -> list[int]:
    found = []
    pos = norm.find(needle)
    while pos != -1:
        found.append(pos)
        pos = norm.find(needle, pos + 1)
    return found


def locate(text: PaperText, quote: str) -> Result:
    """Find `quote` in `text`: Located (exact and unique), Ambiguous, NearMiss or NotFound."""
    q = check_quote(quote)
    index = _index(text)
    hits = _find_all(index.norm, q)
    if len(hits) == 1:
        return Located(quote, index.span(hits[0], hits[0] + len(q)))
    if hits:
        return Ambiguous(quote, tuple(index.span(h, h + len(q)) for h in hits))
    similarity, where = _nearest(index.norm, q)
    if where is not None and similarity >= NEAR_MISS:
        return NearMiss(quote, similarity, index.span(*where))
    return NotFound(quote, similarity)


def occurrences(text: PaperText, term: str) -> list[Span]:
    """Every place a (possibly short) term occurs, for recording a search when the paper is silent."""
    index = _index(text)
    t = normalize(term)
    return [index.span(h, h + len(t)) for h in _find_all(index.norm, t)] if t else []


def _nearest(norm: str, q: str) -> tuple[float, tuple[int, int] | None]:
    """Similarity and normalised offsets of the passage most like `q`: seed with exact pieces, then difflib."""
    k = min(_SEED, max(3, len(q) // 4))
    votes: Counter = Counter()
    for i in range(0, len(q) - k + 1):
        hits = _find_all(norm, q[i : i + k])
        if len(hits) > 20:
            continue  # a common piece says nothing about where the quote is
        for h in hits:
            votes[(h - i) // 8] += 1
    best: tuple[float, tuple[int, int] | None] = (0.0, None)
    slack = len(q) // 3 + 8
    for bucket, _ in votes.most_common(5):
        lo = max(0, bucket * 8 - slack)
        hi = min(len(norm), bucket * 8 + len(q) + slack)
        matcher = difflib.SequenceMatcher(None, q, norm[lo:hi], autojunk=False)
        blocks = [b for b in matcher.get_matching_blocks() if b.size]
        if not blocks:
            continue
        start, end = lo + blocks[0].b, lo + blocks[-1].b + blocks[-1].size
        ratio = 2 * sum(b.size for b in blocks) / (len(q) + end - start)
        if ratio > best[0]:
            best = (ratio, (start, end))
    return best
