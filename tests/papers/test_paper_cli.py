"""`python -m fidelity.papers`: output and exit codes; bad input is one line on stderr and exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from synthetic_paper import ARXIV_ID, QUOTE_MATH, REPO, paper_toml

from fidelity.papers.__main__ import main


@pytest.fixture
def setup(tmp_path, synthetic, records):
    """A papers dir with the synthetic PDF and a records dir with its TOML; returns the common CLI flags."""
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(synthetic.path, papers / f"{ARXIV_ID}.pdf")
    (records / f"{ARXIV_ID}.toml").write_text(paper_toml(synthetic.sha256), encoding="utf-8")
    return ["--papers-dir", str(papers), "--records-dir", str(records)]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_prints_numbered_lines_with_markers(capsys, synthetic):
    code, out, err = _run(capsys, "extract", str(synthetic.path))
    assert code == 0 and err == ""
    assert "# arXiv stamp: arXiv:2401.00001v2 [cs.LG] 1 Jan 2024" in out
    assert "== page 2 ==" in out
    assert "-- 2.1 Low-Rank Updates --" in out
    assert "   18  We scale ∆Wx by αr, where α is a constant in r." in out


def test_locate_found(capsys, setup):
    code, out, _ = _run(capsys, "locate", ARXIV_ID, QUOTE_MATH, *setup)
    assert code == 0
    assert out.splitlines()[0] == "found: Section 2.1, p1:L18"


def test_locate_near_miss_exits_1(capsys, setup):
    code, out, _ = _run(capsys, "locate", ARXIV_ID, "We scale ∆Wx by α/r, where α is a constant", *setup)
    assert code == 1 and out.startswith("near miss:")


def test_verify_table_and_exit_codes(capsys, setup, records, synthetic):
    code, out, _ = _run(capsys, "verify", *setup)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["claim", "status", "citation"]
    assert any(ln.split()[:2] == ["synth.claim-0", "found"] and "p1:L18" in ln for ln in lines)
    assert any(ln.split()[:2] == ["synth.citation", "found"] and "front matter, p1:L1" in ln for ln in lines)
    toml = paper_toml(synthetic.sha256, quotes=(QUOTE_MATH, "a sentence that this paper never contains at all"))
    (records / f"{ARXIV_ID}.toml").write_text(toml, encoding="utf-8")
    code, out, _ = _run(capsys, "verify", ARXIV_ID, *setup)
    assert code == 1 and "not found" in out


def test_verify_without_text_is_unverified_not_failed(capsys, records, synthetic, tmp_path):
    (records / f"{ARXIV_ID}.toml").write_text(paper_toml(synthetic.sha256), encoding="utf-8")
    (tmp_path / "empty").mkdir()
    code, out, err = _run(capsys, "verify", "--papers-dir", str(tmp_path / "empty"), "--records-dir", str(records))
    assert code == 0 and "unverified" in out and "no local text" in out and "fetch" in err


def test_a_papers_dir_that_does_not_exist_is_bad_input(capsys, records, synthetic, tmp_path):
    (records / f"{ARXIV_ID}.toml").write_text(paper_toml(synthetic.sha256), encoding="utf-8")
    code, out, err = _run(capsys, "verify", "--papers-dir", str(tmp_path / "nowhere"), "--records-dir", str(records))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "nowhere" in err and "does not exist" in err and "--papers-dir" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["extract", "no/such/file.pdf"], "no such file"),
        (["locate", ARXIV_ID, "", "RECORDS"], "empty"),
        (["locate", ARXIV_ID, "too short", "RECORDS"], "fewer than 20"),
        (["locate", "9999.99999", "a long enough quote for the locator to try", "RECORDS"], "no paper record"),
        (["fetch", "9999.99999", "RECORDS"], "no paper record"),
        (["verify", "9999.99999", "RECORDS"], "no paper record"),
        (["frobnicate"], "invalid choice"),
        (["locate", ARXIV_ID], "required"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, records, argv, message):
    argv = [a for a in argv if a != "RECORDS"] + (["--records-dir", str(records)] if "RECORDS" in argv else [])
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_pdf_is_exit_2(capsys, tmp_path, synthetic):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(synthetic.path.read_bytes()[:3000])
    code, _, err = _run(capsys, "extract", str(bad))
    assert code == 2 and err.startswith("error: bad.pdf is") and err.count("\n") == 1


def test_sha_mismatch_in_verify_is_exit_2(capsys, setup, records):
    (records / f"{ARXIV_ID}.toml").write_text(paper_toml("1" * 64), encoding="utf-8")
    code, _, err = _run(capsys, "verify", *setup)
    assert code == 2 and "1" * 64 in err


def test_fetch_from_local_server(capsys, http_server, synthetic, records, tmp_path):
    base_url, routes = http_server
    routes[f"/pdf/{ARXIV_ID}v2"] = (200, synthetic.path.read_bytes())
    (records / f"{ARXIV_ID}.toml").write_text(paper_toml(synthetic.sha256), encoding="utf-8")
    dest = tmp_path / "dest"
    argv = ["fetch", ARXIV_ID, "--dest", str(dest), "--base-url", base_url, "--records-dir", str(records)]
    code, _, err = _run(capsys, *argv)
    assert code == 0 and (dest / f"{ARXIV_ID}.pdf").is_file() and "fetched" in err
    routes[f"/pdf/{ARXIV_ID}v2"] = (200, b"%PDF-1.7 not the pinned file")
    (dest / f"{ARXIV_ID}.pdf").unlink()
    code, _, err = _run(capsys, *argv)
    assert code == 2 and synthetic.sha256 in err and not (dest / f"{ARXIV_ID}.pdf").exists()


def test_module_entry_point_has_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fidelity.papers", "extract", str(tmp_path / "missing.pdf")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr
