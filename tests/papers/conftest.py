"""Fixtures for the paper-text tests: the synthetic paper, a records directory, a local HTTP server, and an
extraction cache outside the repository."""

from __future__ import annotations

import hashlib
import http.server
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `synthetic_paper`, in any pytest import mode

from synthetic_paper import ARXIV_ID, build_paper  # noqa: E402


@dataclass
class Synthetic:
    """A built synthetic paper: its file, expected lines per page and sha256."""

    path: Path
    expected: dict[int, list[str]]
    sha256: str


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory) -> Synthetic:
    """The synthetic paper, built once per session."""
    path = tmp_path_factory.mktemp("synthetic") / f"{ARXIV_ID}.pdf"
    expected = build_paper(path)
    return Synthetic(path, expected, hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture(autouse=True, scope="session")
def _cache_in_tmp(tmp_path_factory):
    """Keep the extraction cache out of the repository during tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIDELITY_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def records(tmp_path) -> Path:
    """An empty records directory; tests write paper TOMLs into it."""
    d = tmp_path / "records"
    d.mkdir()
    return d


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def http_server():
    """A server on 127.0.0.1 serving `routes` (path -> (status, body)); yields (base_url, routes)."""
    routes: dict[str, tuple[int, bytes]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pdf/", routes
    finally:
        server.shutdown()
        server.server_close()
