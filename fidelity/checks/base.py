"""Plumbing shared by the checks: the subject under test, evidence, and running a property under hypothesis.

A check is a generic property of one claim kind. It sees an implementation only through the binding
protocol (`Subject.build`) and the variant's math only through its spec; it never imports an implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

import torch
from hypothesis import example, given, seed
from hypothesis import strategies as st

from fidelity.cases import LayerCase, base_layer, seed_torch
from fidelity.profiles import Profile, hypothesis_settings
from fidelity.stable import noisy


class Violation(AssertionError):
    """The claim does not hold for one example; carries the measured numbers."""

    def __init__(self, message: str, measured: dict[str, float] | None = None):
        super().__init__(message)
        self.measured = measured or {}


@dataclass
class Evidence:
    """What a check measured: a one-line observation, numbers, examples run, and a failure if any.

    `observation` and `falsifying` mark what rounding can change (fidelity.stable): render them with `exact` for the
    console and `stable` for committed files; `measured` holds the exact numbers and is never committed.
    """

    passed: bool
    observation: str
    measured: dict[str, float] = field(default_factory=dict)
    examples: int = 0  # examples the property was run on, the failing one included
    witness: str = ""
    falsifying: str = ""  # the minimal failing example, as hypothesis reports it
    token: str = ""  # a kind-specific verdict word (citation: CITATION-CORRECT, NO_REFERENCE, …)
    # plot-ready data of the witness (fidelity/figures.py), already rounded to what a small figure resolves, so that
    # it is committed like the stable text: e.g. the fitted scale at each (α, r), σ_i/σ_1 of the update, init quantiles
    figure: dict = field(default_factory=dict)


@dataclass
class Subject:
    """One implementation of one variant with fixed options, as a check drives it."""

    binding: Any
    variant: Any
    options: dict = field(default_factory=dict)
    # dtype asked for -> the dtype it ran in, for every case the implementation does not compute in its own dtype;
    # the cell's evidence says so (a claim never runs silently in another dtype than the one it names)
    substituted: dict[str, str] = field(default_factory=dict)

    def config(self, case: LayerCase):
        return self.variant.make_config(case, **self.options)

    def adapt(self, case: LayerCase) -> LayerCase:
        """The case as the cell's options shape it (VariantSpec.case_for_options), in a dtype the implementation
        computes in (e.g. PEFT's PiSSA refuses float64)."""
        case = self.variant.case_for_options(case, self.options)
        dtypes = self.binding.dtypes(self.variant.name)
        if case.dtype in dtypes:
            return case
        self.substituted[case.dtype] = dtypes[0]
        return case.with_(dtype=dtypes[0])

    def substitution_note(self) -> str:
        """" (bfloat16 examples ran in float64: the implementation computes this variant in float64, float32)", or
        "" when every case ran in its own dtype."""
        if not self.substituted:
            return ""
        ran = "; ".join(f"{asked} examples ran in {used}" for asked, used in sorted(self.substituted.items()))
        return f" ({ran}: the implementation computes {self.variant.name} in {', '.join(self.binding.dtypes(self.variant.name))})"

    def build(self, case: LayerCase, config=None, global_seed: int | None = None):
        """Seed torch's RNG from the case (or `global_seed`), make the base layer, attach the variant: (adapted, W, b)."""
        base = base_layer(case)
        weight = base.weight.detach().clone()
        bias = base.bias.detach().clone() if base.bias is not None else None
        calibration = self.variant.calibration(case)
        seed_torch(case.seed if global_seed is None else global_seed)
        layer = self.binding.build(self.variant.name, weight, bias, config or self.config(case), calibration)
        layer.module.eval()
        layer.base.eval()
        validate_roles(layer, self.variant, case)
        return layer, weight, bias


def validate_roles(layer, spec, case: LayerCase) -> None:
    """Every trainable role is there, and every role and buffer has the paper's shape; otherwise the claim under test
    is violated (the paper's formula cannot even be evaluated on the tensors), which names the role — never an error
    of the check further on."""
    for role in spec.roles + spec.buffers:
        if role.name not in layer.roles and role.name not in layer.buffers:
            if role in spec.roles:
                raise Violation(f"no tensor for '{role.name}', the paper's {role.meaning}: the implementation has "
                                f"nothing in that role [{case}]")
            continue
        view = layer.view(role.name)
        shape = tuple(view.read().shape)
        if shape != role.shape(case):
            stored = f" ({view.how})" if view.how != "as stored" else ""
            raise Violation(f"'{role.name}' has shape {shape}{stored}; the paper's {role.meaning} has shape "
                            f"{role.shape(case)} [{case}]")


@dataclass
class Record:
    """Accumulates, across examples, the worst margin (measured / tolerance) and its numbers."""

    examples: int = 0  # examples that passed
    runs: int = 0  # examples run, a failing one included
    worst: float = -1.0
    worst_case: str = ""
    worst_measured: dict[str, float] = field(default_factory=dict)
    first_measured: dict[str, float] = field(default_factory=dict)  # the first witness's numbers

    def add(self, case: LayerCase, margin: float, measured: dict[str, float]):
        if not self.examples:
            self.first_measured = dict(measured)
        self.examples += 1
        if margin > self.worst:
            self.worst, self.worst_case, self.worst_measured = margin, str(case), dict(measured)

    def worst_clause(self, what: str = "worst margin", fmt: str = ".2g") -> str:
        """"; worst margin 0.061 (d_in=3, …)" on the console and nothing committed: how close the worst example came
        to the tolerance, and which one it was, is rounding (fidelity.stable)."""
        return noisy(f"; {what} {self.worst:{fmt}} ({self.worst_case})") if self.examples else ""


def run_property(
    prop: Callable[[LayerCase, Record], None],
    profile: Profile,
    subject: Subject,
    observation: Callable[[Record], str] = lambda rec: "",
    strategy: st.SearchStrategy[LayerCase] | None = None,
    witnesses: tuple[LayerCase, ...] = (),
) -> Evidence:
    """Run `prop` on the variant's witness first, then on the check's own `witnesses` (cases a claim needs to be
    decisive), then on hypothesis-drawn cases; a Violation fails the Evidence."""
    record = Record()
    witness = subject.variant.witness

    def test(case: LayerCase):
        record.runs += 1
        prop(case, record)

    witness = subject.adapt(witness)
    test = given(case=(strategy or subject.variant.cases()).map(subject.adapt))(test)
    for extra in reversed((*subject.variant.extra_witnesses, *witnesses)):
        test = example(case=subject.adapt(extra))(test)
    test = example(case=witness)(test)
    if subject.variant.examples_fraction < 1.0:  # an expensive variant's declared share of the examples
        profile = replace(profile, max_examples=max(1, round(profile.max_examples * subject.variant.examples_fraction)))
    test = hypothesis_settings(profile)(test)
    if profile.seed is not None:  # a seeded random search (FIDELITY_SEED, --hypothesis-seed, scripts/soak.py)
        test = seed(profile.seed)(test)
    try:
        try:
            test()
        except BaseExceptionGroup as group:  # several distinct failures: still a violation if every one is
            if not all(isinstance(e, Violation) for e in group.exceptions):
                raise
            first = group.exceptions[0]
            first.add_note(noisy(f"(and {len(group.exceptions) - 1} further distinct violation(s): "
                                 + "; ".join(str(e).splitlines()[0] for e in group.exceptions[1:]) + ")"))
            raise first from None
    except Violation as v:
        return Evidence(passed=False, observation=str(v), measured=v.measured, examples=record.runs,
                        witness=str(witness), falsifying=falsifying_text(v))
    return Evidence(passed=True, observation=observation(record),
                    measured={"worst_margin": record.worst, **record.worst_measured},
                    examples=record.examples, witness=str(witness))


def falsifying_text(violation: Violation) -> str:
    """The failing example as hypothesis reports it, without its tool notes; how many other examples failed the same
    way depends on how close they came to the tolerance, so that count is console-only."""
    notes = [n for n in getattr(violation, "__notes__", []) if n.strip() and not _tool_note(n)]
    return "\n".join(noisy(n) if n.startswith("(note:") else n for n in notes)


def _tool_note(note: str) -> bool:
    """Hypothesis's advice to its user, not evidence: the explain phase's "these lines were always and only run by
    failing test cases" (with this machine's paths), reproduce_failure and verbosity hints."""
    head = note.lstrip()
    return head.startswith(("Explanation:", "You can reproduce", "You can add @seed")) or "Verbosity.verbose" in note \
        or "always and only run by failing test cases" in note


def realised_state(layer) -> dict[str, torch.Tensor]:
    """Trainables, frozen buffers and the live base weight, read back and cast up to float64.

    References are computed from this, never through the implementation's own code paths.
    """
    state = {k: layer.read(k).detach().to(torch.float64).clone() for k in {**layer.buffers, **layer.roles}}
    if layer.weight is not None:
        state["weight"] = layer.weight.detach().to(torch.float64).clone()
    return state


def set_state(layer, values: dict[str, torch.Tensor]):
    """Write new values into live trainable or buffer tensors, each in its own dtype."""
    for name, value in values.items():
        layer.write(name, value)


def randomize(subject: Subject, case: LayerCase, layer, weight: torch.Tensor, config) -> dict[str, torch.Tensor]:
    """Move every trainable to a random non-degenerate state (claim-kinds.md §1.4); returns the realised state.
    (The roles' shapes were validated when the layer was built: `validate_roles`.)"""
    set_state(layer, subject.variant.random_state(case, realised_state(layer), weight.to(torch.float64), config))
    return realised_state(layer)


def bias64(bias: torch.Tensor | None, case: LayerCase) -> torch.Tensor:
    """The base bias in float64, zeros for a layer without one."""
    return bias.to(torch.float64) if bias is not None else torch.zeros(case.d_out, dtype=torch.float64)


def reference_output(spec, state, config, x64: torch.Tensor, b64: torch.Tensor):
    """The paper's output x W_effᵀ + b_eff in float64 from a realised state, and its scale on absolute values
    (the T-fwd `scale`); returns (y_ref, y_abs, (W_eff, |W_eff|), (b_eff, |b_eff|))."""
    w_ref, w_abs = spec.effective_weight(state, config)
    b_ref, b_abs = spec.effective_bias(state, config, b64)
    return x64 @ w_ref.T + b_ref, x64.abs() @ w_abs.T + b_abs, (w_ref, w_abs), (b_ref, b_abs)


def build_randomized(subject: Subject, case: LayerCase):
    """Build the adapted layer and move its trainables to a random non-degenerate state (§1.4), the first step of
    every check at random parameters: (config, layer, W, b, realised state)."""
    config = subject.config(case)
    layer, weight, bias = subject.build(case, config)
    return config, layer, weight, bias, randomize(subject, case, layer, weight, config)


def effective_weight(layer, case: LayerCase) -> tuple[torch.Tensor, torch.Tensor]:
    """The probe of claim-kinds.md §1.3: b_eff = f(0), W_effᵀ = f(I) − f(0), computed in the layer's dtype."""
    with torch.no_grad():
        eye = torch.eye(case.d_in, dtype=case.torch_dtype)
        zero = torch.zeros(1, case.d_in, dtype=case.torch_dtype)
        b_eff = layer(zero).to(torch.float64)[0]
        w_eff_t = layer(eye).to(torch.float64) - b_eff
    return w_eff_t.T.contiguous(), b_eff


class Check:
    """Base of all checks: one claim kind, run against one subject. Subclasses implement `run`."""

    kind = "?"
    topic = "forward"  # which source lines the review cites for this claim
    # A convention claim checks one implementation's convention where the paper leaves a choice (PEFT's PRNG staging),
    # not the paper: it runs only for implementations whose `conventions(variant)` name it, N/A for the others
    convention = ""

    def __init__(self, options: dict | None = None):
        self.options = dict(options or {})  # variant options the cell runs with, e.g. {"use_rslora": True}

    def run(self, subject: Subject, profile: Profile) -> Evidence:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options or ''})"


def convention(name: str, check: Check) -> Check:
    """Mark `check` as testing the convention `name` (e.g. "peft-prng"), not the paper: see `Check.convention`."""
    check.convention = name
    return check
