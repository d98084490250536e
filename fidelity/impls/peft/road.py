"""PEFT's RoAd: `RoadConfig(variant="road_1" | "road_2" | "road_4", group_size, init_weights=True)`.

PEFT has one pair layout, element i with element i + g/2 inside each group of g = group_size outputs, so the suite's
`layout` option is not passed on: under the paper's adjacent layout its formula and bias cells fail, and its declared
alternatives are the same checks in the half-group layout.
"""

from __future__ import annotations

from fidelity.checks import Bias, Formula
from fidelity.impls.base import Declaration
from fidelity.variants.road import bias_unrotated

VARIANT = "road"
ROLE_NAMES = {"road_theta.default": "angle", "road_alpha.default": "magnitude"}
DTYPES = ("float64", "float32", "bfloat16")


def peft_config(peft, config):
    # config.layout is not a PEFT option: PEFT always pairs (i, i + group_size/2) within each group
    return peft.RoadConfig(variant=config.variant, group_size=config.group_size, init_weights=True,
                           target_modules=["lin"])


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.road import config, layer

    forward = (r"R @ \(W @ x \+ b\) = |^def _prepare_cols|^def _apply_road|repeat_interleave\(2|"
               r"road_theta = road_theta\.reshape\(-1, 2|alpha_[12] = road_alpha|theta_(cos|sin) = road_theta\[|"
               r"^\s+(first|second)_col = |x_grouped = |rotate_half_x = |result = x \* first_col")
    return {
        "init": (layer.RoadLayer, r"size = self\.out_features|nn\.init\.(zeros_|ones_)|"
                 r"if self\.out_features % group_size", 0),
        "forward": (layer, forward, 0),
        "trainable": trainable_source(),
        "citation": (config.RoadConfig, r"2409\.00119", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.road import config

    return config.RoadConfig.__doc__ or ""


HALF_GROUP = {"layout": "half_group"}
_LAYOUT = ("PEFT pairs output i with i + g/2 inside each group of g = group_size outputs, not the adjacent outputs "
           "(2i − 1, 2i) of §3.2, for faster grouped inference (RoadLayer's docstring: 'instead of using two "
           "consecutive elements x₀ x₁ we first split the whole vector into groups and pair elements from the first "
           "with the second half of the same group'; RoadConfig's group_size help: 'This has no effect on the model "
           "performance, since elements are unordered'). The layouts differ by a fixed permutation Π of the outputs, "
           "R_PEFT = Π R Πᵀ with the parameters re-indexed: the same family of adapters, but a trained adapter is "
           "another function in the other layout (checkpoints do not transfer). The paper does not say the order is "
           "immaterial; the two layouts coincide at group_size = 2")
_LINK = "https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/road/config.py#L69-L83"


def _layout(claim: str, alternative, preserves: tuple[str, ...]) -> Declaration:
    return Declaration(claim=claim, kind="deviation", variant="road", rationale=_LAYOUT, alternative=alternative,
                       preserves=preserves, link=_LINK)


DECLARATIONS = (
    _layout("road.rotation", Formula(options=HALF_GROUP),
            ("road.identity-at-init", "road.norm-preserving", "road.trainable")),
    _layout("road.rotation-road2", Formula(options=HALF_GROUP),
            ("road.identity-road2", "road.relaxed-road2", "road.trainable-road2")),
    _layout("road.rotation-road4", Formula(options=HALF_GROUP),
            ("road.identity-road4", "road.relaxed-road4", "road.trainable-road4")),
    _layout("road.bias-rotated", Bias(contrast=bias_unrotated, contrast_text="bias left unrotated (z = R W x + b)",
                                      options=HALF_GROUP),
            ("road.identity-at-init",)),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "road.rotation": "tests.mutants.road:AdjacentOnly",
    "road.rotation-road2": "tests.mutants.road:AdjacentOnly",
    "road.rotation-road4": "tests.mutants.road:AdjacentOnly",
    "road.bias-rotated": "tests.mutants.road:AdjacentOnly",
}
