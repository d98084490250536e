"""The review's Inference line: what a cell's measurement implies, written from the check kind, the claim and the
evidence (issue 13): what was compared, at which states, and what a different implementation would have shown.

The Observation above it says what was measured; this says why that settles the claim. Nothing here is a rounding-level
number: the figures come from the committed (stable) observation, or are computed from the witness case itself.
"""

from __future__ import annotations

import math
from typing import Callable

from fidelity.stable import stable
from fidelity.verdicts import Verdict


def _roles(names) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none"


def _option_list(check) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in check.options.items())


def _num(x: float) -> str:
    return f"{x:.3g}"


def _scaling(check, claim, ev, spec) -> str:
    case = spec.witness
    cfg = spec.make_config(spec.case_for_options(case, check.options), **check.options)
    claimed = check.law(case, cfg)
    alpha, r = getattr(cfg, "alpha", None), getattr(cfg, "r", None)
    others = []
    if alpha is not None and r:
        for text, value in (("α/r", alpha / r), ("α/√r", alpha / math.sqrt(r)), ("α", alpha), ("1 (no scale)", 1.0)):
            if text != check.law_text and not math.isclose(value, claimed):
                others.append(f"{text} = {_num(value)}")
    where = f"α = {_num(alpha)}, r = {r}" if alpha is not None and r else str(case)
    contrast = (f"; the other laws give {', '.join(others)} there" if others else "")
    moved = "with α and with the padded rank" if spec.pad_rank is not None else "with α"
    return (f"At the witness ({where}) {check.law_text} = {_num(claimed)}{contrast}. The fitted ŝ equals "
            f"{check.law_text} there and moves {moved} as {check.law_text} does at every example, so no other law "
            f"fits.")


def _formula(check, claim, ev, spec) -> str:
    case = spec.witness
    cfg = spec.make_config(spec.case_for_options(case, check.options), **check.options)
    try:
        scale = f", its scale s = {_num(spec.scaling(cfg))} at the witness"
    except Exception:  # noqa: BLE001 - a variant without a scalar scale
        scale = ""
    compared = (f"the stated reading ({check.reading_text})" if getattr(check, "reading", None)
                else f"the paper's W_eff as `effective_weight` in fidelity/variants/{spec.name}.py writes it{scale}")
    return (f"Compared with {compared}, recomputed in float64 from the realised trainables after "
            f"moving them to random states: the layer computes that formula away from init too, where a wrong scale, "
            f"a missing term or a term on the wrong side would exceed the rounding bound by orders of magnitude.")


def _identity(check, claim, ev, spec) -> str:
    if spec.identity == "exact":
        return ("Fine-tuning starts from the pretrained function exactly: the adapter adds not even "
                "rounding at init, so a non-zero factor or a bias added twice would show as a non-zero difference.")
    return ("The layer starts as the pretrained one up to the rounding of the rewritten weight, the "
            "least a W_res + initial-term split allows; a residual built from other factors than the adapter's "
            "would exceed that bound.")


def _zero_side(check, claim, ev, spec) -> str:
    zero = check.zero if check.zero is not None else spec.zero_at_init
    rest = {r.name for r in spec.roles} - set(zero)
    return (f"ΔW = 0 at init comes from {_roles(zero)} alone, the side the paper sets to zero; {_roles(rest)} start "
            f"non-zero, so swapping the sides (or zeroing both) would have been caught.")


def _liveness(check, claim, ev, spec) -> str:
    live = check.live if check.live is not None else spec.live_at_step0
    dead = {r.name for r in spec.roles} - set(live)
    tail = (f"; {_roles(dead)} receive an exactly zero gradient until then, as the init implies" if dead
            else "; none is dead")
    return f"The first optimiser step moves {_roles(live)}{tail}: the stated training dynamics, not only the init values."


def _inventory(check, claim, ev, spec) -> str:
    return (f"Exactly the stated trainables ({_roles(r.name for r in spec.roles)}) train and the base stays frozen, "
            f"so the parameter count is the closed form's, nothing more.")


def _merge(check, claim, ev, spec) -> str:
    if check.unmerge:
        return ("Unmerging restores W0 within the rounding of adding and subtracting the update, through the "
                "implementation's own path: an adapter can be removed after a merge.")
    return ("The implementation's merge stores the function that was trained (W_eff, b_eff at random trained states, "
            "not only at init): deployed and unmerged inference agree.")


def _low_rank(check, claim, ev, spec) -> str:
    bound = check.bound(spec.witness) if getattr(check, "bound", None) else spec.witness.r
    return (f"The update never has rank above the paper's bound ({bound} at the witness): σ_(rank+1) stays at "
            f"rounding while σ_1 is far above it, so a full-rank leak (a trainable bias on W, a frozen term left "
            f"in) would have shown.")


def _init_distribution(check, claim, ev, spec) -> str:
    return (f"'{check.role}' fits the {check.family.replace('_', '-')} family on two large layers while the negative "
            f"control is rejected: the test could tell the families apart, and the init is the one named (its scale "
            f"is not part of this claim).")


def _citation(check, claim, ev, spec) -> str:
    observed = ev.observation if ev else ""
    named = ("with its first author and year" if "not named" not in observed
             else "by its arXiv id alone (no author or year beside it), which is enough")
    return (f"The implementation's own text names arXiv:{check.paper} {named} to trace the method "
            f"to the paper checked here.")


def _confinement(check, claim, ev, spec) -> str:
    if check.confined:
        return ("At random trained states the update writes only into span U_r and reads only span V_r: it cannot "
                "touch the directions the frozen basis leaves out, whatever is learned.")
    return ("At random trained states the update leaves W0's top-r singular subspaces on both sides: it is free, as "
            "the paper's unconstrained factors are.")


def _reconstruction(check, claim, ev, spec) -> str:
    tail = (" and the residual is the tail, orthogonal to an independently computed basis," if check.tail else "")
    return (f"The frozen residual plus the adapter's initial term gives W back{tail} so the split "
            f"loses nothing of W and the adapter owns exactly its part.")


TEXTS: dict[str, Callable] = {
    "scaling": _scaling,
    "formula": _formula,
    "identity": _identity,
    "zero_side": _zero_side,
    "liveness": _liveness,
    "inventory": _inventory,
    "merge": _merge,
    "low_rank": _low_rank,
    "init_distribution": _init_distribution,
    "citation": _citation,
    "confinement": _confinement,
    "reconstruction": _reconstruction,
    "optimality": lambda c, cl, ev, spec: (
        (f"The initial term attains the weighted Eckart–Young minimum for M = {c.weighting.text}, below the plain "
         "SVD's crop: it is the best rank-r approximation in that weighting, and a basis from another weighting would "
         "sit above the minimum.") if c.weighting is not None else
        ("The initial term attains the Eckart–Young minimum: it is the best rank-r approximation of W, and any other "
         "rank-r split would sit above it.")),
    "calibration_statistic": lambda c, cl, ev, spec: (
        f"Fed as {c.samples} batches, the rows give the same init as in one: the statistic ({c.reading.text}) weighs "
         "every row equally, however they are batched." if c.samples > 1 else
         f"The init is the paper's statistic of the calibration rows ({c.reading.text}), recomputed independently in "
         "float64 from the same rows: any other statistic (centred, damped, another power) would differ beyond its "
         "bound."),
    "calibration_contract": lambda c, cl, ev, spec: (
        "Missing or too few calibration rows are refused before anything changes: an uncalibrated layer cannot pass "
        "as a calibrated one."),
    "near_identity": lambda c, cl, ev, spec: (
        f"The init is a near-identity by design: the output moves, never by more than {c.bound_text}, so the "
        "perturbation is the declared one and not a larger init bug."),
    "bias": lambda c, cl, ev, spec: (
        f"The bias enters as the paper's formula has it at random trained states; {c.contrast_text} would have "
        "differed on the witness, so the probe tells the readings apart."),
    "gradient_path": lambda c, cl, ev, spec: (
        f"Training follows the paper's gradients, with what the paper holds constant detached; {c.contrast_text} "
        "differs far beyond the tolerance, so the probe tells the readings apart."),
    "decomposition": lambda c, cl, ev, spec: (
        "The stored bases span the subspaces the paper names, compared as projectors (signs and rotations inside a "
        "subspace are free) and far from the negative control."),
    "rotation": lambda c, cl, ev, spec: (
        "Each block is a proper rotation (det +1) within the stated angle bound"
        + (f", undone by {c.inverse_text}" if c.inverse_text else "")
        + ": the rotation the paper constructs, not a reflection or an unbounded map."),
    "orthogonality": lambda c, cl, ev, spec: (
        f"The transform preserves norms {'at its own init' if c.at_init else 'at random trained states'}"
        f"{', ' + c.fix_text if c.fix_text else ''}: it is orthogonal, as the paper's construction requires."),
    "sign_invariance": lambda c, cl, ev, spec: (
        "The function ignores the SVD's arbitrary signs (while flipping U alone changes it): no sign "
        "canonicalisation is needed, and a basis-dependent trainable would have shown."),
    "gain_bounds": lambda c, cl, ev, spec: (
        f"'{c.role}' keeps the 1+ELU gain positive, on its piecewise law and C¹ at 0: no singular value "
        "can be switched off or flipped by training."),
    "runtime_off": lambda c, cl, ev, spec: (
        "Setting the coefficient to 0 switches the adapter off whatever was trained: the base model is one call away."),
    "init_value": lambda c, cl, ev, spec: (
        f"At init '{c.role}' holds {c.text}, the value the paper's formula gives."),
    "influence": lambda c, cl, ev, spec: (
        "No trainable is dead weight: every tensor, and every coordinate, row and column probed, moves the output."),
    "validation": lambda c, cl, ev, spec: (
        f"{c.text[0].upper() + c.text[1:]}: such a configuration is refused, not silently changed."),
    "seeded": lambda c, cl, ev, spec: (
        f"The frozen random tensors are a function of {c.key} alone: a checkpoint storing only the seed rebuilds "
        "them."),
    "sharing": lambda c, cl, ev, spec: (
        f"One frozen {_roles(c.shared)} serves every adapted layer and only the trainables are per layer: the "
        "parameter saving the paper claims."),
    "norm_bound": lambda c, cl, ev, spec: (
        f"The update never exceeds {c.text}, and reaches it where the paper says it is attained: the bound holds "
        "and is tight."),
    "invariance": lambda c, cl, ev, spec: (
        f"{c.text[0].upper() + c.text[1:]} leaves the function unchanged while {c.control_text} moves it: the "
        "symmetry holds and the probe can see a change."),
    "steering_linearity": lambda c, cl, ev, spec: (
        "The update is linear in the steering coefficient: reversing α reverses the update."),
    "regularizer": lambda c, cl, ev, spec: (
        "The term added to the loss is the paper's regulariser, weight included, at random trained states."),
    "support": lambda c, cl, ev, spec: (
        "Each trainable moves exactly its stated entries of the core between U and Vh, and every one of them ("
        + "; ".join(f"'{g.role}' {g.text}" for g in c.regions) + "): a block on the wrong coordinates, a gain that "
        "mixes directions or a part left unused would have shown."),
    "sibling": lambda c, cl, ev, spec: (
        f"Built from the same weight and rows ({c.calibration_text}), the variant's basis, initial term and singular "
        f"values are {c.sibling}'s, while ordinary rows make the two differ: the equivalence belongs to that case, not "
        "to a code path the two share."),
    "spectrum": lambda c, cl, ev, spec: (
        "The operator on the frozen subspace coordinates, measured through the probe, is symmetric with its "
        f"eigenvalues {c.interval_text or c.expected_text}{' (' + c.fix_text + ')' if c.fix_text else ''}: what it "
        "does to the subspace is settled by its spectrum, not read from the code."),
    "degenerate": lambda c, cl, ev, spec: (
        f"The degenerate case is measured against {c.sibling} built by the same implementation, not assumed: the two "
        f"agree where stated and elsewhere differ by exactly {c.difference_text}, far above rounding, so the relation "
        "holds as stated and no further."),
}


def where_declared(declaration) -> str:
    """The declaration's own link (the library's line or issue), else where the suite's code writes it."""
    return declaration.link or (f"declared at {declaration.where}" if declaration.where else "the declaration")


def infer(result, check, spec) -> str:
    """One or two sentences from the cell's verdict, its check and its evidence ("" for N/A: the reason says it)."""
    v = result.verdict
    if v is Verdict.MATCHES:
        writer = TEXTS.get(result.claim.kind)
        if writer is None or check is None:
            return f"So the claim holds at every state drawn ({result.claim.title})."
        text = writer(check, result.claim, result.evidence, spec)
        if not check.options:
            return text
        return f"With {_option_list(check)}: {text[0].lower() + text[1:] if text[1:2].islower() else text}"
    if v is Verdict.DEVIATES_OK:
        d, alt = result.declaration, result.alternative.evidence
        kept = ", ".join(f"`{c}`" for c in d.preserves) or "none declared"
        return (f"The paper's property (“{result.claim.title}”) does not hold, on purpose ({where_declared(d)}); in its "
                f"place the declared "
                f"alternative `{d.alternative!r}` holds ({stable(alt.observation)}), and the claims it keeps "
                f"({kept}) are checked as their own points.")
    if v is Verdict.DEVIATES and result.known_bug:
        d, alt = result.declaration, result.alternative
        if alt is not None and alt.evidence is not None and alt.evidence.passed:
            return (f"A known bug, characterised exactly: the property declared for it holds in place of the paper's "
                    f"“{result.claim.title}” ({stable(alt.evidence.observation)}). "
                    f"Evidence: {d.rationale} ({where_declared(d)}).")
        if alt is not None and alt.evidence is not None:
            return (f"A known bug inside a declared deviation: the declared alternative fails the way the known bug "
                    f"does ({stable(alt.evidence.observation)}). Evidence: {d.rationale} ({where_declared(d)}).")
        return (f"A known bug on “{result.claim.title}”, declared with its evidence: "
                f"{d.rationale} ({where_declared(d)}).")
    if v is Verdict.DEVIATES:
        return "An undeclared departure from the paper: a bug until someone declares a rationale for it."
    if v is Verdict.STALE:
        return (f"The declaration ({where_declared(result.declaration)}) no longer matches what the implementation "
                "does and should be removed.")
    if v is Verdict.NA:
        return ""
    return "The check could not run to a conclusion; the error is shown above, not hidden as a pass."
