"""K18 calibration-data contract: a data-driven init refuses to attach without its data, or with fewer usable
rows than the rank, with an error (never a silent fall-back to the plain init, history C.20); with the data it
attaches. The weight handed to the implementation is unchanged by a refused attach.
"""

from __future__ import annotations

import torch

from fidelity.cases import base_layer, seed_torch
from fidelity.checks.base import Check, Evidence, Subject, Violation, run_property


class NoTermination(Exception):
    """Raised by a binding that had to stop an implementation which would otherwise never return (an endless
    calibration loop): the attach neither attached nor refused, so the error the contract requires did not happen."""


class CalibrationRequired(Check):
    kind = "calibration_contract"
    topic = "init"

    def __init__(self, too_few_rows: bool = True, options: dict | None = None):
        super().__init__(options)
        self.too_few_rows = too_few_rows  # also require a refusal with fewer than r rows (False: only without data)

    def __repr__(self) -> str:
        return super().__repr__() if self.too_few_rows else "CalibrationRequired(too_few_rows=False)"

    def run(self, subject: Subject, profile) -> Evidence:
        spec, binding = subject.variant, subject.binding

        def attach(case, calibration):
            base = base_layer(case)
            weight, bias = base.weight.detach().clone(), base.bias.detach().clone() if base.bias is not None else None
            before = weight.clone()
            seed_torch(case.seed)
            try:
                binding.build(spec.name, weight, bias, subject.config(case), calibration)
                error = None
            except NoTermination as exc:  # neither attached nor refused: the implementation would hang
                rows = 0 if calibration is None else calibration.shape[0]
                raise Violation(f"with {rows} calibration rows the attach never returns instead of raising: {exc} "
                                f"[{case}]") from None
            except Exception as exc:  # the contract is that it raises; which exception is the implementation's call
                error = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
            if not torch.equal(weight, before):
                raise Violation(f"a refused attach changed the weight it was given [{case}]")
            return error

        def prop(case, record):
            data = spec.calibration(case)
            measured = {"rows": float(data.shape[0])}
            missing = attach(case, None)
            if missing is None:
                raise Violation(f"attached without calibration data (silent fall-back) [{case}]", measured)
            too_few = attach(case, data[: case.r - 1]) if self.too_few_rows else "not required"
            if too_few is None:
                raise Violation(f"attached with {case.r - 1} calibration rows, fewer than r = {case.r} [{case}]",
                                measured)
            if attach(case, data) is not None:
                raise RuntimeError(f"non-vacuity: attaching with {data.shape[0]} rows of data failed too [{case}]")
            record.add(case, 0.0, {**measured, "error_without_data": missing, "error_too_few_rows": too_few})

        return run_property(
            prop, profile, subject,
            observation=lambda rec: f"without calibration data"
            f"{', and with fewer rows than r,' if self.too_few_rows else ''} attaching raises "
            f"(e.g. {rec.first_measured.get('error_without_data', '?')!r}); with data it attaches; in all "
            f"{rec.examples} examples",
        )
