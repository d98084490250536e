"""K04 step-0 liveness: one backward pass at init gives a gradient to exactly the declared roles, and the
roles that are dead only because of the zero side come alive after one SGD step.

Recipe (claim-kinds.md §1.6): L = Σ G ⊙ y'(x) for a fixed random G. A role is dead when its gradient is None or
exactly zero, live when it is non-zero (and finite). There is no threshold in between: a structurally dead role (one
multiplied by an exact zero, the zero side of the init) gets an exact zero in floating point, and any non-zero
gradient moves a parameter under an optimiser that normalises its steps (Adam turns 1e-12 into a full step), so
"small" is live. A floor scaled by ‖G‖‖x‖‖W‖ once called tiny but real gradients (a core factor drawn near zero on a
1 × 1 layer, DeLoRA's strength on a small update) unclassifiable. Base parameters must receive no gradient at all.

Step 1 backpropagates a fresh G: with the same linear loss, a normalised factor stepped off zero (DeLoRA's B under a
B = 0 init, whose columns enter only through b_i/‖b_i‖) lands exactly on that loss's stationary direction, and its
gradient vanishes for that one loss rather than because the parameter is unused. The step has norm `step` (1 unless
a claim says otherwise): a role clamped to a range (antipasto_ablate's strength, clamp(α, 0, 1) from α = 0.05) leaves
the range under a unit step and its gradient is then exactly zero by construction, so such a claim steps by less.
"""

from __future__ import annotations

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


def _gradient_pattern(layer, x, g, case, step) -> tuple[dict[str, str], dict[str, float]]:
    """Backpropagate ⟨G, y'(x)⟩ once; classify each role's gradient as live or dead."""
    layer.module.zero_grad(set_to_none=True)
    out = layer(x).to(torch.float64)
    if out.requires_grad:  # otherwise no trainable reaches the output at all, and every role is dead
        (out * g).sum().backward()
    pattern, measured = {}, {}
    for name in layer.roles:
        grad = layer.grad(name)
        norm = 0.0 if grad is None else float(grad.to(torch.float64).norm())
        measured[f"step{step}_grad_norm_{name}"] = norm
        if grad is not None and not torch.isfinite(grad).all():
            raise Violation(f"gradient of role '{name}' is not finite at step {step} [{case}]", measured)
        pattern[name] = "dead" if norm == 0.0 else "live"
    for pname, param in layer.module.named_parameters():
        if layer.param_roles.get(pname, "").startswith("base.") and param.grad is not None:
            raise Violation(f"base parameter {pname} received a gradient at step {step} [{case}]", measured)
    return pattern, measured


class Liveness(Check):
    kind = "liveness"
    topic = "init"

    def __init__(self, live: frozenset[str] | None = None, options: dict | None = None, step: float = 1.0):
        super().__init__(options)
        self.step = step  # norm of the SGD step taken on each live role before step 1
        # the roles claimed live at step 0; None: the spec's live_at_step0. Another set states an implementation's
        # declared alternative pattern (PEFT's DeLoRA: B = 0 leaves A and λ dead where the paper's init has all live)
        self.live = None if live is None else frozenset(live)

    def __repr__(self) -> str:
        extra = [f"live={sorted(self.live)}"] if self.live is not None else []
        extra += [f"step={self.step:g}"] if self.step != 1.0 else []
        return f"Liveness({', '.join(extra + ([str(self.options)] if self.options else []))})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant
        roles = [r.name for r in spec.roles]
        live_at_step0 = spec.live_at_step0 if self.live is None else self.live

        def prop(case, record):
            layer, _, _ = subject.build(case)
            x = inputs(case)
            g = torch.randn(case.rows, case.d_out, generator=case.generator(stream=3), dtype=torch.float64)
            pattern, measured = _gradient_pattern(layer, x, g, case, step=0)
            expected = {r: ("live" if r in live_at_step0 else "dead") for r in roles}
            if pattern != expected:
                raise Violation(f"step-0 gradient pattern {pattern} differs from the claimed {expected} [{case}]",
                                measured)
            with torch.no_grad():  # one SGD step of unit size on the live roles moves the zero side off zero
                for name in live_at_step0:
                    grad = layer.grad(name)
                    layer.write(name, layer.read(name) - self.step * grad / grad.norm())
            g = torch.randn(case.rows, case.d_out, generator=case.generator(stream=9), dtype=torch.float64)
            pattern, more = _gradient_pattern(layer, x, g, case, step=1)
            measured.update(more)
            if any(p != "live" for p in pattern.values()):
                raise Violation(f"after one SGD step every trainable role should get a gradient, but the pattern "
                                f"is {pattern} [{case}]", measured)
            record.add(case, 0.0, measured)

        live = ", ".join(sorted(live_at_step0)) or "none"
        dead = ", ".join(sorted(r for r in roles if r not in live_at_step0)) or "none"
        return run_property(
            prop,
            profile,
            subject,
            observation=lambda rec: f"step-0 gradient live for '{live}', exactly zero for '{dead}', none on the base "
            f"weights; after one SGD step{f' of norm {self.step:g}' if self.step != 1.0 else ''} every role is live; "
            f"in all {rec.examples} examples",
        )
