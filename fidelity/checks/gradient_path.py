"""K15 gradient path: at a random non-degenerate state the implementation's gradients are those of the paper's
formula, including what the paper treats as a constant (DoRA §4.3: ‖V + ∆V‖_c detached from the graph).

The paper's gradients are taken by autograd through the variant's own float64 formula (`effective_weight` and
`effective_bias`, which write the paper's stop-gradients as `.detach()`), from the realised state, for the loss
L = Σ G ⊙ y'(x) with a fixed random G; the implementation's by one backward pass of the same loss. Tolerance per
entry: 2 · 2(n + 2) · eps · scale, scale = |∂L/∂p| plus the same gradient of the formula on absolute values
(|x|, |G|, |state|), plus the role's largest |∂L/∂p|: an entry can be a small difference of large terms (DeLoRA's
normalisation projects a_i's own direction out of its gradient), whose rounding is set by the terms, of the order of
the role's largest entries, not by the entry (the reference reached 1.03× an entrywise bound on an entry of 1.6e-4 in
a role whose largest gradient is 20.7, in a thorough soak). The rival readings differ by orders of magnitude more. Non-vacuity: the rival reading the
check names (`contrast`, e.g. the norm differentiated) must give gradients far from the paper's on this case;
otherwise the case cannot tell them apart and the check reports an error, never a pass.
"""

from __future__ import annotations

from typing import Callable

import torch

from fidelity.cases import inputs
from fidelity.checks.base import Check, Evidence, Subject, Violation, bias64, build_randomized, run_property
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import figure, ratio


def formula_gradients(weight_fn: Callable, spec, state, config, x64, g64, b64, roles) -> dict[str, torch.Tensor]:
    """∂/∂p of Σ G ⊙ (x W_effᵀ + b_eff) for each trainable role p, by autograd through a float64 formula."""
    leaves = {k: (v.detach().clone().requires_grad_(True) if k in roles else v) for k, v in state.items()}
    w, _ = weight_fn(leaves, config)
    b, _ = spec.effective_bias(leaves, config, b64)
    loss = ((x64 @ w.T + b) * g64).sum()
    grads = torch.autograd.grad(loss, [leaves[k] for k in roles], allow_unused=True)
    return {k: (gr if gr is not None else torch.zeros_like(state[k])) for k, gr in zip(roles, grads)}


def abs_formula_gradients(spec, state, config, x64, g64, b64, roles) -> dict[str, torch.Tensor]:
    """The same gradient of the formula on absolute values: a scale for the rounding of the backward pass."""
    leaves = {k: (v.detach().abs().requires_grad_(True) if k in roles else v.abs()) for k, v in state.items()}
    _, w_abs = spec.effective_weight(leaves, config)
    _, b_abs = spec.effective_bias(leaves, config, b64.abs())
    loss = ((x64.abs() @ w_abs.T + b_abs) * g64.abs()).sum()
    grads = torch.autograd.grad(loss, [leaves[k] for k in roles], allow_unused=True)
    return {k: (gr.abs() if gr is not None else torch.zeros_like(state[k])) for k, gr in zip(roles, grads)}


class GradientPath(Check):
    kind = "gradient_path"
    topic = "forward"

    def __init__(self, contrast: Callable, contrast_text: str, options: dict | None = None):
        super().__init__(options)
        # contrast(state, config) -> (W_eff, |W_eff|) of the rival reading, e.g. the norm not detached
        self.contrast, self.contrast_text = contrast, contrast_text

    def __repr__(self) -> str:
        return f"GradientPath(contrast={self.contrast_text!r}{', ' + str(self.options) if self.options else ''})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            roles = list(layer.roles)
            x = inputs(case)
            x64, b64 = x.to(torch.float64), bias64(bias, case)
            g64 = torch.randn(case.rows, case.d_out, generator=case.generator(stream=3), dtype=torch.float64)
            layer.module.zero_grad(set_to_none=True)
            (layer(x).to(torch.float64) * g64).sum().backward()
            grads = {k: layer.grad(k) for k in roles}
            impl = {k: (g.to(torch.float64) if g is not None else torch.zeros_like(state[k])) for k, g in grads.items()}
            paper = formula_gradients(spec.effective_weight, spec, state, config, x64, g64, b64, roles)
            rival = formula_gradients(self.contrast, spec, state, config, x64, g64, b64, roles)
            scale = abs_formula_gradients(spec, state, config, x64, g64, b64, roles)
            n = spec.inner_length(case)
            tol = {k: 2 * fwd_tolerance(case.torch_dtype, n, scale[k] + paper[k].abs() + rival[k].abs()
                                        + paper[k].abs().max()) for k in roles}
            margins = {k: margin(impl[k] - paper[k], tol[k]) for k in roles}
            separation = max(margin(rival[k] - paper[k], tol[k]) for k in roles)
            measured = {**{f"margin_{k}": m for k, m in margins.items()}, "contrast_separation": separation}
            worst = max(margins.values())
            if worst > 1.0:
                bad = max(margins, key=margins.get)
                as_rival = all(margin(impl[k] - rival[k], tol[k]) <= 1.0 for k in roles)
                also = f"; they equal the {self.contrast_text} reading's" if as_rival else ""
                raise Violation(f"gradient of '{bad}' differs from the paper's formula by "
                                f"{figure(float((impl[bad] - paper[bad]).abs().max()), float(tol[bad].max()))} "
                                f"({ratio(worst)}× the tolerance){also} [{case}]", measured)
            if separation <= 10.0:
                raise RuntimeError(f"non-vacuity guard: the {self.contrast_text} reading's gradients are within "
                                   f"{separation:.3g}× the tolerance of the paper's; the case cannot tell them apart "
                                   f"[{case}]")
            record.add(case, worst, measured)

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"gradients of every trainable equal those of the paper's formula (autograd in "
            f"float64 through the realised state) in all {rec.examples} examples{rec.worst_clause()}; "
            f"the {self.contrast_text} reading differs by "
            f"{ratio(rec.first_measured.get('contrast_separation', float('nan')))}× the tolerance on the witness",
        )
