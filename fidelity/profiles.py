"""Hypothesis profiles, chosen by one setting: FIDELITY_PROFILE = dev | ci (default) | thorough.

`ci` is derandomized so verdicts and the committed reviews are reproducible; `dev` is quick; `thorough`
searches far more examples before a release or after changing a check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    derandomize: bool
    witnesses_only: bool = False  # run only the explicit witness examples (the kill matrix uses this)


PROFILES = {
    "dev": Profile("dev", max_examples=10, derandomize=False),
    "ci": Profile("ci", max_examples=50, derandomize=True),
    "thorough": Profile("thorough", max_examples=1000, derandomize=False),
}
WITNESS = Profile("witness", max_examples=1, derandomize=True, witnesses_only=True)


def current_profile() -> Profile:
    """The profile named by FIDELITY_PROFILE (default `ci`)."""
    name = os.environ.get("FIDELITY_PROFILE", "ci")
    if name not in PROFILES:
        raise SystemExit(f"FIDELITY_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILES)}")
    return PROFILES[name]


def hypothesis_settings(profile: Profile) -> settings:
    """Hypothesis settings for a profile: no deadline (first torch calls are slow), no example database."""
    return settings(
        max_examples=profile.max_examples,
        derandomize=profile.derandomize,
        deadline=None,
        database=None,
        print_blob=False,
        phases=[Phase.explicit] if profile.witnesses_only else settings.default.phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.differing_executors],
    )
