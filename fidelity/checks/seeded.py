"""K06 seeded: frozen random tensors are a function of the seed alone (VeRA §3.1: "the random frozen matrices can be
regenerated from a random number generator (RNG) seed … these do not need to be stored in memory").

The paper names no generator, no draw order and no dtype staging, so the claim is the function, not a particular
draw: the layer is built twice from the same config with torch's global RNG in two different states, and the frozen
roles must come out bit-identical (nothing but the seed chose them); then built with the next seed, and each role must
differ (the seed really selects them). Which generator an implementation uses is its own convention (PEFT's is checked,
for the implementations that follow it, by the `peft-prng` convention claims).
"""

from __future__ import annotations

import dataclasses

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class Seeded(Check):
    kind = "seeded"
    topic = "init"

    def __init__(self, roles: tuple[str, ...], key: str, options: dict | None = None):
        super().__init__(options)
        self.roles, self.key = roles, key  # the frozen roles, and the config field that is the seed

    def __repr__(self) -> str:
        return f"Seeded(roles={self.roles}, key={self.key!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        def frozen(case, config, global_seed):
            layer, _, _ = subject.build(case, config, global_seed=global_seed)
            return {role: layer.read(role).detach().clone() for role in self.roles}

        def prop(case, record):
            config = subject.config(case)
            key = getattr(config, self.key)
            first = frozen(case, config, case.seed)
            again = frozen(case, config, case.seed + 7919)  # torch's global RNG in another state
            other = frozen(case, dataclasses.replace(config, **{self.key: key + 1}), case.seed)
            for role in self.roles:
                if not torch.equal(first[role], again[role]):
                    diff = float((first[role].double() - again[role].double()).abs().max())
                    raise Violation(f"'{role}' differs between two builds with the same {self.key} under two states "
                                    f"of torch's global RNG (by up to {diff:.2g}): it is not a function of the seed "
                                    f"alone [{case}]")
                if torch.equal(first[role], other[role]):
                    raise Violation(f"'{role}' is the same with {self.key} = {key} and {key + 1}: the seed does not "
                                    f"select it [{case}]")
            record.add(case, 0.0, {})

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"{', '.join(self.roles)} bit-identical when rebuilt from the same {self.key} "
            f"under another state of torch's global RNG, and different under the next {self.key}, in all "
            f"{rec.examples} examples",
        )
