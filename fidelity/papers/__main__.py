"""`python -m fidelity.papers`: extract a paper to numbered lines, locate a quote, verify every claim's quote,
fetch a pinned PDF. Bad input is one line on stderr and exit code 2; a quote that is not verified exits 1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fidelity.papers.extract import PaperSourceError, PaperText, extract_markdown, extract_pdf
from fidelity.papers.locate import Ambiguous, Located, NearMiss, QuoteError, Result, check_quote, locate
from fidelity.papers.records import RECORDS_DIR, Paper, PaperRecordError, load_all, load_paper
from fidelity.papers.sources import Unavailable, fetch, paper_text, require_papers_dir, resolve_papers_dir

EXIT_UNVERIFIED = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m fidelity.papers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("extract", help="print a PDF or markdown file as numbered lines with page and section markers")
    p.add_argument("path", type=Path)
    p = sub.add_parser("locate", help="find a quote in a paper's text")
    p.add_argument("arxiv_id")
    p.add_argument("quote")
    p.add_argument("--papers-dir", type=Path)
    p.add_argument("--records-dir", type=Path, default=RECORDS_DIR, help=argparse.SUPPRESS)
    p = sub.add_parser(
        "verify", help="locate every claim's quote; exit 1 if one whose paper text is present is not verified"
    )
    p.add_argument("arxiv_id", nargs="?")
    p.add_argument("--papers-dir", type=Path)
    p.add_argument("--records-dir", type=Path, default=RECORDS_DIR, help=argparse.SUPPRESS)
    p = sub.add_parser("fetch", help="download a paper's pinned PDF from arXiv")
    p.add_argument("arxiv_id")
    p.add_argument("--records-dir", type=Path, default=RECORDS_DIR, help=argparse.SUPPRESS)
    p.add_argument("--dest", type=Path, help="directory to save into (default: the papers directory)")
    p.add_argument("--base-url", default=None, help="server to download from (default: https://arxiv.org/pdf/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (exit 2) and --help (exit 0)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command](args)
    except (PaperSourceError, PaperRecordError, QuoteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _extract(args: argparse.Namespace) -> int:
    path: Path = args.path
    text = extract_markdown(path) if path.suffix.lower() in (".md", ".markdown", ".txt") else extract_pdf(path)
    print(render(text))
    return 0


def render(text: PaperText) -> str:
    """Numbered lines with `== page N ==` and `-- section --` markers, as `extract` prints them."""
    titles = {h.key: (f"{h.label} {h.title}" if h.label else h.title) for h in text.headings}
    out = [f"# {text.path} ({text.source}, sha256 {text.sha256})"]
    if text.arxiv_stamp:
        out.append(f"# arXiv stamp: {text.arxiv_stamp}")
    section = None
    for page in text.pages:
        if text.source == "pdf" and page:
            out.append(f"== page {page[0].page} ==")
        for ln in page:
            if ln.section != section:
                section = ln.section
                out.append(f"-- {titles.get(section, section) or 'front matter'} --")
            out.append(f"{ln.number:5d}  {ln.text}")
    return "\n".join(out)


def _text_or_exit(paper: Paper, papers_dir: Path | None) -> PaperText:
    text = paper_text(paper, require_papers_dir(papers_dir))
    if isinstance(text, Unavailable):
        raise PaperSourceError(f"arXiv:{paper.arxiv_id}: {text.reason}")
    return text


def _locate(args: argparse.Namespace) -> int:
    check_quote(args.quote)
    paper = load_paper(args.arxiv_id, args.records_dir)
    result = locate(_text_or_exit(paper, args.papers_dir), args.quote)
    print(f"{result.status}: {_where(result)}")
    for span in getattr(result, "places", ()) or [getattr(result, "span", None)]:
        if span is not None:
            print(f"  {span.cite()}: {span.text}")
    return 0 if result.verified else EXIT_UNVERIFIED


def _where(result: Result) -> str:
    """The citation column: where it was found, or what came closest."""
    if isinstance(result, Located):
        return result.cite()
    if isinstance(result, NearMiss):
        return f"{result.similarity:.0%} similar at {result.span.cite()}"
    if isinstance(result, Ambiguous):
        return f"{len(result.places)} places: " + "; ".join(p.cite() for p in result.places)
    return f"best similarity {result.similarity:.0%}"


def _section_differs(claimed: str, found: str) -> bool:
    want = claimed.split(",")[0].strip()
    if want == "front matter":
        return found != ""
    return bool(want) and want.casefold() != found.casefold()


def _verify(args: argparse.Namespace) -> int:
    if args.arxiv_id:
        papers = [load_paper(args.arxiv_id, args.records_dir)]
    else:
        papers = list(load_all(args.records_dir).values())
    papers_dir = require_papers_dir(args.papers_dir)  # a missing directory is bad input, not "no text"
    rows: list[tuple[str, str, str]] = []
    failed = errors = 0
    for paper in papers:
        try:
            text = paper_text(paper, papers_dir)
        except PaperSourceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            errors += 1
            continue
        for claim in paper.claims:
            if not claim.quote:
                rows.append((claim.id, "unverified", f"({claim.unverified})"))
            elif isinstance(text, Unavailable):
                rows.append((claim.id, "unverified", "(no local text of the paper)"))
            else:
                result = locate(text, claim.quote)
                cite = _where(result)
                if result.verified and _section_differs(claim.section, result.section):
                    cite += f" (TOML says section {claim.section!r})"
                failed += not result.verified
                rows.append((claim.id, result.status, cite))
        if isinstance(text, Unavailable):
            print(f"arXiv:{paper.arxiv_id}: {text.reason}", file=sys.stderr)
    width = max([len(r[0]) for r in rows] + [5])
    swidth = max([len(r[1]) for r in rows] + [6])
    print(f"{'claim':<{width}}  {'status':<{swidth}}  citation")
    for claim_id, status, cite in rows:
        print(f"{claim_id:<{width}}  {status:<{swidth}}  {cite}".rstrip())
    found = sum(r[1] == "found" for r in rows)
    print(f"{found} found, {failed} not verified, {len(rows) - found - failed} without text or quote")
    if errors:
        return EXIT_BAD_INPUT
    return EXIT_UNVERIFIED if failed else 0


def _fetch(args: argparse.Namespace) -> int:
    paper = load_paper(args.arxiv_id, args.records_dir)
    dest = args.dest or resolve_papers_dir(None)
    kwargs = {"base_url": args.base_url} if args.base_url else {}
    fetch(paper.arxiv_id, paper.version, dest, sha256=paper.sha256, **kwargs)
    return 0


COMMANDS = {"extract": _extract, "locate": _locate, "verify": _verify, "fetch": _fetch}

if __name__ == "__main__":
    sys.exit(main())
