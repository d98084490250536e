"""PEFT's DeLoRA: `DeloraConfig(r, delora_lambda, init_weights)` (peft/tuners/delora/).

The forward is `(x ⊙ w) Aᵀ`, scaled per rank by (λ/r)/(ā_i b̄_i) with the norms clamped at 1e-4, then `· Bᵀ`
(layer.py, `DeloraLinear.forward`); w = `torch.norm(W, dim=0)`, a persistent buffer taken at init. λ is created in
float32 and cast to the layer's dtype, so λ0 = 0.1 is realised as 0.10000000149 in a float64 layer (checks read the
realised value; the λ0 claims allow a float32-staged constant).
"""

from __future__ import annotations

from fidelity.checks import InitValue, Liveness, ZeroSide
from fidelity.impls.base import Declaration
from fidelity.impls.roles import scalar
from fidelity.variants.delora import SMALL_LAMBDA, initial_boundary

VARIANT = "delora"
ROLE_NAMES = {"delora_A.default": "down", "delora_B.default": "up", "delora_lambda.default": "strength"}
ROLE_VIEWS = {"strength": scalar}  # stored (1,)
BUFFER_NAMES = {"delora_w_norm.default": "weight_norm"}
DTYPES = ("float64", "float32", "bfloat16")


def peft_config(peft, config):
    return peft.DeloraConfig(r=config.r, delora_lambda=config.delora_lambda, init_weights=config.init_weights,
                             module_dropout=0.0, target_modules=["lin"])


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.delora import layer, model

    return {
        "init": (layer.DeloraLayer.reset_delora_parameters, r"if init_weights is True|kaiming_uniform_|zeros_|"
                 r"delora_lambda\[adapter_name\]\.data\.fill_|w_norm = torch\.norm", 0),
        "forward": (layer.DeloraLinear.forward, r"h = nn\.functional\.linear|An = torch\.clamp|Bn = torch\.clamp|"
                    r"scaling = \(self\.delora_lambda|h = h \* scaling|add_out \+= h|result = base_out", 0),
        "trainable": trainable_source(),
        "citation": (model.DeloraModel, r"2503\.18225", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.delora import model

    return model.DeloraModel.__doc__ or ""


# Numbers measured on the witness (32→24, r = 8, λ0 = 15, float64, L = ⟨G, y'⟩; fidelity/variants/delora.py).
_INIT = ("PEFT's default init (init_weights=True) draws A Kaiming-uniform and sets B = 0, documented in DeloraConfig "
         "('A is initialized with kaiming uniform initialization, while B is initialized with zeros'), and clamps "
         "‖a_i‖, ‖b_i‖ at 1e-4 so that Ξ stays finite; the paper's Eq. 9 instead draws B Kaiming too and subtracts a "
         "frozen copy of the initial update from W. The first version of the PR, by the paper's first author, had that "
         "residual init (use_residual_init); review questioned the extra frozen state it needs, and the merged code "
         "has none. Kept: the identity at init (exact: the adapter adds 0), the forward formula, the bounds and the "
         "invariances. The price is the epsilon approach the paper warns 'would sometimes lead to unstable results': "
         "at B = 0, Ξ̄ = 1/(1e-4 ‖a_i‖), so A and λ get no gradient on step 0 and ‖∂L/∂B‖_F = 2.15e6 (the paper's "
         "init: 217, with A and λ live), and one SGD step on B fills a fixed share of the boundary whatever the "
         "learning rate: ‖∆W diag(w)⁻¹‖_F = 5.76 (λ = 15) after a step of lr = 1e-8, 1e-6 or 1e-3 alike, against "
         "1.7e-5, 1.7e-3 and 1.6 with the paper's init")
_LINK = "https://github.com/huggingface/peft/pull/2780"


def _deviation(claim: str, alternative, preserves: tuple[str, ...]) -> Declaration:
    return Declaration(claim=claim, kind="deviation", variant="delora", rationale=_INIT, alternative=alternative,
                       preserves=preserves, link=_LINK)


B_ZERO = ZeroSide(zero=frozenset({"up"}))
ONLY_B_LIVE = Liveness(live=frozenset({"up"}))
KEPT = ("delora.identity-at-init", "delora.forward", "delora.boundary", "delora.frozen-copy")

DECLARATIONS = (
    _deviation("delora.no-zero-side", B_ZERO, KEPT),
    _deviation("delora.kaiming-b", B_ZERO, KEPT + ("delora.kaiming-a",)),
    _deviation("delora.step0-gradient", ONLY_B_LIVE, KEPT),
)

# λ is created as torch.empty(1) in torch's default dtype (float32), filled with λ0 and only then cast to the layer's
# dtype: in a float64 layer λ0 = 0.1 is 0.10000000149. Documented nowhere, so a known bug; characterised exactly by
# the value staged in float32.
_STAGED = ("peft creates delora_lambda as torch.empty(1) in torch's default dtype (float32), fills λ0 and casts the "
           "adapter to the layer's dtype afterwards, so a float64 layer holds λ0 rounded to float32 (0.1 -> "
           "0.10000000149); nothing in PEFT states it")
_STAGED_LINK = "https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/delora/layer.py#L114"
DECLARATIONS += tuple(
    Declaration(claim=claim, kind="known_bug", variant="delora", rationale=_STAGED, link=_STAGED_LINK,
                alternative=InitValue(role="strength", expected=initial_boundary, text=text + ", rounded to float32",
                                      staged="float32", options=options))
    for claim, text, options in (("delora.lambda-init-small", "λ0 = 0.1", SMALL_LAMBDA),))  # λ0 = 15 is exact in float32

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "delora.lambda-init-small": "tests.mutants.delora:Lambda0Zero",
    "delora.no-zero-side": "reference",  # the paper's Eq. 9 init draws B at random
    "delora.kaiming-b": "reference",
    "delora.step0-gradient": "reference",
}
