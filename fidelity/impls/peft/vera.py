"""PEFT's VeRA: `VeraConfig(r, projection_prng_key, save_projection=True, d_initial, vera_dropout=0.0)`.

PEFT draws one pair vera_A (r, max d_in), vera_B (max d_out, r) per model, from a torch.Generator seeded with
projection_prng_key (model.py `_init_vera_A_vera_B`, `_kaiming_init`: gain √2, bound √(6/fan_in)), keeps it in
BufferDicts that every VeRA layer references, and slices it in the forward: A_l = vera_A[:, :d_in],
B_l = vera_B[:d_out, :]. The layer's named_buffers() hold the full shared matrices (`vera_A.default`,
`vera_B.default`), which are the slices the forward uses exactly when every adapted layer has the model's largest
shape: true of the suite's one-layer models and of the two same-shape layers of the sharing claim. `attach` asserts
it, so a check that ever builds layers of different shapes gets an error instead of reading the wrong matrices.
(In a model with layers of different shapes, a smaller layer's A_l is a slice of a matrix drawn with the largest fan-in,
so its bound is √(6/max d_in), not √(6/d_in): measured 0.0765 = √(6/1024) for a 256-input layer next to a 1024-input
one. The paper's adapted layers share one shape, so no claim covers this.)

`d_initial` is filled into a float32 tensor and then cast to the layer's dtype (layer.py `update_layer`,
`reset_vera_parameters`): 0.1 is realised as 0.10000000149 in a float64 layer. The paper's d_initial is exact, so
that is PEFT's known bug (nothing in PEFT states it), characterised exactly by the float32-staged value (peft.md §5).
"""

from __future__ import annotations

from fidelity.checks import InitValue
from fidelity.impls.base import Declaration
from fidelity.variants.vera import SMALL_D, d_initial_vector

VARIANT = "vera"
ROLE_NAMES = {"vera_lambda_b.default": "lambda_b", "vera_lambda_d.default": "lambda_d"}
CONVENTIONS = ("peft-prng",)  # its own: a torch.Generator(projection_prng_key) draws A, then B, in float32
BUFFER_NAMES = {"vera_A.default": "down", "vera_B.default": "up"}
DTYPES = ("float64", "float32", "bfloat16")


def peft_config(peft, config):
    return peft.VeraConfig(r=config.r, d_initial=config.d_initial, projection_prng_key=config.projection_prng_key,
                           save_projection=True, vera_dropout=0.0, target_modules=["lin"])


def attach(peft, model, cfg, calibration):
    """get_peft_model, then check that each layer's buffers are the slices its forward uses (see the docstring)."""
    from peft.tuners.vera.layer import VeraLayer

    model = peft.get_peft_model(model, cfg)
    for name, layer in model.named_modules():
        if isinstance(layer, VeraLayer):
            a, b = layer.vera_A["default"], layer.vera_B["default"]
            if a.shape[1] != layer.in_features or b.shape[0] != layer.out_features:
                raise RuntimeError(f"{name}: the shared vera_A {tuple(a.shape)} / vera_B {tuple(b.shape)} are larger "
                                   f"than the layer ({layer.out_features}×{layer.in_features}); expose the sliced "
                                   "matrices before checking layers of different shapes")
    return model


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from peft.tuners.vera import config, layer, model

    return {
        # one object per topic: "init" cites the vectors' init and the layers' references to the shared pair
        # (layer.py); the pair's seeded Kaiming draw and its frozen BufferDicts (model.py) are cited under "trainable"
        "init": (layer.VeraLayer, r"self\.vera_lambda_[bd]\[adapter_name\] = nn\.Parameter|self\.vera_[AB] = vera_[AB]$|"
                 r"fill_\(d_initial\)|zeros_\(self\.vera_lambda_b", 0),
        "forward": (layer.Linear.forward, r"sliced_[AB] = vera_[AB]\[|result = result \+ lambda_b", 0),
        "trainable": (model, r"self\.vera_[AB] = BufferDict|generator = torch\.Generator|vera_[AB] = _kaiming_init\(|"
                      r"gain = math\.sqrt\(2\)|bound = math\.sqrt\(3\.0\) \* std|tensor\.uniform_\(", 0),
        "citation": (config.VeraConfig, r"2310\.11454", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.vera import config

    return config.VeraConfig.__doc__ or ""


# vera_lambda_d is created as torch.randn(r) in torch's default dtype (float32), filled with d_initial and cast to the
# layer's dtype afterwards: in a float64 layer d = 0.10000000149. Documented nowhere, so a known bug; characterised
# exactly by the value staged in float32.
_STAGED = ("peft creates vera_lambda_d in torch's default dtype (float32), fills d_initial and casts the adapter to "
           "the layer's dtype afterwards, so a float64 layer holds d_initial rounded to float32 (0.1 -> "
           "0.10000000149); nothing in PEFT states it")
_STAGED_LINK = "https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/vera/layer.py#L90"
DECLARATIONS = tuple(
    Declaration(claim=claim, kind="known_bug", variant="vera", rationale=_STAGED, link=_STAGED_LINK,
                alternative=InitValue(role="lambda_d", expected=d_initial_vector, text=text + ", rounded to float32",
                                      staged="float32", options=options))
    for claim, text, options in (("vera.d-initial", "d_initial = 0.1 in every entry", None),
                                 ("vera.d-initial-small", "d_initial = 1e-7 in every entry", SMALL_D)))

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it failing)
ALTERNATIVE_FAILS_FOR = {
    "vera.d-initial": "tests.mutants.vera:DInitialIgnored",
    "vera.d-initial-small": "tests.mutants.vera:DInitialIgnored",
}
