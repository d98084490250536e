"""Hypothesis profiles, chosen by one setting: FIDELITY_PROFILE = dev | ci (default) | thorough.

`ci` is derandomized so verdicts and the committed reviews are reproducible; `dev` is quick; `thorough`
searches far more examples before a release or after changing a check. FIDELITY_SEED=<int> (or pytest's
`--hypothesis-seed`) turns any profile into a seeded random search: the same seed replays the same examples, another
seed draws fresh ones (scripts/soak.py runs many).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, Phase, settings


class ProfileError(ValueError):
    """FIDELITY_PROFILE or FIDELITY_SEED holds a value the suite cannot use."""


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    derandomize: bool
    witnesses_only: bool = False  # run only the explicit witness examples (the kill matrix uses this)
    seed: int | None = None  # a seeded random search (derandomize is then off)

    def seeded(self, seed: int) -> "Profile":
        """The same profile drawing its examples from `seed` instead of its derandomized stream."""
        return replace(self, seed=seed, derandomize=False)

    def describe(self) -> str:
        """How examples are drawn, as reviews and progress lines state it."""
        if self.seed is not None:
            return f"random seed {self.seed}"
        return "derandomized" if self.derandomize else "random seeds"


PROFILES = {
    "dev": Profile("dev", max_examples=10, derandomize=False),
    "ci": Profile("ci", max_examples=50, derandomize=True),
    "thorough": Profile("thorough", max_examples=1000, derandomize=False),
}
WITNESS = Profile("witness", max_examples=1, derandomize=True, witnesses_only=True)


def current_profile() -> Profile:
    """The profile named by FIDELITY_PROFILE (default `ci`), seeded by FIDELITY_SEED when it is set."""
    name = os.environ.get("FIDELITY_PROFILE", "ci")
    if name not in PROFILES:
        raise ProfileError(f"FIDELITY_PROFILE={name!r} is not a profile; use one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    seed = os.environ.get("FIDELITY_SEED", "").strip()
    if seed:
        try:
            return profile.seeded(int(seed))
        except ValueError:
            raise ProfileError(f"FIDELITY_SEED={seed!r} is not an integer; unset it for the profile's own "
                               "examples") from None
    return profile


def hypothesis_settings(profile: Profile) -> settings:
    """Hypothesis settings for a profile: no deadline (first torch calls are slow), no example database."""
    return settings(
        max_examples=profile.max_examples,
        derandomize=profile.derandomize and profile.seed is None,
        deadline=None,
        database=None,
        print_blob=False,
        phases=[Phase.explicit] if profile.witnesses_only else settings.default.phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.differing_executors],
    )
