"""pytest settings of the verification (`pytest fidelity/`), validated before anything is collected.

A bad FIDELITY_PROFILE, FIDELITY_SEED or FIDELITY_VARIANTS, or a malformed paper record, is one usage-error line
(`ERROR: …`, exit 4), not a traceback per cell. `--hypothesis-seed N` seeds every property (FIDELITY_SEED=N): under
the derandomized `ci` profile that turns its fixed examples into a seeded random search of the same size.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    from fidelity.papers.records import PaperRecordError, load_paper
    from fidelity.profiles import ProfileError, current_profile
    from fidelity.variants import all_variants

    seed = config.getoption("hypothesis_seed", None)
    if seed is not None and not os.environ.get("FIDELITY_SEED"):
        os.environ["FIDELITY_SEED"] = str(seed)
    try:
        current_profile()
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None
    variants = all_variants()
    only = {v for v in os.environ.get("FIDELITY_VARIANTS", "").split(",") if v}
    if only - set(variants):
        raise pytest.UsageError(f"FIDELITY_VARIANTS names unknown variants: {', '.join(sorted(only - set(variants)))}; "
                                f"known: {', '.join(variants)}")
    try:
        for paper_id in sorted({p for spec in variants.values() for p in spec.papers}):
            load_paper(paper_id)
    except PaperRecordError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config):
    from fidelity.profiles import current_profile

    profile = current_profile()
    return f"fidelity: profile {profile.name} ({profile.max_examples} examples per property, {profile.describe()})"
