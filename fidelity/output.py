"""Writing a run's files as one set: all of them or none, never a mix of two runs.

`python -m fidelity.report` renders every review, the index and the results in memory, then hands them here:
`write_set` stages them in a hidden directory beside their targets (a full disk or a read-only file system fails
there, before anything is replaced) and swaps them in with SIGINT and SIGTERM held, restoring the old files if a swap
fails. `OutputLock` keeps a second report from writing the same directory at the same time. Every failure is an
`OutputError` with one line that says what to do.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
from pathlib import Path


class OutputError(Exception):
    """The output directory cannot be written; the message says which path and what to do."""


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(directory: Path) -> None:
    """Fail before any cell runs when `directory` (or the ancestor it would be created in) cannot be written."""
    base = _existing_ancestor(directory)
    if not base.is_dir():
        raise OutputError(f"cannot write to {directory}: {base} is not a directory; pass --out DIR")
    try:
        probe = tempfile.NamedTemporaryFile(dir=base, prefix=".fidelity-probe-")
        probe.close()
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc} ({base}); pass --out DIR naming a "
                          "writable directory") from None


class OutputLock:
    """An exclusive lock on the output directory for the whole run: a second writer is refused with one line."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.fd: int | None = None

    def __enter__(self) -> "OutputLock":
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.directory, os.O_RDONLY)
        except OSError as exc:
            raise OutputError(f"cannot write to {self.directory}: {exc.strerror or exc}; pass --out DIR") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise OutputError(f"another `python -m fidelity.report` is writing {self.directory}; wait for it to "
                              "finish, or write elsewhere with --out DIR") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM are delivered after the block, not inside it (the swap is never left half done)."""
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_set(directory: Path, files: dict[str, str], done: list | None = None) -> None:
    """Write `files` (name in `directory` -> text) so that either all of them are replaced or none is.

    `done` (a list) receives True once the new set is in place, before held signals are delivered, so a caller that
    catches a KeyboardInterrupt knows whether it came after the write.
    """
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    backup = staging / ".old"
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        backup.mkdir()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write {directory / name}: {exc.strerror or exc}; nothing was written (the files "
                          "there are unchanged)") from None
    with _signals_held():
        moved: list[str] = []
        try:
            for name in files:
                target = directory / name
                if target.exists():
                    os.replace(target, backup / name)
                moved.append(name)
                os.replace(staging / name, target)
        except OSError as exc:
            failed = directory / name
            for old in reversed(moved):  # put the old set back
                if (backup / old).exists():
                    os.replace(backup / old, directory / old)
                else:
                    (directory / old).unlink(missing_ok=True)
            raise OutputError(f"cannot replace {failed}: {exc.strerror or exc}; the old files were restored") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if done is not None:
            done.append(True)
