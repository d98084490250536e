"""Extracted paper text: pages of numbered lines with their sections, and its cache (by the file's sha256).

`PaperText` is what the locator searches and what reviews cite; `fidelity.papers.pdf` and
`fidelity.papers.markdown` produce it. The cache lives under `<cache>/text/`, FORMAT_VERSION in the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FORMAT_VERSION = 2  # bump when extraction changes: it is part of the cache key
REPO_ROOT = Path(__file__).resolve().parents[2]
STAMP = re.compile(r"arXiv:(\d{4}\.\d{4,5})(?:v(\d+))?\s*\[[^\]]*\]\s*\d{1,2}\s+[A-Za-z]{3}\s+\d{4}")
_NUMBERED = re.compile(r"^(?P<label>(?:\d{1,2}|[A-Z])(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z].*)$")
_UNNUMBERED = {
    "abstract", "references", "bibliography", "acknowledgements", "acknowledgments", "acknowledgement",
    "acknowledgment", "appendix", "appendices", "impact statement", "broader impact", "broader impacts",
}
_WORD3 = re.compile(r"[^\W\d_]{3}")


class PaperSourceError(Exception):
    """A paper file cannot be used (unreadable, encrypted, no text, wrong paper); the message says what to do."""


@dataclass(frozen=True)
class Line:
    """One body line: its 1-based page (None for markdown), 1-based number on the page (or in the file), text,
    and the enclosing section ("4.1", "Abstract"; "" before the first heading, i.e. the front matter)."""

    page: int | None
    number: int
    text: str
    section: str = ""


@dataclass(frozen=True)
class Heading:
    """A section heading: where it is, its number ("4.1", "" when unnumbered) and its title."""

    page: int | None
    number: int
    label: str
    title: str

    @property
    def key(self) -> str:
        """What lines of this section carry as `Line.section`: the number, else the title."""
        return self.label or self.title


@dataclass(frozen=True)
class Margin:
    """Printed text that is not a body line; kind: header, footer, page-number, stamp, rotated or figure."""

    page: int | None
    kind: str
    text: str


@dataclass
class PaperText:
    """Extracted paper text: source kind ("pdf" | "md"), pages of body lines (markdown: one page), front
    matter, the arXiv stamp if found, headings and margin text."""

    source: str
    pages: list[list[Line]]
    front_matter: str = ""
    arxiv_stamp: str = ""
    headings: list[Heading] = field(default_factory=list)
    margin: list[Margin] = field(default_factory=list)
    sha256: str = ""
    path: str = ""
    index: object = field(default=None, repr=False, compare=False)  # the locator's lazily built index

    def lines(self) -> Iterator[Line]:
        """Every body line, in reading order."""
        for page in self.pages:
            yield from page

    def line(self, page: int | None, number: int) -> Line:
        """The body line with this page and number."""
        lines = self.pages[0] if self.source == "md" else self.pages[page - 1]
        for ln in lines:
            if ln.number == number:
                return ln
        raise KeyError(f"no line {number} on page {page}")

    @property
    def stamp_id(self) -> tuple[str, int | None] | None:
        """(arXiv id, version) read from the margin stamp, or None when there is no stamp."""
        m = STAMP.search(self.arxiv_stamp)
        if not m:
            return None
        return m.group(1), int(m.group(2)) if m.group(2) else None

    def to_json(self) -> dict:
        """A JSON-serialisable dict (the cache format)."""
        return {
            "format": FORMAT_VERSION,
            "source": self.source,
            "pages": [[[ln.number, ln.text, ln.section] for ln in page] for page in self.pages],
            "front_matter": self.front_matter,
            "arxiv_stamp": self.arxiv_stamp,
            "headings": [[h.page, h.number, h.label, h.title] for h in self.headings],
            "margin": [[m.page, m.kind, m.text] for m in self.margin],
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: dict, path: str = "") -> PaperText:
        """Inverse of `to_json`."""
        md = data["source"] == "md"
        pages = [
            [Line(None if md else i + 1, n, t, s) for n, t, s in page] for i, page in enumerate(data["pages"])
        ]
        return cls(
            source=data["source"],
            pages=pages,
            front_matter=data["front_matter"],
            arxiv_stamp=data["arxiv_stamp"],
            headings=[Heading(*h) for h in data["headings"]],
            margin=[Margin(*m) for m in data["margin"]],
            sha256=data["sha256"],
            path=path,
        )


# ---------------------------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """The suite's git-ignored cache root: $FIDELITY_CACHE_DIR, else `<repo>/.cache/fidelity`."""
    env = os.environ.get("FIDELITY_CACHE_DIR")
    return Path(env) if env else REPO_ROOT / ".cache" / "fidelity"


def _cache_file(sha: str, source: str) -> Path:
    return cache_dir() / "text" / f"{sha}.{source}.v{FORMAT_VERSION}.json"


def _cache_load(sha: str, source: str, path: str) -> PaperText | None:
    try:
        data = json.loads(_cache_file(sha, source).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION or data.get("sha256") != sha or data.get("source") != source:
            return None
        return PaperText.from_json(data, path)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or damaged: extract again


def _cache_store(text: PaperText) -> None:
    target = _cache_file(text.sha256, text.source)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(text.to_json(), fh, ensure_ascii=False)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache only costs time


def _read(path: Path | str) -> tuple[Path, bytes, str]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PaperSourceError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise PaperSourceError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    return path, data, hashlib.sha256(data).hexdigest()
