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
        "antipasto_ablate",
        "antipasto_arrow",
        "antipasto_corda",
        "antipasto_asvd",
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


PER_EXAMPLE = """
import time
from fidelity.impls.reference import ReferenceBinding
from fidelity.runner import Runner
runner = Runner({"reference": ReferenceBinding()})
start = time.perf_counter()
results = [runner.run(*cell) for cell in runner.cells("antipasto_dplr")]
seconds = time.perf_counter() - start
examples = sum((r.evidence.examples if r.evidence else 0)
               + (r.alternative.evidence.examples if r.alternative and r.alternative.evidence else 0) for r in results)
print(f"{1000 * seconds / examples:.2f} ms ({examples} examples in {seconds:.2f} s)")
"""

ECOSYSTEM = ("loralib", "lycoris", "adapters", "torchtune")


def ecosystem_rows(py: str):
    """Per library (where `nox` built its environment, .nox/NAME): its session's wall time under CI's --check (the
    environment reused: uv only checks it), then its own attach cost per variant (scripts/attach_cost.py)."""
    for name in ECOSYSTEM:
        env_python = REPO / ".nox" / name / "bin" / "python"
        if not env_python.exists():
            print(f"| `nox -s {name}` | not built here: run `make record-{name}` first |", flush=True)
            continue
        seconds = timed([py, "-m", "nox", "--session", name, "--", "--check", "--quiet"], {"FIDELITY_PROFILE": "ci"})
        print(f"| `nox -s {name} -- --check` (its cells in its environment) | {seconds:.1f} s |", flush=True)
    print("\n| library | variant | its build, ms (witness) | the reference's build, ms |\n|---|---|---|---|", flush=True)
    for name in ECOSYSTEM:
        env_python = REPO / ".nox" / name / "bin" / "python"
        if env_python.exists():
            run = subprocess.run([str(env_python), "scripts/attach_cost.py", name], check=False, cwd=REPO,
                                 capture_output=True, text=True)
            print("\n".join(line for line in run.stdout.splitlines() if line.startswith("|")), flush=True)


def main() -> None:
    print(f"| what | wall time on {os.cpu_count()} cores |\n|---|---|", flush=True)
    run = subprocess.run([sys.executable, "-c", PER_EXAMPLE], check=False, cwd=REPO, capture_output=True, text=True)
    print(f"| one hypothesis example (antipasto_dplr, reference, ci) | {run.stdout.strip() or run.stderr[-200:]} |",
          flush=True)
    with tempfile.TemporaryDirectory() as out:
        for name, cmd, env in rows(sys.executable, out):
            print(f"| {name} | {timed(cmd, env):.1f} s |", flush=True)
    ecosystem_rows(sys.executable)


if __name__ == "__main__":
    try:
        main()
    except BenchError as exc:
        sys.exit(f"bench: {exc}")
