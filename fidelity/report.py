"""`python -m fidelity.report <variant>|all`: run a variant's cells on every implementation, write its review.

Prints one line per cell as it completes (verdict, hypothesis examples run, seconds, the exact figures) and a summary
at the end, renders `reviews/<variant>.md` with Jinja (Style R, see ../shared/spec/review-format.md); `all` also
writes `reviews/index.md` (one verdict matrix per paper) and `reviews/results.json` (fidelity/results.py). The
committed files hold the stable form of the evidence (fidelity/stable.py); the exact figures go to the git-ignored
`.cache/fidelity/exact/`. Everything is validated before the first cell runs, and the files of one run are written as
one set or not at all (fidelity/output.py). `--check` writes nothing and exits non-zero, printing a diff, when a
committed file differs from what the code produces now.

Exit status: 0 when every cell is MATCHES, DEVIATES-OK, a declared known bug or N/A; 1 when any is an undeclared
DEVIATES, STALE or ERROR, a declaration matches no cell, or an implementation failed to load (nothing is written
then); 2 on bad input (unknown variant or implementation, a bad profile, a malformed paper record, a missing or
unreadable paper, an output that cannot be written), before any cell runs; 130 when interrupted (nothing written).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from fidelity.inference import infer
from fidelity.kinds import KINDS
from fidelity.output import OutputError, OutputLock, check_writable, write_set
from fidelity.papers.records import Paper, PaperRecordError, load_paper
from fidelity.papers.sources import PaperSourceError
from fidelity.profiles import ProfileError, current_profile
from fidelity.runner import CellResult, Runner, absence
from fidelity.stable import stable
from fidelity.verdicts import Verdict

REPO_ROOT = Path(__file__).resolve().parents[1]
REVIEWS_DIR = REPO_ROOT / "reviews"
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class PaperSource:
    paper: Paper
    source: str  # how the review names the paper text it quotes
    locate: object  # callable(claim) -> (location line "Paper, …", blockquote text or "")
    unavailable: bool = False  # no local text: the quotes are shown unverified


SHARED_PAPERS = REPO_ROOT.parent / "shared" / "papers"  # where CI and developers keep the paper files


def _shown_path(path: Path) -> str:
    """A path as the review shows it, the same wherever the clone lives: inside the repository or the shared
    papers directory (symlinks resolved on both sides) relative to the repository, else just its name."""
    resolved = path.resolve()
    for base, label in ((REPO_ROOT.resolve(), ""), (SHARED_PAPERS.resolve(), "../shared/papers/")):
        if resolved.is_relative_to(base):
            return f"{label}{resolved.relative_to(base)}"
    return path.name


def _console_path(path: Path) -> str:
    """A path as progress lines show it: relative to the working directory when inside it, else absolute."""
    path = path.absolute()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


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
                                          "quote not verified)", claim.quote), unavailable=True)

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
        return "MATCHES."  # one vocabulary: a citation found is MATCHES too (its evidence says what was found)
    if v is Verdict.DEVIATES_OK:
        d = result.declaration
        return f"DEVIATES-OK. {d.rationale}; preserved: {', '.join(d.preserves) or 'none declared'}."
    if v is Verdict.DEVIATES and result.known_bug:
        return f"DEVIATES (known: {result.declaration.link})."
    if v is Verdict.DEVIATES:
        head = ev.token if ev and ev.token else "DEVIATES"
        extra = f" {result.reason}." if result.reason else ""
        return f"{head}.{extra} {stable(ev.observation) if ev else ''}".rstrip()
    if v is Verdict.STALE:
        return f"STALE. The declaration for {result.claim.id} no longer applies: the paper's property now holds."
    if v is Verdict.NA:
        return f"N/A ({result.run.error})."
    return f"ERROR. {stable(result.run.error)}"


_LINE_END_HYPHEN = re.compile(r"\b([a-z]+)- ([a-z]+)\b|\b([A-Z]+)- ([A-Z]+)\b")
_LIGATURES = str.maketrans({"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"})


def quote_reading(claim, quote: str) -> str:
    """How to read a located quote whose text extraction damaged it: the claim's own `reading` (mathematics the
    extraction flattened: a fraction, a superscript, a ⊙ sign), else the quote with line-end hyphens joined
    ("LAN- GUAGE"); "" when the quote reads as located."""
    if not quote:
        return ""
    if claim.reading:
        return f"{claim.reading}. This is what the check encodes; the quote above is the extraction as located."
    joined = _LINE_END_HYPHEN.sub(lambda m: "".join(g for g in m.groups() if g), quote)
    if joined == quote:
        return ""
    return f"“{joined.translate(_LIGATURES)}” (the extraction left a line-end hyphen in the located text)."


def _one_line_calls(text: str) -> str:
    """Hypothesis prints a failing example's call over one line per argument; a review shows it on one line."""
    return re.sub(r",?\n\)", ")", re.sub(r"\(\s+", "(", re.sub(r"\n[ \t]+", " ", text)))


def _cell_view(result: CellResult, check=None, spec=None) -> dict:
    ev = result.evidence
    refs = [s for s in result.sources if s.lines]
    if result.run.error and result.verdict is Verdict.ERROR:
        observation = f"the check raised: {stable(result.run.error)}"
    elif result.verdict is Verdict.NA:
        observation = result.run.error
    else:
        observation = stable(ev.observation)
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
        "falsifying": _one_line_calls(stable(ev.falsifying).strip()) if ev and ev.falsifying else "",
        "inference": infer(result, check, spec),
        "verdict_line": verdict_line(result),
    }


# The verdict words as the review's summary defines them (one vocabulary: a citation found is MATCHES there too)
VERDICT_LEGEND = (
    ("MATCHES", "the implementation does what the paper states, measured"),
    ("DEVIATES-OK", "it departs on purpose, says so in its own docs or code, and the property it keeps instead holds"),
    ("known bug", "it departs without saying so; the departure is declared with its evidence (a strict xfail)"),
    ("DEVIATES", "it departs and nobody has declared it: a finding"),
    ("STALE", "a declared departure that no longer happens: the declaration is out of date"),
    ("N/A", "the implementation lacks the option or path the claim needs (the reason is given)"),
    ("ERROR", "the check could not conclude (the error is shown, never a pass)"),
)


def _first_sentence(text: str, limit: int = 220) -> str:
    """The first sentence of `text` (at a period followed by a space), cut at `limit` characters."""
    head = re.split(r"(?<=[.;])\s(?=[A-Z])", text.strip(), maxsplit=1)[0].rstrip(".;")
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "…"


def _summary(sections: list[dict], by_impl: dict[str, list[CellResult]], labels: list[str]) -> dict:
    """The review's first screen: claim × implementation → verdict (linked to its point), every departure from the
    paper with one line of why, and the verdict legend."""
    from fidelity.results import outcome

    rows = [{"index": i + 1, "title": s["title"].replace("|", "\\|"), "id": s["claim"].id, "anchor": s["claim"].anchor,
             "verdicts": [outcome(results[i]) for results in by_impl.values()]} for i, s in enumerate(sections)]
    departures = []
    for label, results in zip(labels, by_impl.values()):
        for i, r in enumerate(results):
            verdict = outcome(r)
            if verdict in ("MATCHES", "N/A"):
                continue
            if r.declaration is not None and verdict in ("DEVIATES-OK", "known bug", "STALE"):
                why = _first_sentence(r.declaration.rationale)
                where = r.declaration.link
            elif r.run.error:
                why, where = _first_sentence(stable(r.run.error)), ""
            else:
                why, where = _first_sentence(stable(r.evidence.observation) if r.evidence else r.reason), ""
            departures.append({"label": label, "index": i + 1, "id": r.claim.id, "anchor": r.claim.anchor,
                               "verdict": verdict, "why": why, "where": where})
    return {"labels": labels, "rows": rows, "departures": departures, "legend": VERDICT_LEGEND}


def bottom_line(label: str, results: list[CellResult]) -> str:
    """One paragraph per implementation: no real bugs, or each real bug with its section number."""
    from fidelity.results import outcome

    counts = {}
    for r in results:
        counts[outcome(r)] = counts.get(outcome(r), 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    bad = [(i + 1, r) for i, r in enumerate(results)
           if r.verdict in (Verdict.DEVIATES, Verdict.STALE, Verdict.ERROR)]
    if not bad:
        ok = sum(r.verdict in (Verdict.MATCHES, Verdict.DEVIATES_OK) for r in results)
        return (f"**{label}**: no real bugs: {ok} of {len(results)} points MATCH or DEVIATE-OK ({tally}); "
                f"citation correct." if ok == len(results) else f"**{label}**: no real bugs found ({tally}).")
    listed = "; ".join(f"§{i} `{r.claim.id}` {r.verdict.value}{' (known)' if r.known_bug else ''}" for i, r in bad)
    return f"**{label}**: {len(bad)} point(s) need attention: {listed} ({tally})."


def claim_order(spec, papers: list[Paper]) -> list[str]:
    """The review's points: paper by paper in TOML order, with the citation points last (review-format.md §3)."""
    order = {c.id: (i, j) for i, p in enumerate(papers) for j, c in enumerate(p.claims)}
    return sorted(spec.claims, key=lambda cid: (spec.claims[cid].kind == "citation", order.get(cid, (len(papers), 0))))


def render(variant_name: str, runner: Runner, papers_dir: Path | None, progress=print,
           sources: dict[str, PaperSource] | None = None, figures: dict[str, str] | None = None) -> str:
    """Run every cell of one variant and return its review as markdown (paper texts from `sources` when given, as
    `prepare` resolved them, else from `papers_dir`); its figures go into `figures` (`figures/NAME.svg` -> SVG) when
    given, and the review links them."""
    from fidelity.variants import get_variant

    spec = get_variant(variant_name)
    papers = [(sources or {}).get(pid) or paper_source(load_paper(pid), papers_dir) for pid in spec.papers]
    absent = {impl: why for impl, b in runner.bindings.items() if (why := absence(b, spec))}
    impl_names = [impl for impl in runner.bindings if impl not in absent]
    claim_ids = claim_order(spec, [p.paper for p in papers])
    by_impl: dict[str, list[CellResult]] = {impl: [] for impl in impl_names}
    sections = []
    for cid in claim_ids:
        cells, plots = [], []
        for impl in impl_names:
            result = runner.run(impl, spec.name, cid)
            plots.append((runner.bindings[impl].label, result.evidence.figure if result.evidence else {}))
            progress(result.summary()[:160])
            by_impl[impl].append(result)
            cells.append(_cell_view(result, spec.claims[cid], spec))
        claim = runner.claim(spec, cid)
        paper = next(p for p in papers if p.paper.arxiv_id == claim.paper_id)
        location, quote = paper.locate(claim)
        sections.append({
            "claim": claim,
            # two citation points read "Citation": name the paper
            "title": f"{claim.title} of {paper.paper.short_name}" if claim.title == "Citation" else claim.title,
            "location": location,
            "quote": quote,
            "reading": quote_reading(claim, quote),
            "figure": _figure(figures, spec.name, claim, plots),
            "check": spec.claims[cid].__repr__(),
            "kind_text": KINDS[claim.kind],
            "cells": cells,
        })
    _refer_to_earlier_code(sections, len(impl_names))
    for section in sections:
        section["groups"] = _group_same_results(section["cells"])
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
        absent=_absent_lines(spec.name, runner, absent),
        profile_text=f"{max(1, round(profile.max_examples * spec.examples_fraction))} hypothesis examples per property"
        + (f" ({spec.examples_fraction:.0%} of the profile's {profile.max_examples}: the variant's attach is expensive)"
           if spec.examples_fraction < 1.0 else "")
        + f", {profile.describe()}",
        bottom=[bottom_line(runner.bindings[i].label, rs) for i, rs in by_impl.items()],
        summary=_summary(sections, by_impl, [runner.bindings[i].label for i in impl_names]),
    )
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)  # the template's blocks leave runs of blank lines


def _absent_lines(variant: str, runner: Runner, absent: dict[str, str]) -> list[str]:
    """The implementations without the variant, those that do not bind it at all named together in one entry."""
    unbound = [runner.bindings[i].label for i, why in absent.items() if why == f"no {variant} in {i}, or not bound yet"]
    lines = [f"{runner.bindings[i].label} ({why})" for i, why in absent.items()
             if runner.bindings[i].label not in unbound]
    if unbound:
        lines.append(f"{', '.join(unbound)} (no {variant} in the library, or not bound yet)")
    return lines


def _refer_to_earlier_code(sections: list[dict], columns: int) -> None:
    """Each implementation's distinct code excerpt is shown once: a later point quoting the same lines refers to the
    first point that showed them (`same_as`)."""
    for column in range(columns):
        shown: dict[tuple, int] = {}
        for index, section in enumerate(sections, start=1):
            cell = section["cells"][column]
            key = (cell["code_cite"], tuple(cell["code_lines"]))
            cell["same_as"] = shown.get(key, 0) if cell["sources"] else 0
            if cell["sources"] and key not in shown:
                shown[key] = index


def _figure(figures: dict[str, str] | None, variant: str, claim, plots: list[tuple[str, dict]]) -> str:
    """Draw the point's figure into `figures` and return its path relative to the review ("" when it has none)."""
    from fidelity.figures import FIGURE_KINDS, draw

    if figures is None or claim.kind not in FIGURE_KINDS:
        return ""
    svg = draw(claim.kind, f"{variant}: {claim.id}", plots)
    if svg is None:
        return ""
    name = f"figures/{variant}-{claim.anchor}.svg"
    figures[name] = svg
    return name


def _group_same_results(cells: list[dict]) -> list[dict]:
    """Implementations with the same observation, inference and verdict on one point share one block (each still
    shows its own code), so a six-implementation review does not say the same thing six times."""
    groups: dict[tuple, dict] = {}
    for cell in cells:
        key = (cell["inference"], cell["verdict_line"])
        group = groups.setdefault(key, {"cells": [], "inference": cell["inference"],
                                        "verdict_line": cell["verdict_line"]})
        group["cells"].append(cell)
    for group in groups.values():
        group["labels"] = ", ".join(c["impl_label"] for c in group["cells"])
        # one observation when the implementations measured the same, else each its own (e.g. its KS statistic)
        seen: dict[tuple, list[str]] = {}
        for c in group["cells"]:
            seen.setdefault((c["observation"], c["falsifying"]), []).append(c["impl_label"])
        shared = len(seen) == 1
        group["observations"] = [{"who": "" if shared else ", ".join(who), "text": obs, "falsifying": fals}
                                 for (obs, fals), who in seen.items()]
    return list(groups.values())


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


class ReportError(Exception):
    """Bad input, found before any cell runs (or an output that cannot be written): one line, exit 2."""


_COMMITTED_PAPER = re.compile(r"^Paper: (.*) \(arXiv:(\d{4}\.\d{4,5})v", re.MULTILINE)


def _committed_texts(review: Path) -> dict[str, bool]:
    """arXiv id -> whether the committed review quotes that paper from a located text."""
    if not review.is_file():
        return {}
    text = review.read_text(encoding="utf-8")
    return {pid: not source.startswith("no local text") for source, pid in _COMMITTED_PAPER.findall(text)}


@dataclass
class Plan:
    """Everything a run needs, validated before its first cell: variants, bindings, papers, where to write."""

    names: list[str]
    runner: Runner
    sources: dict[str, PaperSource]
    problems: list[str]
    out: Path


def prepare(args: argparse.Namespace) -> Plan:
    """Validate the whole request up front (ReportError, one line): profile, variants, implementations, every paper
    of every variant (its record, its text, and that a committed review quoting it verified does not lose that), and
    that the output directory can be written."""
    from fidelity.impls import UnknownImplementation, all_bindings, get_binding
    from fidelity.impls.declarations_file import problems as declaration_problems
    from fidelity.papers.sources import require_papers_dir
    from fidelity.variants import UnknownVariant, all_variants, get_variant

    try:
        profile = current_profile()
        names = sorted(all_variants()) if args.variant == "all" else [get_variant(args.variant).name]
        bindings = {b.name: b for b in map(get_binding, args.impl)} if args.impl else all_bindings()
        if args.environment_error:
            from fidelity.impls import BrokenBinding

            bindings = {name: BrokenBinding(name, args.environment_error, like=b) for name, b in bindings.items()}
        # a recording holds cells, not quotes: it needs the papers' records, not their texts
        unquoted = args.record or (args.allow_unverified and not args.papers_dir)
        papers_dir = None if unquoted else require_papers_dir(args.papers_dir)
        paper_ids = list(dict.fromkeys(pid for name in names for pid in get_variant(name).papers))
        sources = {pid: paper_source(load_paper(pid), papers_dir) for pid in paper_ids}
    except (ProfileError, UnknownVariant, UnknownImplementation, PaperRecordError, PaperSourceError) as exc:
        raise ReportError(str(exc)) from None
    if args.out.resolve() == REVIEWS_DIR.resolve() and (profile.name != "ci" or profile.seed is not None):
        raise ReportError(f"reviews/ holds the committed reviews, written under the derandomized ci profile; this run "
                          f"is `{profile.name}` ({profile.describe()}): write it elsewhere with --out DIR")
    if not (args.allow_unverified or args.record):
        for name in names:
            for pid, had_text in _committed_texts(args.out / f"{name}.md").items():
                if had_text and pid in sources and sources[pid].unavailable:
                    raise ReportError(f"{_console_path(args.out / f'{name}.md')} quotes arXiv:{pid} from its text, "
                                      f"which is not found here ({sources[pid].source}); point --papers-dir at the "
                                      "papers, or pass --allow-unverified to write reviews without verified quotes")
    if not args.check:
        try:
            check_writable(args.out)
        except OutputError as exc:
            raise ReportError(str(exc)) from None
    if args.impl and not args.record:  # an implementation asked for by name must have something to review
        for binding in bindings.values():
            refused = [why for name in names if (why := absence(binding, get_variant(name)))]
            if len(refused) == len(names):
                what = names[0] if len(names) == 1 else "any variant"
                raise ReportError(f"--impl {binding.name} provides no cell of {what}: {refused[0]} (its provides() "
                                  "refuses every claim's options)")
    problems = [p for b in bindings.values() for p in declaration_problems(b)]
    return Plan(names, Runner(bindings, profile), sources, problems, args.out)


def produce(plan: Plan, everything: bool, progress=print, record: bool = False) -> dict[str, str]:
    """Run the cells and render the set of files (name in the output directory -> text); `record`: only the one
    implementation's results file, `recorded/IMPL.json`."""
    from fidelity.results import document, recorded_document, to_json

    if record:
        (impl,) = plan.runner.bindings
        for cell in plan.runner.cells():
            progress(plan.runner.run(*cell).summary()[:160])
        return {f"recorded/{impl}.json": to_json(recorded_document(plan.runner, plan.names, impl))}

    figures: dict[str, str] = {}
    files = {f"{name}.md": render(name, plan.runner, None, progress, plan.sources, figures) for name in plan.names}
    files.update(figures)
    if everything:
        for cell in plan.runner.cells():  # the cells a review leaves out (a variant an implementation lacks): N/A
            plan.runner.run(*cell)
        files["index.md"] = render_index(plan.runner, plan.names)
        files["results.json"] = to_json(document(plan.runner, plan.names))
        files["matrix.html"] = matrix_page(plan.runner, plan.names)
    return files


def write_exact(plan: Plan, everything: bool, record: bool = False) -> Path | None:
    """The run's exact figures (console precision, every measured number) in the git-ignored cache: never committed,
    since rounding-level numbers differ between machines. Returns where, or None when the cache cannot be written."""
    from fidelity.papers.text import cache_dir
    from fidelity.results import document, to_json

    name = f"recorded-{next(iter(plan.runner.bindings))}" if record else "results" if everything else plan.names[0]
    path = cache_dir() / "exact" / f"{name}.json"
    try:
        write_atomically(path, to_json(document(plan.runner, plan.names, exact=True)))
    except OSError:
        return None
    return path


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of `python -m fidelity.report`."""
    parser = argparse.ArgumentParser(prog="python -m fidelity.report", description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a variant name (e.g. lora) or 'all' (every review, index.md, results.json)")
    parser.add_argument("--impl", action="append",
                        help="only these implementations (repeatable): a name, or module:object for a binding")
    parser.add_argument("--papers-dir", type=Path,
                        help="where paper PDFs/markdown live (else $FIDELITY_PAPERS_DIR, else ../shared/papers)")
    parser.add_argument("--out", type=Path, default=REVIEWS_DIR, help="output directory (default: reviews/)")
    parser.add_argument("--check", action="store_true", help="write nothing; fail with a diff if a file is out of date")
    parser.add_argument("--allow-unverified", action="store_true",
                        help="write reviews even where a paper's text is missing (its quotes then unverified)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line per cell, only the summary")
    parser.add_argument("--record", action="store_true",
                        help="with all and one --impl: write only that implementation's results file, "
                        "OUT/recorded/IMPL.json, for the main environment to render (noxfile.py)")
    parser.add_argument("--environment-error", metavar="LINE",
                        help="with --record: the implementation's environment failed to build; record every cell "
                        "ERROR with this line")
    args = parser.parse_args(argv)
    if args.record and (args.variant != "all" or not args.impl or len(args.impl) != 1):
        parser.error("--record records every variant of one implementation: give all and exactly one --impl")
    if args.environment_error and not args.record:
        parser.error("--environment-error goes with --record")
    return args


def say(text: str) -> None:
    """Print to stdout; a reader that went away (`| head`) silences the console, never the run or its writes."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    written: list = []  # becomes [True] once the new set is in place
    try:
        plan = prepare(args)
        # a recording replaces one file atomically and recordings of the libraries run side by side: no lock on OUT
        with contextlib.nullcontext() if args.check or args.record else OutputLock(args.out):
            return _run(plan, args, written)
    except (ReportError, OutputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        what = "the new files had been written completely" if written else \
            f"nothing was written; {_console_path(args.out)} is unchanged"
        print(f"\ninterrupted: {what}", file=sys.stderr)
        return 130


def _run(plan: Plan, args: argparse.Namespace, written: list) -> int:
    """Run the cells, print the summary, then compare (--check) or write the set; the exit status."""
    everything = args.variant == "all"
    files = produce(plan, everything, progress=(lambda line: None) if args.quiet else say, record=args.record)
    exact_path = write_exact(plan, everything, args.record)
    text, failed = summary(plan.runner.results(), plan.problems)
    say(text)
    if exact_path is not None:
        say(f"exact figures: {_console_path(exact_path)}")
    broken = {name: b.broken() for name, b in plan.runner.bindings.items() if b.broken() and not args.record}
    shown = {r.impl for r in plan.runner.results()}
    broken |= {name: b.stale for name, b in plan.runner.bindings.items() if getattr(b, "stale", "") and name in shown}
    if args.check:
        stale = [name for name, content in files.items() if not _compare(args.out / name, content)]
        if stale:
            print(f"out of date: {', '.join(_console_path(args.out / n) for n in stale)}; run python -m "
                  f"fidelity.report {args.variant} and commit the result", file=sys.stderr)
            return 1
    elif broken:
        print(f"not written: {', '.join(broken)} failed to load ({next(iter(broken.values()))}); the committed "
              f"reviews keep their cells; fix it, or leave it out with --impl", file=sys.stderr)
        return 1
    else:
        for directory, group in _by_directory(args.out, files).items():
            write_set(directory, group, written)
        for name in files:
            say(f"wrote {_console_path(args.out / name)}")
    return 1 if failed else 0


def _by_directory(out: Path, files: dict[str, str]) -> dict[Path, dict[str, str]]:
    """The set's files grouped by the directory they go to (a recorded file goes to OUT/recorded/)."""
    groups: dict[Path, dict[str, str]] = {}
    for name, text in files.items():
        groups.setdefault((out / name).parent, {})[Path(name).name] = text
    return groups


def matrix_page(runner: Runner, names: list[str]) -> str:
    """reviews/matrix.html (fidelity/matrix.py), its claims in each review's order."""
    from fidelity.matrix import page
    from fidelity.variants import get_variant

    order = {}
    for name in names:
        spec = get_variant(name)
        order[name] = claim_order(spec, [load_paper(pid) for pid in spec.papers])
    return page(runner, names, order)


def render_index(runner: Runner, names: list[str]) -> str:
    """reviews/index.md: one verdict matrix per paper, from the cells the runner ran."""
    from fidelity.results import ORDER, SCHEMA, SCHEMA_VERSION, by_implementation, matrices

    results = [r for name in names for r in runner.results(name)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined, autoescape=False)
    summary = by_implementation(runner, names)  # totals over the variants each implementation provides
    totals = {o: n for o in ORDER if (n := sum(row["counts"][o] for row in summary))}
    absent = len(results) - sum(row["total"] for row in summary)
    text = env.get_template("index.md.j2").render(
        schema=SCHEMA, schema_version=SCHEMA_VERSION, profile=runner.profile, total=len(results) - absent,
        totals=totals, absent=absent,
        implementations=runner.bindings, matrices=matrices(runner, names), order=ORDER,
        summary=summary, variants=names)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


if __name__ == "__main__":
    sys.exit(main())
