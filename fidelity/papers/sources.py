"""Where a paper's text comes from: a papers directory holding `<arxiv_id>.pdf` (pinned by sha256 in the
paper's TOML) or, second-class, `md/<arxiv_id>.md`; and `fetch`, which downloads a pinned PDF from arXiv.

The papers directory is the one given explicitly (`--papers-dir`), else $FIDELITY_PAPERS_DIR, else `../shared/papers`
beside the clone when it exists (where this project's CI and developers keep them), else the git-ignored cache
`<cache>/papers/` that `fetch` fills. PDFs are never committed (their licences are unknown).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from fidelity.papers.extract import PaperSourceError, PaperText, cache_dir, extract_markdown, extract_pdf
from fidelity.papers.text import REPO_ROOT
from fidelity.papers.locate import normalize
from fidelity.papers.records import Paper

__all__ = ["PaperSourceError", "Unavailable", "fetch", "paper_text", "resolve_papers_dir", "require_papers_dir",
           "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://arxiv.org/pdf/"
ENV_PAPERS_DIR = "FIDELITY_PAPERS_DIR"
SHARED_PAPERS = REPO_ROOT.parent / "shared" / "papers"  # beside the clone, where CI and developers keep the papers


@dataclass(frozen=True)
class Unavailable:
    """No text of the paper is available locally; `reason` says where it was looked for and what to do."""

    reason: str
    status = "unavailable"


def resolve_papers_dir(explicit: Path | str | None = None) -> Path:
    """The papers directory: `explicit`, else $FIDELITY_PAPERS_DIR, else ../shared/papers when it exists, else
    `<cache>/papers`."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_PAPERS_DIR)
    if env:
        return Path(env)
    return SHARED_PAPERS if SHARED_PAPERS.is_dir() else cache_dir() / "papers"


def require_papers_dir(explicit: Path | str | None = None) -> Path:
    """The papers directory, which must exist: a missing one is a PaperSourceError with the line that fixes it."""
    directory = resolve_papers_dir(explicit)
    if directory.is_dir():
        return directory
    given = ("--papers-dir" if explicit else f"{ENV_PAPERS_DIR}" if os.environ.get(ENV_PAPERS_DIR) else "")
    what = f"the papers directory {directory} ({given}) does not exist" if given else \
        f"no papers directory: neither --papers-dir nor {ENV_PAPERS_DIR} is set, and neither {SHARED_PAPERS} nor " \
        f"the cache {directory} exists"
    raise PaperSourceError(f"{what}; pass --papers-dir DIR (or set {ENV_PAPERS_DIR}=DIR) naming the directory that "
                           f"holds <arxiv-id>.pdf and md/<arxiv-id>.md, or fill the cache with "
                           f"`python -m fidelity.papers fetch <arxiv-id>`")


def paper_text(paper: Paper, papers_dir: Path | str | None = None) -> PaperText | Unavailable:
    """The paper's text from its pinned PDF, else its markdown conversion, else Unavailable.

    Raises PaperSourceError for a PDF that is present but unusable: corrupt, truncated, encrypted, without a
    text layer, of another paper, or not the pinned file.
    """
    directory = resolve_papers_dir(papers_dir)
    pdf = directory / f"{paper.arxiv_id}.pdf"
    if pdf.is_file():
        sha = _sha256(pdf)
        if paper.sha256 and sha != paper.sha256:
            raise PaperSourceError(
                f"{pdf} has sha256 {sha} but papers/{paper.arxiv_id}.toml pins {paper.sha256}; replace it with "
                f"arXiv:{paper.arxiv_id}v{paper.version} (python -m fidelity.papers fetch {paper.arxiv_id}), "
                f"or update sha256 in the TOML if this file is the right one"
            )
        text = extract_pdf(pdf)
        if not paper.sha256:
            _check_identity(paper, text, pdf)
        return text
    md = directory / "md" / f"{paper.arxiv_id}.md"
    if md.is_file():
        return extract_markdown(md)
    return Unavailable(
        f"no {paper.arxiv_id}.pdf or md/{paper.arxiv_id}.md in {directory}; run "
        f"`python -m fidelity.papers fetch {paper.arxiv_id}` or pass --papers-dir (or set {ENV_PAPERS_DIR})"
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_identity(paper: Paper, text: PaperText, pdf: Path) -> None:
    """An unpinned PDF must be the paper: its title in the front matter, its arXiv stamp (if any) its id."""
    stamp = text.stamp_id
    if stamp and stamp[0] != paper.arxiv_id:
        raise PaperSourceError(
            f"{pdf} is arXiv:{stamp[0]} by its margin stamp, not arXiv:{paper.arxiv_id}; put the right PDF there"
        )
    front = text.front_matter or "\n".join(ln.text for ln in text.pages[0][:20])
    if normalize(paper.title) not in normalize(front):
        first = front.splitlines()[0] if front else "(nothing)"
        raise PaperSourceError(
            f"{pdf} is not {paper.title!r} (its first page starts {first!r}); put arXiv:{paper.arxiv_id}"
            f"v{paper.version} there, or pin its sha256 in papers/{paper.arxiv_id}.toml"
        )


def fetch(
    arxiv_id: str,
    version: int,
    dest_dir: Path | str,
    base_url: str = DEFAULT_BASE_URL,
    sha256: str = "",
    out: TextIO | None = None,
) -> Path:
    """Download `<base_url><arxiv_id>v<version>` to `<dest_dir>/<arxiv_id>.pdf` atomically; verify `sha256`
    when given. Prints a progress line before and after to `out` (stderr by default). Returns the path."""
    out = out or sys.stderr
    dest_dir = Path(dest_dir)
    target = dest_dir / f"{arxiv_id}.pdf"
    if sha256 and target.is_file() and _sha256(target) == sha256:
        print(f"{target} is already present (sha256 {sha256[:12]}…)", file=out)
        return target
    url = f"{base_url.rstrip('/')}/{arxiv_id}v{version}"
    print(f"fetching {url} -> {target} …", file=out, flush=True)
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=dest_dir, prefix=f".{arxiv_id}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            request = urllib.request.Request(url, headers={"User-Agent": "fidelity-paper-fetch/1"})
            with urllib.request.urlopen(request, timeout=60) as response:
                while chunk := response.read(1 << 16):
                    if size == 0 and not chunk.startswith(b"%PDF-"):
                        raise PaperSourceError(
                            f"{url} did not return a PDF (it starts {chunk[:20]!r}); check the id and version, "
                            "or the --base-url"
                        )
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        got = digest.hexdigest()
        if sha256 and got != sha256:
            raise PaperSourceError(
                f"{url} has sha256 {got} but papers/{arxiv_id}.toml pins {sha256}; the download was not kept — "
                "check the version in the TOML, or update its sha256 if arXiv's file is the one to pin"
            )
        if size == 0:
            raise PaperSourceError(f"{url} returned an empty file; try again later")
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        raise PaperSourceError(
            f"cannot download {url}: HTTP {exc.code} {exc.reason}; check the id and version"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise PaperSourceError(f"cannot download {url}: {reason}; check the network or pass --base-url") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"fetched {url} -> {target} ({size:,} bytes, sha256 {got[:12]}…{' verified' if sha256 else ''})", file=out)
    return target
