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
    "SVD and subspace family": (
        "pissa",
        "olora",
        "eva",
        "corda",
        "asvd",
        "lora_xs",
        "antipasto",
        "antipasto_dplr",
        "antipasto_rot",
    ),
    "reparameterisation family": (
        "dora",
        "delora",
        "ia3",
        "ia3_ff",
        "hra",
        "road",
        "vera",
        "adalora",
    ),
}


class BenchError(Exception):
    """A timed command failed: its figure would be meaningless."""


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    run = subprocess.run(
        cmd,
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    if run.returncode:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
        raise BenchError(f"{' '.join(cmd)} exited {run.returncode}:\n{tail}")
    return time.perf_counter() - start


def rows(py: str, out: str):
    """(what, command, extra environment) in the order they are timed; every pytest row runs the ci profile."""
    ci = {"FIDELITY_PROFILE": "ci"}
    yield (
        "`import fidelity.runner` (torch, hypothesis; warm)",
        [py, "-c", "import fidelity.runner"],
        {},
    )
    yield "`import peft` (warm)", [py, "-c", "import peft"], {}
    yield "`pytest fidelity/`", [py, "-m", "pytest", "fidelity/", "-q"], ci
    for family, names in FAMILIES.items():
        yield (
            f"… of which the {family} ({', '.join(names)})",
            [py, "-m", "pytest", "fidelity/test_claims.py", "-q"],
            {**ci, "FIDELITY_VARIANTS": ",".join(names)},
        )
    yield (
        "`pytest fidelity/ -n 2` (pytest-xdist)",
        [py, "-m", "pytest", "fidelity/", "-q", "-n", "2"],
        ci,
    )
    yield "`pytest tests/`", [py, "-m", "pytest", "tests/", "-q"], {}
    yield (
        "`make test` = `pytest fidelity/ tests/ -n auto`",
        [py, "-m", "pytest", "fidelity/", "tests/", "-q", "-n", "auto"],
        ci,
    )
    yield (
        "`python -m fidelity.report antipasto_dplr`",
        [py, "-m", "fidelity.report", "antipasto_dplr", "--out", out],
        ci,
    )
    yield (
        "`python -m fidelity.report all`",
        [py, "-m", "fidelity.report", "all", "--out", out, "-q"],
        ci,
    )
    yield (
        "`python -m fidelity.report all --check` (the freshness gate)",
        [py, "-m", "fidelity.report", "all", "--check", "-q"],
        ci,
    )
    yield (
        "… the same on the compatible code path (`MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default`)",
        [py, "-m", "fidelity.report", "all", "--check", "-q"],
        {**ci, "MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"},
    )
    yield (
        "`make -j2 freshness freshness-paths` (what CI runs after `make test`)",
        ["make", "-j2", "--output-sync=target", "freshness", "freshness-paths"],
        {},
    )
    yield (
        "`python scripts/soak.py --seeds 2` (CI's bounded soak: reference and PEFT, 2 processes)",
        [py, "scripts/soak.py", "--seeds", "2"],
        {},
    )


def main() -> None:
    print(f"| what | wall time on {os.cpu_count()} cores |\n|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as out:
        for name, cmd, env in rows(sys.executable, out):
            print(f"| {name} | {timed(cmd, env):.1f} s |", flush=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        sys.exit(f"bench: {exc}")
