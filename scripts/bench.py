"""Benchmark: wall time of the verification and of one review on this machine (not a timed test).

Usage: python scripts/bench.py   (prints a markdown table for the README)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The variant families, each timed on its own through FIDELITY_VARIANTS (the README's table).
FAMILIES = {
    "LoRA and rsLoRA": ("lora",),
    "SVD and subspace family": ("pissa", "olora", "eva", "corda", "asvd", "lora_xs", "antipasto", "antipasto_dplr"),
    "reparameterisation family": ("dora", "delora", "ia3", "ia3_ff", "hra", "road", "vera", "adalora"),
}


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def main() -> None:
    py = sys.executable
    with tempfile.TemporaryDirectory() as out:
        rows = [
            ("`import fidelity.runner` (torch, hypothesis; warm)", timed([py, "-c", "import fidelity.runner"])),
            ("`import peft` (warm)", timed([py, "-c", "import peft"])),
            ("`pytest fidelity/` (ci profile)", timed([py, "-m", "pytest", "fidelity/", "-q"], {"FIDELITY_PROFILE": "ci"})),
            *((f"… of which the {family} ({', '.join(names)})",
               timed([py, "-m", "pytest", "fidelity/test_claims.py", "-q"],
                     {"FIDELITY_PROFILE": "ci", "FIDELITY_VARIANTS": ",".join(names)}))
              for family, names in FAMILIES.items()),
            ("`pytest fidelity/ -n 2` (pytest-xdist, ci profile)",
             timed([py, "-m", "pytest", "fidelity/", "-q", "-n", "2"], {"FIDELITY_PROFILE": "ci"})),
            ("`pytest tests/`", timed([py, "-m", "pytest", "tests/", "-q"])),
            ("`make test` = `pytest fidelity/ tests/ -n auto`",
             timed([py, "-m", "pytest", "fidelity/", "tests/", "-q", "-n", "auto"], {"FIDELITY_PROFILE": "ci"})),
            ("`python -m fidelity.report antipasto_dplr` (ci profile)",
             timed([py, "-m", "fidelity.report", "antipasto_dplr", "--out", out], {"FIDELITY_PROFILE": "ci"})),
            ("`python -m fidelity.report all` (ci profile)",
             timed([py, "-m", "fidelity.report", "all", "--out", out], {"FIDELITY_PROFILE": "ci"})),
            ("`python -m fidelity.report all --check` (the freshness gate)",
             timed([py, "-m", "fidelity.report", "all", "--check", "-q"], {"FIDELITY_PROFILE": "ci"})),
            ("… the same on the compatible code path (`MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default`)",
             timed([py, "-m", "fidelity.report", "all", "--check", "-q"],
                   {"FIDELITY_PROFILE": "ci", "MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"})),
            ("`make -j2 freshness freshness-paths` (what CI runs after `make test`)",
             timed(["make", "-j2", "--output-sync=target", "freshness", "freshness-paths"])),
            ("`python scripts/soak.py --seeds 2` (CI's bounded soak: reference and PEFT, 2 processes)",
             timed([py, "scripts/soak.py", "--seeds", "2"])),
        ]
    print(f"| what | wall time on {os.cpu_count()} cores |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
