"""Paper records are linted on load, and they agree with the variant specs (declarations are linted in fidelity/test_claims.py)."""

from __future__ import annotations

import pytest

from fidelity.papers.records import PaperRecordError, load_all, parse_paper
from fidelity.variants import all_variants

GOOD = """
[paper]
arxiv_id = "2106.09685"
version = 2
title = "T"
short_name = "S"
authors = ["Edward J. Hu"]
year = 2021
sha256 = ""

[[claims]]
id = "lora.zero-init"
title = "Zero side"
section = "4.1"
quote = "We use a random Gaussian initialization for A"
statement = "B is zero."
kind = "zero_side"
"""


def test_a_good_record_parses():
    paper = parse_paper(GOOD)
    assert paper.cite == "S (Hu+ 2021, arXiv:2106.09685)" and paper.claims[0].kind == "zero_side"


@pytest.mark.parametrize("change, message", [
    (('kind = "zero_side"', 'kind = "zero_sid"'), "unknown check kind 'zero_sid'"),
    (('section = "4.1"\n', ''), "missing field 'section'"),
    (('version = 2', 'version = "2"'), "'version' must be a int"),
    (('quote = "We use a random Gaussian initialization for A"', 'quote = "zero B"'), "fewer than 20"),
    (('quote = "We use a random Gaussian initialization for A"', ''), "give a verbatim 'quote'"),
    (('id = "lora.zero-init"', 'id = "Zero Init"'), "id must look like"),
    (('arxiv_id = "2106.09685"', 'arxiv_id = "LoRA"'), "not of the form"),
    (('sha256 = ""', 'sha256 = "abc"'), "64 lowercase hex"),
    (('[paper]', '[paper'), "not valid TOML"),
    (('kind = "zero_side"', 'kind = "zero_side"\ncolour = "red"'), "unknown field(s) colour"),
])
def test_malformed_records_give_one_clear_line(change, message):
    with pytest.raises(PaperRecordError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_paper(GOOD.replace(*change))
    assert "\n" not in str(info.value)


def test_duplicate_claim_ids_are_rejected():
    claim = GOOD[GOOD.index("[[claims]]"):]
    with pytest.raises(PaperRecordError, match="duplicate claim id"):
        parse_paper(GOOD + claim)


def test_every_committed_record_loads():
    papers = load_all()
    assert {"2106.09685", "2312.03732"} <= set(papers)


def test_variant_claims_exist_with_the_same_kind_and_every_claim_is_tested():
    claims = {c.id: c for p in load_all().values() for c in p.claims}
    tested = set()
    for spec in all_variants().values():
        for cid, check in spec.claims.items():
            assert cid in claims, f"{spec.name} tests {cid}, which no paper record holds"
            assert claims[cid].paper_id in spec.papers, f"{cid} is not from a paper of {spec.name}"
            assert check.kind == claims[cid].kind, f"{cid}: record says {claims[cid].kind}, check is {check.kind}"
            tested.add(cid)
    assert set(claims) == tested, f"claims no variant tests: {sorted(set(claims) - tested)}"
