"""reviews/matrix.html: every implementation × variant × claim on one static page (issue 13).

One file, no build step and no framework: the cells are embedded as JSON and a few lines of JavaScript filter them by
variant, implementation and verdict, count what is visible, and keep the filter in the URL's fragment
(`matrix.html#impl=lycoris&verdict=known%20bug`) so that a filtered view can be linked. Each claim links to its point
in the variant's review. Written with the reviews by `python -m fidelity.report all` and checked for freshness like
them; tests/test_matrix_page.py drives it in headless Chromium.
"""

from __future__ import annotations

import html
import json

from fidelity.runner import Runner, absence

VERDICTS = ("MATCHES", "DEVIATES-OK", "known bug", "DEVIATES", "STALE", "N/A", "ERROR")


def rows(runner: Runner, names: list[str], order: dict[str, list[str]]) -> list[dict]:
    """One row per (variant, claim) in review order: its title, link and each implementation's verdict (None where the
    implementation lacks the variant altogether, as the reviews and the index leave such columns out)."""
    from fidelity.results import outcome
    from fidelity.variants import get_variant

    out = []
    for name in names:
        spec = get_variant(name)
        lacking = {impl for impl, b in runner.bindings.items() if absence(b, spec)}
        for index, cid in enumerate(order[name], start=1):
            claim = runner.claim(spec, cid)
            cells = {impl: None if impl in lacking else outcome(runner.run(impl, name, cid)) for impl in runner.bindings}
            out.append({"variant": name, "claim": cid, "title": claim.title, "index": index,
                        "href": f"{name}.md#{claim.anchor}", "cells": cells})
    return out


def page(runner: Runner, names: list[str], order: dict[str, list[str]]) -> str:
    """The whole HTML page."""
    data = {"impls": [{"name": n, "label": b.label} for n, b in runner.bindings.items()],
            "verdicts": list(VERDICTS), "rows": rows(runner, names, order)}
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
    return TEMPLATE.replace("@DATA@", payload).replace("@TITLE@", html.escape("fidelity: verdict matrix"))


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em; color: #1b1b1b; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
p.lead { margin: 0 0 .8em; color: #444; max-width: 60em; }
form { display: flex; gap: 1em; flex-wrap: wrap; align-items: end; margin-bottom: .6em; }
label { display: flex; flex-direction: column; font-size: .85em; color: #444; }
select { font-size: 1em; padding: .15em; }
#counts { display: flex; gap: .5em; flex-wrap: wrap; margin: .4em 0 .8em; }
#counts span { padding: .15em .5em; border-radius: .3em; font-size: .9em; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .2em .45em; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: #f6f6f6; }
td.v { white-space: nowrap; text-align: center; }
td.variant { color: #555; white-space: nowrap; }
.MATCHES { background: #e3f4e1; } .DEVIATES-OK { background: #e4ecfa; } .known-bug { background: #fde7cf; }
.DEVIATES { background: #f9cfcf; } .STALE { background: #f3e2f7; } .NA { background: #f2f2f2; color: #777; }
.ERROR { background: #f9cfcf; font-weight: bold; } .absent { color: #bbb; }
</style>
</head>
<body>
<h1>Verdict matrix: every implementation × variant × claim</h1>
<p class="lead">Each cell is one implementation's verdict on one claim of a paper, measured by the suite; a claim
links to its point in the variant's review (quote, code, observation, inference). “—”: the implementation has no
such variant. Filters apply together and stay in the address, so a filtered view can be shared.</p>
<form id="filters">
<label>Variant <select id="variant"><option value="">all</option></select></label>
<label>Implementation <select id="impl"><option value="">all</option></select></label>
<label>Verdict <select id="verdict"><option value="">all</option></select></label>
</form>
<div id="counts" aria-live="polite"></div>
<table id="matrix"><thead><tr id="head"><th>variant</th><th>claim</th></tr></thead><tbody id="body"></tbody></table>
<script id="data" type="application/json">@DATA@</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
const css = (v) => v === "known bug" ? "known-bug" : v === "N/A" ? "NA" : v;
function fill(select, values) {
  for (const [value, text] of values) {
    const o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o);
  }
}
fill($("variant"), [...new Set(DATA.rows.map((r) => r.variant))].map((v) => [v, v]));
fill($("impl"), DATA.impls.map((i) => [i.name, i.label]));
fill($("verdict"), DATA.verdicts.map((v) => [v, v]));
for (const impl of DATA.impls) {
  const th = document.createElement("th"); th.textContent = impl.label; th.dataset.impl = impl.name;
  $("head").appendChild(th);
}
for (const row of DATA.rows) {
  const tr = document.createElement("tr"); tr.dataset.variant = row.variant;
  tr.innerHTML = "<td class='variant'></td><td><a></a></td>";
  tr.children[0].textContent = row.variant;
  const a = tr.querySelector("a"); a.href = row.href; a.textContent = row.index + ". " + row.title;
  a.title = row.claim;
  for (const impl of DATA.impls) {
    const td = document.createElement("td"); const v = row.cells[impl.name];
    td.className = "v " + (v === null ? "absent" : css(v)); td.textContent = v === null ? "—" : v;
    td.dataset.impl = impl.name; td.dataset.verdict = v === null ? "" : v;
    tr.appendChild(td);
  }
  $("body").appendChild(tr);
}
function apply() {
  const variant = $("variant").value, impl = $("impl").value, verdict = $("verdict").value;
  const counts = Object.fromEntries(DATA.verdicts.map((v) => [v, 0]));
  let rowsShown = 0;
  for (const th of document.querySelectorAll("#head th[data-impl]")) th.hidden = impl !== "" && th.dataset.impl !== impl;
  for (const tr of $("body").children) {
    let match = variant === "" || tr.dataset.variant === variant, any = false;
    for (const td of tr.querySelectorAll("td[data-impl]")) {
      const inColumn = impl === "" || td.dataset.impl === impl;
      td.hidden = !inColumn;
      if (match && inColumn && td.dataset.verdict !== "" && (verdict === "" || td.dataset.verdict === verdict)) any = true;
    }
    tr.hidden = !(match && any);
    if (tr.hidden) continue;
    rowsShown += 1;
    for (const td of tr.querySelectorAll("td[data-impl]"))
      if (!td.hidden && td.dataset.verdict !== "" && (verdict === "" || td.dataset.verdict === verdict))
        counts[td.dataset.verdict] += 1;
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  $("counts").innerHTML = "";
  const add = (text, cls, key) => {
    const s = document.createElement("span"); s.textContent = text; s.className = cls; s.dataset.count = key;
    $("counts").appendChild(s);
  };
  add(total + " cells in " + rowsShown + " claims", "", "total");
  for (const v of DATA.verdicts) if (counts[v]) add(counts[v] + " " + v, css(v), v);
  const state = new URLSearchParams();
  if (variant) state.set("variant", variant); if (impl) state.set("impl", impl); if (verdict) state.set("verdict", verdict);
  const hash = state.toString();
  try {
    if (location.hash.slice(1) !== hash) history.replaceState(null, "", hash ? "#" + hash : location.pathname);
  } catch (e) { /* a browser that refuses to rewrite a file: URL keeps the filter, not the link */ }
}
const initial = new URLSearchParams(location.hash.slice(1));
for (const key of ["variant", "impl", "verdict"]) if (initial.get(key)) $(key).value = initial.get(key);
$("filters").addEventListener("change", apply);
apply();
</script>
</body>
</html>
"""
