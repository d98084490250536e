"""The results file and the index: every cell counted once, N/A and ERROR shown, deterministic text."""

from __future__ import annotations

import json

from fidelity import report
from fidelity.impls import BrokenBinding
from fidelity.impls.reference import ReferenceBinding
from fidelity.profiles import WITNESS
from fidelity.results import SCHEMA, SCHEMA_VERSION, document, matrices, to_json
from fidelity.runner import Runner
from tests.mutants.lora import AlphaNotOverR

VARIANTS = ["dora", "lora"]


def _runner() -> Runner:
    mutant = ReferenceBinding({**ReferenceBinding().classes, "lora": AlphaNotOverR}, name="mutant")
    mutant.declarations = ()
    runner = Runner({"reference": ReferenceBinding(), "mutant": mutant,
                     "ghost": BrokenBinding("ghost", "could not load implementation 'ghost:X'")}, profile=WITNESS)
    for cell in runner.cells():
        if cell[1] in VARIANTS:
            runner.run(*cell)
    return runner


def test_the_results_document_has_its_schema_versions_and_every_cell():
    runner = _runner()
    doc = json.loads(to_json(document(runner, VARIANTS)))
    assert doc["schema"] == SCHEMA and doc["schema_version"] == SCHEMA_VERSION
    assert set(doc["versions"]) == {"torch", "hypothesis", "pymupdf"} and doc["suite"]["version"]
    assert set(doc["papers"]) == {"2106.09685", "2312.03732", "2402.09353"}
    assert len(doc["cells"]) == len(runner.results()) == sum(doc["counts"].values())
    scaling = next(c for c in doc["cells"] if c["implementation"] == "mutant" and c["claim"] == "lora.scaling")
    assert scaling["verdict"] == "DEVIATES" and "measured" not in scaling["evidence"]  # committed: no raw numbers
    exact = json.loads(to_json(document(runner, VARIANTS, exact=True)))
    scaling = next(c for c in exact["cells"] if c["implementation"] == "mutant" and c["claim"] == "lora.scaling")
    assert scaling["evidence"]["measured"]["s_measured"] == 16.0
    ghost = next(c for c in doc["cells"] if c["implementation"] == "ghost")
    assert ghost["verdict"] == "ERROR" and ghost["error"] == "could not load implementation 'ghost:X'"
    assert doc["counts"]["ERROR"] == len(runner.results()) // 3  # every ghost cell, none hidden


def test_the_results_are_the_same_text_on_every_run():
    assert to_json(document(_runner(), VARIANTS)) == to_json(document(_runner(), VARIANTS))


def test_every_matrix_column_counts_add_up_to_its_cells():
    runner = _runner()
    tables = matrices(runner, VARIANTS)
    assert [m["paper"].arxiv_id for m in tables] == ["2106.09685", "2312.03732", "2402.09353"]
    for m in tables:
        for i, counts in enumerate(m["counts"]):
            filled = [row["cells"][i] for row in m["rows"] if row["cells"][i]]
            assert counts["total"] == len(filled) == sum(v for k, v in counts.items() if k != "total")
    lora = tables[0]
    column = lora["columns"].index(("ghost", "lora"))
    assert lora["counts"][column]["ERROR"] == lora["counts"][column]["total"] > 0


def test_the_index_links_each_cell_to_its_review_section():
    text = report.render_index(_runner(), VARIANTS)
    assert "| `lora.scaling` Scaling α/r, measured through the forward pass | [✓](lora.md#lora-scaling) |" in text
    assert "[✗](lora.md#lora-scaling)" in text and "[ERROR](lora.md#lora-scaling)" in text
    assert "## DoRA (Liu+ 2024, arXiv:2402.09353)" in text
