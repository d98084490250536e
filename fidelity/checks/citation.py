"""K28 citation: the implementation's own text (docstring, help string) names the paper's arXiv id.

The arXiv id is what identifies the paper unambiguously (it also encodes the year and month), so it is
required; the first author's surname and the year are reported when present. Tokens: CITATION-CORRECT,
CITATION-WRONG (ids are cited, but not this paper's), NO_REFERENCE (no arXiv id at all).
"""

from __future__ import annotations

import re

from fidelity.checks.base import Check, Evidence, Subject, Violation
from fidelity.papers.records import load_paper

_ARXIV = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")


class Citation(Check):
    kind = "citation"
    topic = "citation"

    def __init__(self, paper: str, identifier: str = "", venue: str = "", options: dict | None = None):
        super().__init__(options)
        self.paper = paper
        # another identifier of the same paper (e.g. its OpenReview id) required in place of the arXiv id: only as the
        # alternative property of a declared deviation of citation style
        self.identifier, self.venue = identifier, venue

    def __repr__(self) -> str:
        other = f", identifier={self.identifier!r} ({self.venue})" if self.identifier else ""
        return f"Citation(paper={self.paper!r}{other}, options={self.options})"

    def run(self, subject: Subject, profile) -> Evidence:
        paper = load_paper(self.paper)
        text = subject.binding.citation_text(subject.variant.name, self.options) or ""
        if self.identifier:
            if self.identifier in text:
                return Evidence(passed=True, observation=f"cites {paper.short_name} by its {self.venue} identifier "
                                f"{self.identifier}", examples=1, token="CITATION-CORRECT")
            v = Violation(f"the implementation's text does not name {self.venue} {self.identifier}")
            v.token = "NO_REFERENCE"
            raise v
        ids = sorted(set(_ARXIV.findall(text)))
        surname = re.search(rf"\b{re.escape(paper.first_author_surname)}\b", text) is not None
        year = re.search(rf"\b{paper.year}\b", text) is not None
        extra = f"; first author '{paper.first_author_surname}' {'named' if surname else 'not named'}, " \
                f"year {paper.year} {'named' if year else 'not named'}"
        measured = {"ids_cited": float(len(ids))}
        if paper.arxiv_id in ids:
            return Evidence(passed=True, observation=f"cites arXiv:{paper.arxiv_id}{extra}", measured=measured,
                            examples=1, token="CITATION-CORRECT")
        if ids:
            v = Violation(f"cites arXiv {', '.join(ids)} but not arXiv:{paper.arxiv_id}{extra}", measured)
            v.token = "CITATION-WRONG"
            raise v
        v = Violation(f"no arXiv id in the implementation's text (expected arXiv:{paper.arxiv_id}){extra}", measured)
        v.token = "NO_REFERENCE"
        raise v
