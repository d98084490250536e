"""K06 parameter inventory: exactly the declared roles are trainable; the base is frozen.

Reads `requires_grad` of every parameter of the adapted module, maps each to the roles it stores, and compares the set
of roles with the variant spec (the roles' shapes are the paper's, validated when the layer is built; how a library
stores them is its own business); the trainable scalar count must equal the closed form (K25). With `dtypes`, every
example is built once per dtype (an implementation that does not compute in one runs it in its preferred dtype).
"""

from __future__ import annotations

from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class Inventory(Check):
    kind = "inventory"
    topic = "trainable"

    def __init__(self, dtypes: tuple[str, ...] = (), options: dict | None = None):
        super().__init__(options)
        self.dtypes = dtypes  # extra dtypes each example is also built in (e.g. bfloat16)

    def __repr__(self) -> str:
        extra = [f"dtypes={self.dtypes}"] if self.dtypes else []
        return f"Inventory({', '.join(extra + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        built: set[str] = set()

        def prop(case, record):
            for dtype in dict.fromkeys((case.dtype, *self.dtypes)):
                one(subject.adapt(case.with_(dtype=dtype)), record)

        def one(case, record):
            built.add(case.dtype)
            layer, _, _ = subject.build(case)
            trainable = {n: p for n, p in layer.module.named_parameters() if p.requires_grad}
            unmapped = [n for n in trainable if n not in layer.param_roles]
            if unmapped:
                raise Violation(f"trainable parameters with no role: {unmapped} [{case}]")
            base_trainable = [n for n in trainable if layer.param_roles[n].startswith("base.")]
            if base_trainable:
                raise Violation(f"base parameters left trainable: {base_trainable} [{case}]")
            roles = sorted({role for n in trainable for role in layer.param_roles[n].split(",")})
            expected = sorted(r.name for r in spec.roles)
            if roles != expected:
                raise Violation(f"trainable roles {roles} differ from the claimed {expected} [{case}]")
            frozen = [n for n, view in layer.buffers.items() if view.requires_grad]
            if frozen:
                raise Violation(f"frozen buffers {frozen} require grad [{case}]")
            count = sum(p.numel() for p in trainable.values())
            measured = {"trainable_scalars": float(count), "closed_form": float(spec.parameter_count(case))}
            if count != spec.parameter_count(case):
                raise Violation(f"{count} trainable scalars, the closed form gives {spec.parameter_count(case)}",
                                measured)
            record.add(case, 0.0, measured)

        shapes = ", ".join(f"{r.name} {r.meaning}" for r in spec.roles)
        if spec.buffers:
            shapes += "; frozen buffers " + ", ".join(f"{r.name} {r.meaning}" for r in spec.buffers)
        return run_property(
            prop,
            profile,
            subject,
            observation=lambda rec: f"trainable tensors are exactly {shapes}; base weight and bias frozen; trainable "
            f"count equals the closed form in all {rec.examples} builds ({', '.join(sorted(built))})",
        )
