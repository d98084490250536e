"""PEFT's HRA: `HRAConfig(r, apply_GS, init_weights=True)`, the Householder chain and, with apply_GS=True, the
paper's strictly orthogonal variant (Gram–Schmidt). PEFT has no orthogonality regulariser (Eq. 6): HRAConfig has no
λ and neither hra/model.py nor hra/layer.py adds a loss term, so the regulariser cell is N/A.

`init_weights=False` (random unpaired Kaiming vectors) changes only the init, not the forward, and PEFT's help says
not to change it, so no cell exercises it.
"""

from __future__ import annotations

from fidelity.checks import Validation
from fidelity.impls.base import Declaration
from fidelity.variants.hra import ODD_R, odd_rank

VARIANT = "hra"
ROLE_NAMES = {"hra_u.default": "reflectors"}
DTYPES = ("float64", "float32", "bfloat16")


def provides(options: dict) -> str | None:
    if options.get("lam"):
        return ("peft 0.21.2 has no orthogonality regulariser: HRAConfig has no λ field and no HRA module adds a "
                "loss term (peft/tuners/hra/model.py, layer.py), although its docs (package_reference/hra.md) say "
                "'an orthogonality regularizer of the HR planes is added to the loss function'; a user adds "
                "λ‖I − ÛᵀÛ‖²_F to the loss by hand")
    return None


def peft_config(peft, config):
    return peft.HRAConfig(r=config.r, apply_GS=config.apply_GS, init_weights=True, target_modules=["lin"])


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.hra import layer, model

    return {
        "init": (layer.HRALayer.reset_hra_parameters, r"% 2 != 0|warnings\.warn|kaiming_uniform_|"
                 r"repeat_interleave", 0),
        "forward": (layer.HRALinear, r"if apply_GS:|weight = \[\(opt_u\[:, 0\]|ui = ui - |weight\.append|"
                    r"weight = torch\.eye\(shape\[0\].*- 2|opt_u = opt_u / opt_u\.norm|weight = weight - 2 \* weight|"
                    r"new_weight = torch\.mm\(|result = F\.linear", 0),
        "trainable": trainable_source(),
        "citation": (model.HRAModel, r"2405\.17484", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.hra import model

    return model.HRAModel.__doc__ or ""


DECLARATIONS = (
    Declaration(
        claim="hra.even-r", kind="deviation", variant="hra",
        rationale="PEFT documents the requirement instead of enforcing it: HRAConfig's help says 'It is best to set "
        "'r' to an even number; otherwise, the default initialization method will not work', and with an odd r "
        "reset_hra_parameters warns 'The symmetric initialization can NOT be performed when r is odd!' and falls "
        "back to r unpaired Kaiming-uniform vectors, so the layer is not an identity at init (max |y' − y| = 1.31 "
        "on a float64 32→24 layer with r = 3); the user is told, and every even r keeps the identity",
        alternative=Validation(invalid=odd_rank, text=f"{ODD_R} must be refused or warned about",
                               warning_suffices=True),
        preserves=("hra.identity-at-init",),
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/hra/config.py#L30-L32",
    ),
    Declaration(
        claim="hra.gs-orthogonal-at-init", kind="known_bug", variant="hra",
        rationale="found by this suite, no upstream issue found: with apply_GS=True PEFT keeps the paired init "
        "(u_2k = u_2k+1, reset_hra_parameters) and runs Gram–Schmidt on it (get_delta_weight); the second vector "
        "of each pair is parallel to the first, so its residual is rounding noise, which ui / ui.norm() blows up "
        "to a unit vector in an arbitrary direction, not orthogonal to the others. The strictly orthogonal layer "
        "is then not orthogonal at init: on the witness (W = I, d = 24, r = 8, float64) max|TᵀT − I| = 5.44, singular "
        "values from 0.29 to 3.58 instead of 1 (float32, d = 36, r = 4: 1.37); "
        "over 200 random layers (d 2–48, even r) 58 (float64) and 64 (float32) gave NaN (an exactly zero residual, "
        "0/0) and the rest max|TᵀT − I| with median 4.56; step-0 gradients of hra_u reach 8e16 (median, float64). "
        "It is orthogonal at random independent V_r (hra.gs-orthogonal); the paper's GS variant starts from an "
        "independent V_r (the authors' code: V_r = [I_r; 0])",
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/hra/layer.py#L227",
        signature=r"not orthogonal|NaN or infinite",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "hra.even-r": "tests.mutants.hra:OddRankAccepted",  # neither refuses nor warns
}
