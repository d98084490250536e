"""`python -m fidelity.report <variant>|all`: run a variant's cells on every implementation, write its review.

Prints one line per cell as it completes (verdict, hypothesis examples run, seconds) and a summary at the end,
renders `reviews/<variant>.md` with Jinja (Style R, see ../shared/spec/review-format.md) and writes it atomically;
`all` also writes `reviews/index.md` (one verdict matrix per paper) and `reviews/results.json` (fidelity/results.py).
`--check` writes nothing and exits non-zero, printing a diff, when a committed file differs from what the code
produces now. Exit status: 0 when every cell is MATCHES, DEVIATES-OK, a declared known bug or N/A; 1 when any is an
undeclared DEVIATES, STALE or ERROR, or a declaration matches no cell; 2 on bad input (unknown variant or
implementation, a malformed paper record, an unreadable paper).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from fidelity.kinds import KINDS
from fidelity.papers.records import Paper, PaperRecordError, load_paper
from fidelity.papers.sources import PaperSourceError
from fidelity.profiles import current_profile
from fidelity.runner import CellResult, Runner
from fidelity.verdicts import Verdict

REPO_ROOT = Path(__file__).resolve().parents[1]
REVIEWS_DIR = REPO_ROOT / "reviews"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class PaperSource:
    paper: Paper
    source: str  # how the review names the paper text it quotes
    locate: object  # callable(claim) -> (location line "Paper, …", blockquote text or "")


SHARED_PAPERS = REPO_ROOT.parent / "shared" / "papers"  # where CI and developers keep the paper files


def _shown_path(path: Path) -> str:
    """A path as the review shows it, the same wherever the clone lives: inside the repository or the shared
    papers directory (symlinks resolved on both sides) relative to the repository, else just its name."""
    resolved = path.resolve()
    for base, label in ((REPO_ROOT.resolve(), ""), (SHARED_PAPERS.resolve(), "../shared/papers/")):
        if resolved.is_relative_to(base):
            return f"{label}{resolved.relative_to(base)}"
    return path.name


def paper_source(paper: Paper, papers_dir: Path | None) -> PaperSource:
    """The paper's text (PDF, else markdown, else none) and a locator for its claims' quotes.

    A located quote is shown as the extraction has it (artefacts included) with the locator's page, section and
    lines; a quote that is not verified is shown as written in the TOML, marked so.
    """
    from fidelity.papers import locate as locator
    from fidelity.papers import sources

    text = sources.paper_text(paper, papers_dir)
    if isinstance(text, sources.Unavailable):
        return PaperSource(paper, "no local text (no PDF or markdown in the papers directory; quotes unverified)",
                           lambda claim: (f"Paper ({claim.unverified or 'paper text not available'}; "
                                          "quote not verified)", claim.quote))

    def where(claim):
        if not claim.quote:
            return f"Paper ({claim.unverified})", ""
        found = locator.locate(text, claim.quote)
        if isinstance(found, locator.Located):
            return f"Paper, {found.cite()}", " ".join(found.text.split())
        return f"Paper, Section {claim.section} (quote not verified: {found.describe()})", claim.quote

    return PaperSource(paper, _shown_path(Path(text.path)), where)


def verdict_line(result: CellResult) -> str:
    """The `VERDICT: …` text of one cell (review-format.md §2)."""
    ev, v = result.evidence, result.verdict
    if v is Verdict.MATCHES:
        return f"{ev.token}." if ev and ev.token else "MATCHES."
    if v is Verdict.DEVIATES_OK:
        d = result.declaration
        return f"DEVIATES-OK. {d.rationale}; preserved: {', '.join(d.preserves) or 'none declared'}."
    if v is Verdict.DEVIATES and result.known_bug:
        return f"DEVIATES (known: {result.declaration.link})."
    if v is Verdict.DEVIATES:
        head = ev.token if ev and ev.token else "DEVIATES"
        extra = f" {result.reason}." if result.reason else ""
        return f"{head}.{extra} {ev.observation if ev else ''}".rstrip()
    if v is Verdict.STALE:
        return f"STALE. The declaration for {result.claim.id} no longer applies: the paper's property now holds."
    if v is Verdict.NA:
        return f"N/A ({result.run.error})."
    return f"ERROR. {_last_line(result.run.error)}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line.split(":")[0] or "Exception" in line.split(":")[0]]
    return (errors or lines or ["(no message)"])[-1].strip()


def inference(result: CellResult) -> str:
    """What follows from the measurement and the declaration, in one or two sentences."""
    v = result.verdict
    if v is Verdict.MATCHES:
        return "The measured behaviour is what the paper states for this point."
    if v is Verdict.DEVIATES_OK:
        alt = result.alternative.evidence
        return (f"The paper's property does not hold, on purpose: the implementation declares the deviation and "
                f"its alternative property holds ({alt.observation}); every claim it preserves MATCHES. "
                f"Evidence: {result.declaration.link or 'the declaration'}.")
    if v is Verdict.DEVIATES and result.known_bug:
        if result.alternative is not None and result.alternative.evidence is not None:
            return (f"A known bug inside a declared deviation: the binding departs from the paper on purpose (its "
                    f"alternative property is stated in the declaration), and that alternative fails the way the "
                    f"declared known bug does ({result.alternative.evidence.observation}). The binding's evidence: "
                    f"{result.declaration.rationale} ({result.declaration.link}).")
        return (f"A known bug, declared by the binding with its evidence: {result.declaration.rationale} "
                f"({result.declaration.link}).")
    if v is Verdict.DEVIATES:
        return "An undeclared departure from the paper: a bug until someone declares a rationale for it."
    if v is Verdict.STALE:
        return "The binding's declaration is out of date and should be removed."
    if v is Verdict.NA:
        return "Not checked here."
    return "The check could not run to a conclusion; the error is shown above, not hidden as a pass."


def _cell_view(result: CellResult) -> dict:
    ev = result.evidence
    refs = [s for s in result.sources if s.lines]
    if result.run.error and result.verdict is Verdict.ERROR:
        observation = f"the check raised: {_last_line(result.run.error)}"
    elif result.verdict is Verdict.NA:
        observation = result.run.error
    else:
        observation = ev.observation
    code_lines, last_path, last_line = [], None, None
    for ref in refs:
        if last_path == ref.path and last_line is not None and ref.first > last_line + 1:
            code_lines.append("...")
        code_lines.extend(ref.lines)
        last_path, last_line = ref.path, ref.last
    paths = sorted({r.path for r in refs})
    cite = "; ".join(f"{p}:" + ", ".join(str(r.first) if r.first == r.last else f"{r.first}-{r.last}"
                                         for r in refs if r.path == p) for p in paths)
    return {
        "impl_label": result.impl_label,
        "sources": refs,
        "code_cite": cite,
        "code_lines": code_lines,
        "no_code": "(no source lines: " + (result.run.error or "the binding reports none") + ")",
        "observation": observation,
        "falsifying": ev.falsifying if ev and ev.falsifying else "",
        "inference": inference(result),
        "verdict_line": verdict_line(result),
    }


def bottom_line(label: str, results: list[CellResult]) -> str:
    """One paragraph per implementation: no real bugs, or each real bug with its section number."""
    counts = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    bad = [(i + 1, r) for i, r in enumerate(results)
           if r.verdict in (Verdict.DEVIATES, Verdict.STALE, Verdict.ERROR)]
    if not bad:
        ok = sum(r.verdict in (Verdict.MATCHES, Verdict.DEVIATES_OK) for r in results)
        return (f"**{label}**: no real bugs: {ok} of {len(results)} points MATCH or DEVIATE-OK ({tally}); "
                f"citation correct." if ok == len(results) else f"**{label}**: no real bugs found ({tally}).")
    listed = "; ".join(f"§{i} `{r.claim.id}` {r.verdict.value}{' (known)' if r.known_bug else ''}" for i, r in bad)
    return f"**{label}**: {len(bad)} point(s) need attention: {listed} ({tally})."


def render(variant_name: str, runner: Runner, papers_dir: Path | None, progress=print) -> str:
    """Run every cell of one variant and return its review as markdown."""
    from fidelity.variants import get_variant

    spec = get_variant(variant_name)
    papers = [paper_source(load_paper(pid), papers_dir) for pid in spec.papers]
    absent = {impl: b.provides(spec.name, {}) for impl, b in runner.bindings.items()
              if not b.unavailable() and b.provides(spec.name, {})}
    impl_names = [impl for impl in runner.bindings if impl not in absent]
    order = {c.id: (i, j) for i, p in enumerate(papers) for j, c in enumerate(p.paper.claims)}
    # paper by paper in TOML order, with the citation points last (review-format.md §3)
    claim_ids = sorted(spec.claims, key=lambda cid: (spec.claims[cid].kind == "citation",
                                                     order.get(cid, (len(papers), 0))))
    by_impl: dict[str, list[CellResult]] = {impl: [] for impl in impl_names}
    sections = []
    for cid in claim_ids:
        cells = []
        for impl in impl_names:
            result = runner.run(impl, spec.name, cid)
            progress(result.summary()[:160])
            by_impl[impl].append(result)
            cells.append(_cell_view(result))
        claim = runner.claim(spec, cid)
        paper = next(p for p in papers if p.paper.arxiv_id == claim.paper_id)
        location, quote = paper.locate(claim)
        sections.append({
            "claim": claim,
            "title": claim.title,
            "location": location,
            "quote": quote,
            "check": spec.claims[cid].__repr__(),
            "kind_text": KINDS[claim.kind],
            "cells": cells,
        })
    impls = []
    for impl in impl_names:
        binding = runner.bindings[impl]
        refs = binding.sources(spec.name, "forward") if not binding.unavailable() else []
        impls.append({"label": binding.label, "path": refs[0].path if refs else binding.unavailable() or impl})
    profile = runner.profile
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    text = env.get_template("review.md.j2").render(
        variant=spec, papers=papers, impls=impls, sections=sections, profile=profile,
        witness="; ".join(str(w) for w in (spec.witness, *spec.extra_witnesses)),
        absent=[f"{runner.bindings[i].label} ({why})" for i, why in absent.items()],
        profile_text=f"{max(1, round(profile.max_examples * spec.examples_fraction))} hypothesis examples per property"
        + (f" ({spec.examples_fraction:.0%} of the profile's {profile.max_examples}: the variant's attach is expensive)"
           if spec.examples_fraction < 1.0 else "")
        + (", derandomized" if profile.derandomize else ", random seeds"),
        bottom=[bottom_line(runner.bindings[i].label, rs) for i, rs in by_impl.items()],
    )
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write a file completely or not at all (temp file in the same directory, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _compare(path: Path, text: str) -> bool:
    """--check: print a unified diff and return False when the committed file differs from `text`."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old == text:
        return True
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(path), "now"))
    return False


def summary(results: list[CellResult], problems: list[str]) -> tuple[str, bool]:
    """The end-of-run summary and whether the run failed (an undeclared DEVIATES, a STALE, an ERROR, or a
    declaration that matches no cell)."""
    from fidelity.results import ORDER, outcome

    counts = {o: sum(outcome(r) == o for r in results) for o in ORDER}
    bad = [r for r in results if r.verdict in (Verdict.STALE, Verdict.ERROR)
           or (r.verdict is Verdict.DEVIATES and not r.known_bug)]
    lines = [f"{len(results)} cells: " + ", ".join(f"{n} {o}" for o, n in counts.items() if n)]
    lines += [f"  needs attention: {r.test_id}: {r.verdict.value}" for r in bad]
    lines += [f"  declaration error: {p}" for p in problems]
    return "\n".join(lines), bool(bad or problems)


def main(argv: list[str] | None = None) -> int:
    from fidelity.impls import UnknownImplementation, all_bindings, get_binding
    from fidelity.impls.declarations_file import problems as declaration_problems
    from fidelity.results import document, to_json
    from fidelity.variants import UnknownVariant, all_variants, get_variant

    parser = argparse.ArgumentParser(prog="python -m fidelity.report", description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a variant name (e.g. lora) or 'all' (every review, index.md, results.json)")
    parser.add_argument("--impl", action="append",
                        help="only these implementations (repeatable): a name, or module:object for a binding")
    parser.add_argument("--papers-dir", type=Path, help="where paper PDFs/markdown live (else $FIDELITY_PAPERS_DIR)")
    parser.add_argument("--out", type=Path, default=REVIEWS_DIR, help="output directory (default: reviews/)")
    parser.add_argument("--check", action="store_true", help="write nothing; fail with a diff if a file is out of date")
    args = parser.parse_args(argv)
    try:
        names = sorted(all_variants()) if args.variant == "all" else [get_variant(args.variant).name]
        bindings = {b.name: b for b in map(get_binding, args.impl)} if args.impl else all_bindings()
        runner = Runner(bindings, current_profile())
        problems = [p for b in bindings.values() for p in declaration_problems(b)]
        outputs = []
        for name in names:
            outputs.append((args.out / f"{name}.md", render(name, runner, args.papers_dir)))
            if not args.check:  # each review is written as soon as it is complete
                write_atomically(*outputs[-1])
                print(f"wrote {_shown_path(outputs[-1][0])}")
        if args.variant == "all":
            for cell in runner.cells():  # the cells a review leaves out (a variant an implementation lacks): N/A
                runner.run(*cell)
            tables = [(args.out / "index.md", render_index(runner, names)),
                      (args.out / "results.json", to_json(document(runner, names)))]
            outputs += tables
            if not args.check:
                for path, text in tables:
                    write_atomically(path, text)
                    print(f"wrote {_shown_path(path)}")
    except (UnknownVariant, UnknownImplementation, PaperRecordError, PaperSourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text, failed = summary(runner.results(), problems)
    print(text)
    if args.check:
        stale = [path for path, content in outputs if not _compare(path, content)]
        if stale:
            print(f"out of date: {', '.join(_shown_path(p) for p in stale)}; run python -m fidelity.report "
                  f"{args.variant} and commit the result", file=sys.stderr)
            return 1
    return 1 if failed else 0


def render_index(runner: Runner, names: list[str]) -> str:
    """reviews/index.md: one verdict matrix per paper, from the cells the runner ran."""
    from fidelity.results import ORDER, SCHEMA, SCHEMA_VERSION, matrices, outcome

    results = [r for name in names for r in runner.results(name)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    totals = {o: n for o in ORDER if (n := sum(outcome(r) == o for r in results))}
    text = env.get_template("index.md.j2").render(
        schema=SCHEMA, schema_version=SCHEMA_VERSION, profile=runner.profile, total=len(results), totals=totals,
        implementations=runner.bindings, matrices=matrices(runner, names), order=ORDER)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


if __name__ == "__main__":
    sys.exit(main())
