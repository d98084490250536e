# Two commands a newcomer can paste: `make review` (the main job) and `make test` (the verification).
# Both create .venv on first use, with torch pinned to the 2.13.0 CPU build in the same pip command as
# everything that depends on it (an unpinned torch pulls a multi-GB CUDA build).

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
VARIANT ?= antipasto_dplr
# Paper PDFs are never committed; CI and developers keep them in ../shared/papers.
export FIDELITY_PAPERS_DIR ?= $(abspath ../shared/papers)

SOAK_SEEDS ?= 2
# the libraries verified in their own pinned environments (noxfile.py), beside the reference and PEFT
ECOSYSTEM := loralib lycoris adapters torchtune
.PHONY: review test browser freshness freshness-paths soak soak-ecosystem bench clean-venv ecosystem ecosystem-check \
	$(ECOSYSTEM:%=record-%) $(ECOSYSTEM:%=check-%) $(ECOSYSTEM:%=soak-%)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0" -e ".[peft,ecosystem,browser]"
	touch $@

review: $(VENV)/.installed
	$(PY) -m fidelity.report $(VARIANT)

test: $(VENV)/.installed browser
	$(PY) -m pytest fidelity/ tests/ -q -n auto

# Chromium for the matrix page's browser test: Debian's package, installed where this runs as root with apt-get;
# elsewhere a loud note (that test then skips, saying why).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the matrix page's browser test (apt-get, a minute or two)"; \
	    { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq chromium >/dev/null 2>&1; }; } || \
	      echo "WARNING: apt-get could not install chromium: tests/test_matrix_page.py will be SKIPPED"; \
	  else \
	    echo "WARNING: no chromium here (install it: sudo apt-get install chromium): tests/test_matrix_page.py will be SKIPPED"; \
	  fi; }

# The committed reviews, index and results file are what the code produces now (CI runs this after `make test`).
freshness: $(VENV)/.installed
	$(PY) -m fidelity.report all --check --quiet

# ... and what it produces on other BLAS/ATen code paths, as on a CI machine with another CPU (README, "Committed
# output"): every file on the most different path (scalar ATen kernels, MKL's bit-compatible mode), the main review
# on AVX2 kernels and with two torch threads.
freshness-paths: $(VENV)/.installed
	MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default $(PY) -m fidelity.report all --check --quiet
	MKL_CBWR=AVX2 ATEN_CPU_CAPABILITY=avx2 $(PY) -m fidelity.report antipasto_dplr --check --quiet
	FIDELITY_THREADS=2 $(PY) -m fidelity.report antipasto_dplr --check --quiet

# Fresh seeds (derived from the commit) for every reference and PEFT cell: a verdict that moves is a false alarm.
soak: $(VENV)/.installed
	$(PY) scripts/soak.py --seeds $(SOAK_SEEDS)

# The whole ecosystem: each library's cells in its own environment (reviews/recorded/NAME.json), then every review,
# the index and results.json from all of them
ecosystem: $(ECOSYSTEM:%=record-%)
	$(PY) -m fidelity.report all --quiet

$(ECOSYSTEM:%=record-%): record-%: $(VENV)/.installed
	$(PY) -m nox --session $* -- --quiet

# Each recorded file is what that library's environment produces now (CI)
ecosystem-check: $(ECOSYSTEM:%=check-%)

$(ECOSYSTEM:%=check-%): check-%: $(VENV)/.installed
	$(PY) -m nox --session $* -- --check --quiet

# ... and each library's cells in its own environment (built by its session: run after ecosystem-check or record-NAME)
soak-ecosystem: $(ECOSYSTEM:%=soak-%)

$(ECOSYSTEM:%=soak-%): soak-%: $(VENV)/.installed
	.nox/$*/bin/python scripts/soak.py --impl $* --seeds $(SOAK_SEEDS) --jobs 1

bench: $(VENV)/.installed
	$(PY) scripts/bench.py

clean-venv:
	rm -rf $(VENV)
