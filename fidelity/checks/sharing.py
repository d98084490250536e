"""K06 sharing: the frozen random matrices are one pair shared by every adapted layer (VeRA §3: "a single pair of
randomly initialized matrices shared across all layers"), while each layer trains its own vectors.

Two layers of the same shape, with different weights, are adapted in one model (the binding's `build_many`). Every
shared buffer role must hold bit-identical values in both layers (shared in value: frozen and never trained, equal
values are the paper's sharing; PEFT and the reference regenerate them from one PRNG key) and every trainable must be
a tensor of its own. Non-vacuity: the two base weights differ, so equal buffers are not an accident of equal layers.
"""

from __future__ import annotations

import torch

from fidelity.cases import base_layer, seed_torch
from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class Sharing(Check):
    kind = "sharing"
    topic = "init"

    def __init__(self, shared: tuple[str, ...], options: dict | None = None):
        super().__init__(options)
        self.shared = shared

    def __repr__(self) -> str:
        return f"Sharing(shared={self.shared}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            bases = [base_layer(case), base_layer(case.with_(seed=case.seed + 1))]
            if torch.equal(bases[0].weight, bases[1].weight):
                raise RuntimeError(f"non-vacuity guard: the two base layers are equal [{case}]")
            seed_torch(case.seed)
            layers = subject.binding.build_many(
                spec.name, [(b.weight.detach().clone(), b.bias.detach().clone() if b.bias is not None else None)
                            for b in bases], subject.config(case))
            first, second = layers
            measured = {}
            for role in self.shared:
                one, other = first.read(role).detach(), second.read(role).detach()
                diff = float((one.double() - other.double()).abs().max())
                measured[f"max_abs_diff_{role}"] = diff
                if not torch.equal(one, other):
                    raise Violation(f"the frozen '{role}' of two adapted layers differ (by up to {diff:.2g}): each "
                                    f"layer draws its own instead of sharing one [{case}]", measured)
            for role in spec.roles:
                a, b = first.roles[role.name].storage, second.roles[role.name].storage
                if any(s is t or s.data_ptr() == t.data_ptr() for s in a for t in b):
                    raise Violation(f"the trainable '{role.name}' is one tensor shared by both layers; each layer should "
                                    f"train its own [{case}]", measured)
            record.add(case, 0.0, measured)

        shared = ", ".join(self.shared)
        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"two adapted layers of one model hold bit-identical frozen {shared} and separate "
            f"trainables in all {rec.examples} examples",
        )
