"""reviews/matrix.html in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright) opens the
committed page, applies filters through its controls and reads the visible counts from the DOM; they must equal the
counts of reviews/results.json. The screenshots go to .cache/fidelity/matrix-all.png (unfiltered) and matrix.png (filtered), git-ignored, to be
looked at.

Skipped, with the reason, where Chromium or Playwright is absent (README "Two commands" installs both).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "reviews" / "matrix.html"
SHOT = ROOT / ".cache" / "fidelity" / "matrix.png"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# the flags a closed network needs (no background connections, no first-run, no sandbox as root)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _expected(impl: str = "", verdict: str = "") -> Counter:
    """Counts of the cells the page shows for a filter, from results.json (cells of a variant an implementation lacks
    altogether are not shown, as in the reviews and the index)."""
    results = json.loads((ROOT / "reviews" / "results.json").read_text(encoding="utf-8"))
    counts = Counter()
    for c in results["cells"]:
        absent = c["variant"] not in results["by_implementation"][c["implementation"]]["variants"]
        shown = "known bug" if c["verdict"] == "DEVIATES" and c["known_bug"] else c["verdict"]
        if absent or (impl and c["implementation"] != impl) or (verdict and shown != verdict):
            continue
        counts[shown] += 1
    return counts


@pytest.fixture(scope="module")
def browser_page():
    if CHROMIUM is None:
        pytest.skip("SKIPPED LOUDLY: no Chromium on this machine (apt-get install chromium); the matrix page was not "
                    "tested in a browser")
    playwright = pytest.importorskip("playwright.sync_api", reason="SKIPPED LOUDLY: Playwright is not installed "
                                     "(pip install -e '.[browser]'); the matrix page was not tested in a browser")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(PAGE.as_uri())
        yield page
        browser.close()


def _shown(page) -> dict[str, int]:
    spans = page.locator("#counts span[data-count]")
    return {spans.nth(i).get_attribute("data-count"): int(spans.nth(i).inner_text().split()[0])
            for i in range(spans.count())}


def test_unfiltered_counts_match_results(browser_page):
    expected = _expected()
    shown = _shown(browser_page)
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SHOT.with_name("matrix-all.png")))  # six implementations side by side
    assert shown.pop("total") == sum(expected.values())
    assert shown == dict(expected)


def test_filters_through_the_controls(browser_page):
    page = browser_page
    cells = json.loads((ROOT / "reviews" / "results.json").read_text(encoding="utf-8"))["cells"]
    bugs = Counter(c["implementation"] for c in cells if c["known_bug"])
    impl = min(bugs, key=lambda name: (-bugs[name], name))  # the implementation with the most known bugs
    page.select_option("#impl", impl)
    expected = _expected(impl=impl)
    shown = _shown(page)
    assert shown.pop("total") == sum(expected.values()) and shown == dict(expected)
    assert expected["known bug"] > 0, "the page's known-bug filter needs a known bug to show"
    page.select_option("#verdict", "known bug")
    shown = _shown(page)
    assert shown == {"total": expected["known bug"], "known bug": expected["known bug"]}
    visible = page.locator("#body tr:not([hidden]) td[data-impl]:not([hidden])")
    assert visible.count() == page.locator("#body tr:not([hidden])").count()  # one column left
    assert f"impl={impl}" in page.url and "verdict=known+bug" in page.url  # the filter is in the address
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT), full_page=False)
    page.select_option("#impl", "")
    page.select_option("#verdict", "")


def test_links_point_into_the_reviews(browser_page):
    hrefs = browser_page.locator("#body a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs
    for href in hrefs:
        review, anchor = href.split("#")
        text = (ROOT / "reviews" / review).read_text(encoding="utf-8")
        assert f'<a id="{anchor}"></a>' in text, href
