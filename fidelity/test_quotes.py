"""Every claim's quote is found in its paper's own text: exactly (after normalisation) and once.

A claim whose paper text is not available here (no PDF or markdown in the papers directory), or that carries
no quote, is skipped with the reason — visible as unverified, never passed.
"""

from __future__ import annotations

import pytest

from fidelity.papers import locate, sources
from fidelity.papers.records import load_all

_CLAIMS = [(paper, claim) for paper in load_all().values() for claim in paper.claims]
_TEXTS: dict[str, object] = {}


def _text(paper):
    if paper.arxiv_id not in _TEXTS:
        _TEXTS[paper.arxiv_id] = sources.paper_text(paper)
    return _TEXTS[paper.arxiv_id]


@pytest.mark.parametrize("paper, claim", _CLAIMS, ids=[f"quote-{c.id}" for _, c in _CLAIMS])
def test_quote_is_in_the_paper(paper, claim):
    if not claim.quote:
        pytest.skip(f"unverified: {claim.unverified}")
    text = _text(paper)
    if isinstance(text, sources.Unavailable):
        pytest.skip(f"unverified: {text.reason}")
    found = locate.locate(text, claim.quote)
    assert found.verified, f"{claim.id}: quote {found.describe()} in arXiv:{paper.arxiv_id} ({text.source}); " \
                           f"fix the quote in {paper.source.name}"
