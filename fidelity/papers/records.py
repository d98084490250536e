"""Paper records: one TOML per paper in `papers/`, holding its identity and its claims.

A claim is one statement of one paper (test262's one-test-one-claim, as data): a stable id, where it is in
the paper, a short verbatim quote, a plain statement and the kind of check that tests it. Loading lints the
record, so a typo in a TOML is a one-line error naming the file and the field, never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from fidelity.kinds import KINDS

RECORDS_DIR = Path(__file__).resolve().parents[2] / "papers"

_ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")
_CLAIM_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MIN_QUOTE_CHARS = 20  # letters or digits: shorter quotes match too easily to count as evidence


class PaperRecordError(ValueError):
    """A paper TOML is missing, malformed or inconsistent; the message names the file and what to fix."""


@dataclass(frozen=True)
class Claim:
    """One statement of one paper, tested by one check kind."""

    id: str
    paper_id: str
    title: str  # a short heading for the review section
    section: str
    quote: str  # verbatim from the paper; empty when the paper's text is not available to the project
    statement: str
    kind: str
    unverified: str = ""  # why the quote cannot be verified (no local text), empty when it can
    # the quote's mathematics as the check reads it, where the text extraction damaged it (a flattened fraction α/r
    # printed "αr", a lost superscript "Rd×r" for ℝ^{d×r}); empty when the quote reads correctly as located
    reading: str = ""

    @property
    def anchor(self) -> str:
        """Markdown anchor of this claim in a review."""
        return self.id.replace(".", "-")


@dataclass(frozen=True)
class Paper:
    """A pinned paper: arXiv id and version, bibliographic data, the PDF's sha256, and its claims."""

    arxiv_id: str
    version: int
    title: str
    short_name: str
    authors: tuple[str, ...]
    year: int
    sha256: str  # of the pinned PDF; empty when no PDF is pinned yet
    claims: tuple[Claim, ...] = field(default=())
    source: Path | None = None

    @property
    def first_author_surname(self) -> str:
        return self.authors[0].split()[-1]

    @property
    def cite(self) -> str:
        """Short citation used in review titles: `LoRA (Hu+ 2021, arXiv:2106.09685)`."""
        return f"{self.short_name} ({self.first_author_surname}+ {self.year}, arXiv:{self.arxiv_id})"

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"paper arXiv:{self.arxiv_id} has no claim {claim_id!r}")


def _letters(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def _require(table: dict, key: str, typ: type, where: str):
    if key not in table:
        raise PaperRecordError(f"{where}: missing field '{key}'; add it (see papers/2106.09685.toml)")
    value = table[key]
    if not isinstance(value, typ):
        raise PaperRecordError(f"{where}: field '{key}' must be a {typ.__name__}, got {type(value).__name__}")
    return value


def parse_paper(text: str, source: Path | None = None) -> Paper:
    """Parse and lint one paper TOML."""
    where = str(source) if source else "<paper toml>"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PaperRecordError(f"{where}: not valid TOML ({exc}); fix the syntax") from None
    meta = _require(data, "paper", dict, where)
    arxiv_id = _require(meta, "arxiv_id", str, f"{where} [paper]")
    if not _ARXIV_ID.match(arxiv_id):
        raise PaperRecordError(f"{where}: arxiv_id {arxiv_id!r} is not of the form 2106.09685")
    if source is not None and source.stem != arxiv_id:
        raise PaperRecordError(f"{where}: file name must be {arxiv_id}.toml to match its arxiv_id")
    sha = meta.get("sha256", "")
    if sha and not _SHA256.match(sha):
        raise PaperRecordError(f"{where}: sha256 must be 64 lowercase hex digits, got {sha!r}")
    authors = _require(meta, "authors", list, f"{where} [paper]")
    if not authors or not all(isinstance(a, str) and a.strip() for a in authors):
        raise PaperRecordError(f"{where}: authors must be a non-empty list of names")
    claims_data = data.get("claims", [])
    if not isinstance(claims_data, list):
        raise PaperRecordError(f"{where}: 'claims' must be an array of tables ([[claims]])")
    claims: list[Claim] = []
    seen: set[str] = set()
    for i, c in enumerate(claims_data):
        cw = f"{where} claim #{i + 1}"
        cid = _require(c, "id", str, cw)
        cw = f"{where} claim {cid!r}"
        if not _CLAIM_ID.match(cid):
            raise PaperRecordError(f"{cw}: id must look like 'lora.zero-init' (variant.short-name)")
        if cid in seen:
            raise PaperRecordError(f"{cw}: duplicate claim id; ids must be unique within a paper")
        seen.add(cid)
        kind = _require(c, "kind", str, cw)
        if kind not in KINDS:
            raise PaperRecordError(f"{cw}: unknown check kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}")
        quote = c.get("quote", "")
        unverified = c.get("unverified", "")
        if not quote and not unverified:
            raise PaperRecordError(f"{cw}: give a verbatim 'quote', or 'unverified' saying why there is none")
        if quote and _letters(quote) < MIN_QUOTE_CHARS:
            raise PaperRecordError(
                f"{cw}: quote has fewer than {MIN_QUOTE_CHARS} letters or digits; quote a longer passage"
            )
        unknown = set(c) - {"id", "title", "kind", "section", "quote", "statement", "unverified", "reading"}
        if unknown:
            raise PaperRecordError(f"{cw}: unknown field(s) {', '.join(sorted(unknown))}")
        claims.append(
            Claim(
                id=cid,
                paper_id=arxiv_id,
                title=_require(c, "title", str, cw),
                section=_require(c, "section", str, cw),
                quote=" ".join(quote.split()),
                statement=" ".join(_require(c, "statement", str, cw).split()),
                kind=kind,
                unverified=unverified,
                reading=" ".join(c.get("reading", "").split()),
            )
        )
    return Paper(
        arxiv_id=arxiv_id,
        version=_require(meta, "version", int, f"{where} [paper]"),
        title=_require(meta, "title", str, f"{where} [paper]"),
        short_name=_require(meta, "short_name", str, f"{where} [paper]"),
        authors=tuple(authors),
        year=_require(meta, "year", int, f"{where} [paper]"),
        sha256=sha,
        claims=tuple(claims),
        source=source,
    )


_PARSED: dict[tuple[Path, int, int], Paper] = {}  # (path, mtime, size) -> its record: the runner asks once per cell


def load_paper(arxiv_id: str, records_dir: Path = RECORDS_DIR) -> Paper:
    """Load `papers/<arxiv_id>.toml` (parsed once per version of the file)."""
    path = records_dir / f"{arxiv_id}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in records_dir.glob("*.toml"))) or "none"
        raise PaperRecordError(f"no paper record {path.name} in {records_dir}; known papers: {known}")
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        _PARSED[key] = parse_paper(path.read_text(encoding="utf-8"), source=path)
    return _PARSED[key]


def load_all(records_dir: Path = RECORDS_DIR) -> dict[str, Paper]:
    """Every paper record, by arXiv id."""
    return {p.stem: load_paper(p.stem, records_dir) for p in sorted(records_dir.glob("*.toml"))}


def find_claim(claim_id: str, records_dir: Path = RECORDS_DIR) -> Claim:
    """The claim with this id, from whichever paper holds it."""
    for paper in load_all(records_dir).values():
        for c in paper.claims:
            if c.id == claim_id:
                return c
    raise PaperRecordError(f"no paper record holds claim {claim_id!r}")
