# Two commands a newcomer can paste: `make review` (the main job) and `make test` (the verification).
# Both create .venv on first use, with torch pinned to the 2.13.0 CPU build in the same pip command as
# everything that depends on it (an unpinned torch pulls a multi-GB CUDA build).

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
VARIANT ?= antipasto_dplr
# Paper PDFs are never committed; CI and developers keep them in ../shared/papers.
export FIDELITY_PAPERS_DIR ?= $(abspath ../shared/papers)

.PHONY: review test freshness bench clean-venv

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0" -e ".[peft]"
	touch $@

review: $(VENV)/.installed
	$(PY) -m fidelity.report $(VARIANT)

test: $(VENV)/.installed
	$(PY) -m pytest fidelity/ tests/ -q -n auto

# The committed reviews, index and results file are what the code produces now (CI runs this after `make test`).
freshness: $(VENV)/.installed
	$(PY) -m fidelity.report all --check

bench: $(VENV)/.installed
	$(PY) scripts/bench.py

clean-venv:
	rm -rf $(VENV)
