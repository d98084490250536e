"""Paper sources: which directory, PDF before markdown, refusing the wrong file, and fetch over local HTTP."""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest
from synthetic_paper import ARXIV_ID, build_encrypted, build_paper, build_scanned, paper_toml, write_markdown

from fidelity.papers import sources
from fidelity.papers.records import parse_paper
from fidelity.papers.sources import (
    PaperSourceError,
    Unavailable,
    fetch,
    paper_text,
    require_papers_dir,
    resolve_papers_dir,
)


def _paper(sha256: str = "", title: str | None = None):
    return parse_paper(paper_toml(sha256, **({"title": title} if title else {})))


@pytest.fixture
def papers(tmp_path, synthetic):
    """A papers directory holding the synthetic PDF."""
    d = tmp_path / "papers"
    d.mkdir()
    shutil.copy(synthetic.path, d / f"{ARXIV_ID}.pdf")
    return d


def test_papers_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("FIDELITY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FIDELITY_PAPERS_DIR", raising=False)
    monkeypatch.setattr(sources, "SHARED_PAPERS", tmp_path / "shared" / "papers")
    assert resolve_papers_dir() == tmp_path / "cache" / "papers"
    with pytest.raises(PaperSourceError, match="no papers directory.*--papers-dir"):
        require_papers_dir()
    (tmp_path / "shared" / "papers").mkdir(parents=True)  # ../shared/papers beside the clone, when it exists
    assert resolve_papers_dir() == require_papers_dir() == tmp_path / "shared" / "papers"
    monkeypatch.setenv("FIDELITY_PAPERS_DIR", str(tmp_path / "env"))
    assert resolve_papers_dir() == tmp_path / "env"
    assert resolve_papers_dir(tmp_path / "flag") == tmp_path / "flag"


def test_pinned_pdf_is_used(papers, synthetic):
    text = paper_text(_paper(synthetic.sha256), papers)
    assert text.source == "pdf" and text.sha256 == synthetic.sha256


def test_env_papers_dir_is_used(papers, synthetic, monkeypatch):
    monkeypatch.setenv("FIDELITY_PAPERS_DIR", str(papers))
    assert paper_text(_paper(synthetic.sha256)).source == "pdf"


def test_markdown_is_the_second_class_source(tmp_path):
    write_markdown(tmp_path / "md" / f"{ARXIV_ID}.md")
    text = paper_text(_paper(), tmp_path)
    assert text.source == "md"


def test_missing_text_is_unavailable_not_an_error(tmp_path):
    result = paper_text(_paper(), tmp_path / "nowhere")
    assert isinstance(result, Unavailable)
    assert f"{ARXIV_ID}.pdf" in result.reason and "fetch" in result.reason


def test_sha_mismatch_names_both_hashes(papers):
    pinned = "0" * 64
    with pytest.raises(PaperSourceError) as err:
        paper_text(_paper(pinned), papers)
    message = str(err.value)
    actual = hashlib.sha256((papers / f"{ARXIV_ID}.pdf").read_bytes()).hexdigest()
    assert pinned in message and actual in message and "fetch" in message and "\n" not in message


def test_unpinned_pdf_of_the_paper_is_accepted(papers):
    assert paper_text(_paper(""), papers).source == "pdf"


def test_unpinned_pdf_of_another_paper_is_refused(tmp_path):
    d = tmp_path / "papers"
    d.mkdir()
    build_paper(d / f"{ARXIV_ID}.pdf", title="A Completely Different Paper About Cats")
    with pytest.raises(PaperSourceError, match="is not 'Locating Quotes in Synthetic Papers'"):
        paper_text(_paper(""), d)


def test_unpinned_pdf_with_another_arxiv_stamp_is_refused(tmp_path):
    d = tmp_path / "papers"
    d.mkdir()
    build_paper(d / f"{ARXIV_ID}.pdf", stamp="arXiv:2999.99999v1  [cs.LG]  1 Jan 2024")
    with pytest.raises(PaperSourceError, match="arXiv:2999.99999 by its margin stamp"):
        paper_text(_paper(""), d)


@pytest.mark.parametrize("case", ["corrupt", "truncated", "encrypted", "scanned"])
def test_unusable_pdf_is_an_error_not_unavailable(case, tmp_path, synthetic):
    d = tmp_path / "papers"
    d.mkdir()
    pdf = d / f"{ARXIV_ID}.pdf"
    if case == "corrupt":
        pdf.write_bytes(b"%PDF-1.5\n%garbage\n" * 50)
    elif case == "truncated":
        pdf.write_bytes(synthetic.path.read_bytes()[:4000])
    elif case == "encrypted":
        build_encrypted(synthetic.path, pdf)
    else:
        build_scanned(pdf)
    write_markdown(d / "md" / f"{ARXIV_ID}.md")  # a present but unusable PDF is not silently skipped
    with pytest.raises(PaperSourceError):
        paper_text(_paper(""), d)


def test_fetch_downloads_atomically_and_verifies(http_server, synthetic, tmp_path):
    base_url, routes = http_server
    routes[f"/pdf/{ARXIV_ID}v2"] = (200, synthetic.path.read_bytes())
    out = io.StringIO()
    path = fetch(ARXIV_ID, 2, tmp_path / "dest", base_url=base_url, sha256=synthetic.sha256, out=out)
    assert path == tmp_path / "dest" / f"{ARXIV_ID}.pdf"
    assert path.read_bytes() == synthetic.path.read_bytes()
    assert "fetched" in out.getvalue() and "verified" in out.getvalue()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    again = io.StringIO()
    fetch(ARXIV_ID, 2, tmp_path / "dest", base_url=base_url, sha256=synthetic.sha256, out=again)
    assert "already present" in again.getvalue()


def test_fetch_sha_mismatch_keeps_nothing(http_server, synthetic, tmp_path):
    base_url, routes = http_server
    routes[f"/pdf/{ARXIV_ID}v2"] = (200, synthetic.path.read_bytes())
    with pytest.raises(PaperSourceError) as err:
        fetch(ARXIV_ID, 2, tmp_path, base_url=base_url, sha256="f" * 64, out=io.StringIO())
    assert synthetic.sha256 in str(err.value) and "f" * 64 in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("route", "match"),
    [((404, b"no"), "HTTP 404"), ((200, b"<html>captcha</html>"), "did not return a PDF")],
)
def test_fetch_errors(http_server, tmp_path, route, match):
    base_url, routes = http_server
    routes[f"/pdf/{ARXIV_ID}v2"] = route
    with pytest.raises(PaperSourceError, match=match):
        fetch(ARXIV_ID, 2, tmp_path, base_url=base_url, out=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_fetch_unreachable_server(tmp_path):
    with pytest.raises(PaperSourceError, match="check the network"):
        fetch(ARXIV_ID, 2, tmp_path, base_url="http://127.0.0.1:9/pdf/", out=io.StringIO())
