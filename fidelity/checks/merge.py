"""K12 (deployment) merge equivalence: the implementation's merge path stores the paper's W_eff, and unmerging gives W0
back.

LoRA §4.1: "we can explicitly compute and store W = W0 + BA and perform inference as usual … we can recover W0 by
subtracting BA"; DoRA §4.1: the update "can be merged with the pre-trained weight before inference". At random
non-degenerate trainables (the merge of a zero update proves nothing), the weight and bias the implementation's own
merge path produces — on a copy: `AdaptedLayer.merge()`, never the layer the other checks drive — are compared with
the float64 formula of the variant (`effective_weight`, `effective_bias`), within the T-fwd bound of the merge's own
arithmetic; with `unmerge`, the weight after merging and unmerging (`AdaptedLayer.unmerge()`) with W0, within the
bound of the two roundings. An implementation without a merge path is N/A, with its binding's reason.
"""

from __future__ import annotations

import torch

from fidelity.checks.base import Check, Evidence, Subject, Violation, bias64, build_randomized, run_property
from fidelity.impls.base import NotProvided
from fidelity.numerics import fwd_tolerance, margin
from fidelity.stable import ratio


class Merge(Check):
    kind = "merge"
    topic = "merge"

    def __init__(self, unmerge: bool = False, options: dict | None = None, witnesses: tuple = (),
                 witnesses_text: str = ""):
        super().__init__(options)
        self.unmerge = unmerge
        # cases the claim always runs besides the variant's witnesses (DoRA's small-norm layers), and why
        self.witnesses, self.witnesses_text = tuple(witnesses), witnesses_text

    def __repr__(self) -> str:
        parts = (["unmerge=True"] if self.unmerge else []) + \
            ([f"witnesses: {self.witnesses_text}"] if self.witnesses else []) + ([str(self.options)] if self.options else [])
        return f"Merge({', '.join(parts)})"

    def run(self, subject: Subject, profile) -> Evidence:
        spec = subject.variant

        def prop(case, record):
            config, layer, weight, bias, state = build_randomized(subject, case)
            hook = layer.unmerge if self.unmerge else layer.merge
            if hook is None:
                raise NotProvided(f"the binding gives no {'unmerge' if self.unmerge else 'merge'} path "
                                  "(AdaptedLayer.merge/unmerge)")
            n = spec.inner_length(case)
            w_ref, w_abs = spec.effective_weight(state, config)
            w0 = weight.detach().to(torch.float64)
            if self.unmerge:  # merged, then unmerged: W0 again, within the rounding of adding and removing ∆W
                back = hook().detach().to(torch.float64)
                tol = 2 * fwd_tolerance(case.torch_dtype, n, w_abs + w0.abs())
                m = margin(back - w0, tol)
                measured = {"margin_unmerged": m, "max_abs_err": float((back - w0).abs().max())}
                if tuple(back.shape) != tuple(w0.shape) or m > 1.0:
                    raise Violation(f"after merging and unmerging the weight is not W0: margin {ratio(m)} (tolerance "
                                    f"2·2(n+2)·eps·scale with n={n}) [{case}]", measured)
                record.add(case, m, measured)
                return
            merged_w, merged_b = hook()
            merged_w = merged_w.detach().to(torch.float64)
            if tuple(merged_w.shape) != tuple(w_ref.shape):
                raise Violation(f"the merged weight has shape {tuple(merged_w.shape)}, W_eff {tuple(w_ref.shape)} "
                                f"[{case}]", {})
            b64 = bias64(bias, case)
            b_ref, b_abs = spec.effective_bias(state, config, b64)
            got_b = merged_b.detach().to(torch.float64) if merged_b is not None else torch.zeros_like(b_ref)
            m_w = margin(merged_w - w_ref, fwd_tolerance(case.torch_dtype, n, w_abs))
            m_b = margin(got_b - b_ref, fwd_tolerance(case.torch_dtype, n, b_abs))
            measured = {"margin_weight": m_w, "margin_bias": m_b}
            if float((w_ref - w0).abs().max()) <= 10 * float(fwd_tolerance(case.torch_dtype, n, w_abs).max()):
                raise RuntimeError(f"non-vacuity guard: the random state barely changes the weight [{case}]")
            if max(m_w, m_b) > 1.0:
                raise Violation(f"the merged layer is not the paper's W_eff, b_eff: weight margin {ratio(m_w)}, bias "
                                f"margin {ratio(m_b)}, tolerance 2(n+2)·eps·scale with n={n} [{case}]", measured)
            record.add(case, max(m_w, m_b), measured)

        what = ("merging then unmerging gives W0 back" if self.unmerge
                else "the merged weight and bias are the paper's W_eff and b_eff")
        return run_property(
            prop, profile, subject, witnesses=self.witnesses,
            observation=lambda rec: f"{what} at random trainable values, through the implementation's own merge path, "
            f"within the T-fwd bound in all {rec.examples} examples{rec.worst_clause()}",
        )
