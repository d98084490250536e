"""Soak: run the verification under fresh seeds and report every verdict that differs from the committed one.

A cell whose verdict changes with the seed is a false alarm (or a missed finding) of its check, never of the
implementation: the committed verdicts (reviews/results.json, ci profile) are what a correct check gives on every
draw. Each false alarm is printed with the seed and the command that reproduces it.

Usage:
    python scripts/soak.py --seeds 200                    # 200 dev seeds of every reference and PEFT cell
    python scripts/soak.py --seeds 0 --thorough 10 --impl reference   # 10 thorough runs of the reference
    python scripts/soak.py --seeds 3 --base-seed 1234     # what CI runs (its base seed derives from the commit)

Seeds are base, base + 1, …; the base defaults to the current commit (its first 8 hex digits), so a failure in CI
reproduces from the commit alone. Runs in --jobs processes (default: every core). Exit 1 on any false alarm.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def commit_seed() -> int:
    """The first 8 hex digits of HEAD as an integer (0 outside a git checkout)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        return int(head.stdout.strip()[:8], 16)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def uncommitted() -> bool:
    """Whether the checkout has uncommitted changes to tracked files (the run would not be the commit's)."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    return bool(status.stdout.strip())


def committed_verdicts() -> dict[tuple[str, str, str], str]:
    """(implementation, variant, claim) -> the committed outcome ("MATCHES", "known bug", …)."""
    doc = json.loads((REPO / "reviews" / "results.json").read_text(encoding="utf-8"))
    return {(c["implementation"], c["variant"], c["claim"]):
            "known bug" if c["verdict"] == "DEVIATES" and c["known_bug"] else c["verdict"] for c in doc["cells"]}


# Checks whose recorded "worst margin" is a physical ratio (a bound the paper's math attains, how far an update leaves a
# subspace), not an error over its rounding tolerance: left out of the closest-to-threshold list.
PHYSICAL = ("NormBound(", "NearIdentity(", "Confinement(confined=False")
CLOSE = 0.25  # a passing margin above this is listed: less than 4× from flipping


def _run(job: tuple[str, int, tuple[str, ...], tuple[str, ...]]) -> dict:
    """One seeded run of the chosen cells, in a worker process."""
    profile_name, seed, impls, variants = job
    from fidelity.impls import all_bindings
    from fidelity.profiles import PROFILES
    from fidelity.results import outcome
    from fidelity.runner import Runner

    bindings = {name: b for name, b in all_bindings().items() if name in impls}
    runner = Runner(bindings, PROFILES[profile_name].seeded(seed))
    start = time.perf_counter()
    cells = {}
    for cell in runner.cells():
        if variants and cell[1] not in variants:
            continue
        result = runner.run(*cell)
        ev = result.evidence
        rounding = ev is not None and ev.passed and not result.check.startswith(PHYSICAL)
        cells[cell] = {"outcome": outcome(result), "summary": result.summary(),
                       "margin": ev.measured.get("worst_margin") if rounding else None}
    return {"profile": profile_name, "seed": seed, "cells": cells, "seconds": time.perf_counter() - start}


def reproduce(profile: str, seed: int, cell: tuple[str, str, str]) -> str:
    impl, variant, claim = cell
    return (f"FIDELITY_PROFILE={profile} FIDELITY_SEED={seed} FIDELITY_VARIANTS={variant} FIDELITY_IMPLS={impl} "
            f"python -m pytest fidelity/test_claims.py -k '{impl}-{variant}-{claim}'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="dev-profile runs, one per seed (default 20)")
    parser.add_argument("--thorough", type=int, default=0, help="thorough-profile runs (default 0)")
    parser.add_argument("--impl", default="reference,peft", help="implementations (default reference,peft)")
    parser.add_argument("--variants", default="", help="only these variants (comma-separated)")
    parser.add_argument("--base-seed", type=int, default=None, help="first seed (default: from the commit)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    base = commit_seed() if args.base_seed is None else args.base_seed
    impls = tuple(i for i in args.impl.split(",") if i)
    variants = tuple(v for v in args.variants.split(",") if v)
    jobs = [("dev", base + i, impls, variants) for i in range(args.seeds)]
    jobs += [("thorough", base + args.seeds + i, impls, variants) for i in range(args.thorough)]
    expected = committed_verdicts()
    print(f"soak: {args.seeds} dev and {args.thorough} thorough run(s) of {', '.join(impls)}"
          f"{' (' + ', '.join(variants) + ')' if variants else ''}, seeds {base}…{base + len(jobs) - 1}, "
          f"{args.jobs} process(es)", flush=True)

    if uncommitted():
        print("soak: warning: uncommitted changes; the workers import the code as they go, so the run is not the "
              "commit's, and an edit during it can break it: run it from a clean `git worktree`", flush=True)
    alarms, runs, worst = [], defaultdict(int), defaultdict(lambda: (0.0, None))
    start = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: nothing torch set up is shared
    with ctx.Pool(args.jobs, maxtasksperchild=8) as pool:
        for done in pool.imap_unordered(_run, jobs):
            profile, seed = done["profile"], done["seed"]
            flagged = 0
            for cell, got in done["cells"].items():
                runs[profile] += 1
                want = expected.get(cell)
                if got["margin"] is not None and got["margin"] > worst[cell][0]:
                    worst[cell] = (got["margin"], (profile, seed))
                if want is not None and got["outcome"] != want:
                    flagged += 1
                    alarms.append((profile, seed, cell, want, got))
                    print(f"FALSE ALARM {profile} seed {seed}: {'-'.join(cell)}: {got['outcome']} (committed: {want})\n"
                          f"  {got['summary'][:400]}\n  reproduce: {reproduce(profile, seed, cell)}", flush=True)
            print(f"  {profile} seed {seed}: {len(done['cells'])} cells in {done['seconds']:.0f} s, "
                  f"{flagged} false alarm(s)", flush=True)

    print(f"\n{sum(runs.values())} cell runs ({runs['dev']} dev, {runs['thorough']} thorough) in "
          f"{time.perf_counter() - start:.0f} s: {len(alarms)} false alarm(s) in "
          f"{len({(p, s) for p, s, *_ in alarms})} run(s)")
    close = sorted(((m, cell, where) for cell, (m, where) in worst.items() if m > CLOSE), reverse=True)
    print(f"{len(close)} cell(s) came within {1 / CLOSE:g}× of their tolerance"
          + (" (the worst error/tolerance of a passing run):" if close else "."))
    for margin, cell, (profile, seed) in close:
        print(f"  {margin:.3g}  {'-'.join(cell)} ({profile} seed {seed})")
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
