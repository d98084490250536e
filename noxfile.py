"""The ecosystem matrix: one pinned environment per third-party implementation (they cannot share one).

`nox` runs every session; `nox -s lycoris` one. A session builds its environment with uv (torch 2.13.0, CPU, in the
same install command as everything that depends on it), runs that implementation's cells and writes its results file,
`reviews/recorded/<name>.json`, which `python -m fidelity.report all` in the main environment renders into the reviews,
the index and results.json beside the reference and PEFT (`nox -s lycoris -- --check`: compare instead of write).

An environment that fails to build still writes its file: every cell of that implementation ERROR, with the
installer's first error line; the other sessions run on.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import nox

# name -> the exact pins of its environment, beside torch and the suite. Keep in step with fidelity/impls/<name>/.
LIBRARIES = {
    "loralib": ["loralib==0.1.2"],
    "lycoris": ["lycoris-lora==4.1.3"],
    "adapters": ["adapters==1.3.0", "transformers==4.57.6"],
    "torchtune": ["torchtune==0.6.1", "torchao==0.14.1"],
}
TORCH = "torch==2.13.0"

nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.sessions = list(LIBRARIES)


def _uv_environment() -> dict[str, str]:
    """uv does not read pip's configuration: give it pip's find-links (where a CPU torch wheel is kept), or else ask
    for PyTorch's CPU builds (without either, torch==2.13.0 resolves to a CUDA build and gigabytes of nvidia packages)."""
    env = {}
    try:
        links = subprocess.run(["pip", "config", "get", "global.find-links"], capture_output=True, text=True,
                               check=False).stdout.strip()
    except OSError:
        links = ""
    if links and "UV_FIND_LINKS" not in os.environ:
        env["UV_FIND_LINKS"] = links
    elif not links and "UV_TORCH_BACKEND" not in os.environ:
        env["UV_TORCH_BACKEND"] = "cpu"
    return env


def _first_error(output: str) -> str:
    """The installer's first error line (uv prints `error: …` or `× …`) with the cause uv gives on the next line
    (`cause: Because there is no version of …`), else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.lower().startswith(("error", "×")):
            cause = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].lower().startswith(("cause", "╰─▶")) else ""
            return f"{line} ({cause})" if cause else line
    return lines[-1] if lines else "the installer failed without a message"


def _install(session: nox.Session, packages: list[str]) -> str:
    """Install into the session's environment; '' on success, else the installer's first error line."""
    uv = [sys.executable, "-m", "uv"] if importlib.util.find_spec("uv") else ["uv"]
    command = [*uv, "pip", "install", "--python", session.virtualenv.location, "--quiet", TORCH, *packages]
    session.log(" ".join(command))
    done = subprocess.run(command, check=False, capture_output=True, text=True,
                          env={**os.environ, **_uv_environment()})
    return "" if done.returncode == 0 else _first_error(done.stderr + done.stdout)


def ecosystem(session: nox.Session, library: str) -> None:
    """One implementation's cells in its own pinned environment -> reviews/recorded/<library>.json."""
    failure = _install(session, ["-e", "."])
    if failure:
        session.error(f"the suite itself did not install: {failure}")
    failure = _install(session, LIBRARIES[library])
    extra = ["--environment-error", f"its environment failed to build: {failure}"] if failure else []
    session.run("python", "-m", "fidelity.report", "all", "--impl", library, "--record", *extra, *session.posargs,
                env={"FIDELITY_PROFILE": "ci", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})


def _session(library: str):
    def run(session: nox.Session) -> None:
        ecosystem(session, library)

    run.__doc__ = f"{library} ({', '.join(LIBRARIES[library])}): its cells -> reviews/recorded/{library}.json"
    return nox.session(python="3.11", name=library)(run)


for _library in LIBRARIES:
    _session(_library)
