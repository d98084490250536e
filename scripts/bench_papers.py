"""Time paper-text extraction (cold and warm from the cache) and locating every claim of one paper.

Usage: python scripts/bench_papers.py [ARXIV_ID] [--papers-dir D] [--repeat N]
Target: extraction plus locating all claims of one paper under 0.5 s (warm cache certainly).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET = 0.5


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arxiv_id", nargs="?", default="2106.09685")
    parser.add_argument("--papers-dir", type=Path,
                        default=Path(os.environ.get("FIDELITY_PAPERS_DIR") or REPO.parent / "shared" / "papers"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    from fidelity.papers import pdf
    from fidelity.papers.locate import locate
    from fidelity.papers.records import load_paper
    from fidelity.papers.sources import Unavailable, paper_text
    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf._mupdf()  # PyMuPDF is imported lazily, on the first cold extraction only
    mupdf_imported = time.perf_counter() - t0

    paper = load_paper(args.arxiv_id)
    quotes = [c.quote for c in paper.claims if c.quote]
    cold, warm, locating, total_cold, total_warm = [], [], [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["FIDELITY_CACHE_DIR"] = cache
            t = time.perf_counter()
            text = paper_text(paper, args.papers_dir)
            if isinstance(text, Unavailable):
                print(f"cannot benchmark: {text.reason}", file=sys.stderr)
                return 2
            t1 = time.perf_counter()
            for q in quotes:
                locate(text, q)
            t2 = time.perf_counter()
            text = paper_text(paper, args.papers_dir)  # from the cache: a fresh object, index rebuilt
            t3 = time.perf_counter()
            results = [locate(text, q) for q in quotes]
            t4 = time.perf_counter()
        cold.append(t1 - t)
        warm.append(t3 - t2)
        locating.append(t4 - t3)
        total_cold.append(t2 - t)
        total_warm.append(t4 - t2)
    verified = sum(r.verified for r in results)

    def fig(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1000:7.1f} ms   min {min(xs) * 1000:7.1f} ms"

    print(f"paper: arXiv:{paper.arxiv_id} ({text.source}, {sum(map(len, text.pages))} lines, "
          f"{len(text.pages)} pages), {len(quotes)} claim quotes, {verified} verified; {args.repeat} runs")
    print(f"import fidelity.papers: {imported * 1000:.0f} ms; import PyMuPDF (cold path only): "
          f"{mupdf_imported * 1000:.0f} ms (neither counted below)")
    print(f"extract, cold (no cache):          {fig(cold)}")
    print(f"extract, warm (from cache):        {fig(warm)}")
    print(f"locate all claims (index + search): {fig(locating)}")
    for label, xs in (("cold", total_cold), ("warm", total_warm)):
        ok = "ok" if statistics.median(xs) < TARGET else "OVER TARGET"
        print(f"extract + locate all, {label}:       {fig(xs)}   target {TARGET * 1000:.0f} ms: {ok}")
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
