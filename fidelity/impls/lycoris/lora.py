"""LyCORIS's LoRA: `LoConModule` (algo=lora/locon) on an nn.Linear, `weight_decompose=False`, and its `rs_lora` option
(the suite's `use_rslora`: scale α/√r instead of α/r). Attachment and constructor choices: `_locon.py`.

LyCORIS stores A as `lora_down.weight` (r, d_in) and B as `lora_up.weight` (d_out, r), the paper's shapes; the scale
is `self.scale = alpha / r_factor`, r_factor = r (or √r with rs_lora). A is drawn with kaiming_uniform_(a=√5), "same
as microsoft's" (the source comment on that line), B is zero.

Citation: the installed package names no paper in its code or docstrings; its documentation does
(docs/algorithms/README.md, "Conventional LoRA": "Ref: [LoRA: Low-Rank Adaptation of Large Language Models]
(https://arxiv.org/abs/2106.09685)"), quoted verbatim by `citation_text`. Nothing of LyCORIS's cites rsLoRA.
"""

from __future__ import annotations

from fidelity.checks import InitDistribution
from fidelity.impls.base import Declaration
from fidelity.impls.lycoris import _locon

VARIANT = "lora"
DTYPES = ("float64", "float32", "bfloat16")

LORA_REF = ("### Conventional LoRA\n* Trigged by `algo=lora` or `algo=locon` (Just alias)\n"
            "* Ref: [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685)")


def attach(lib, model, targets, config, calibration=None):
    return _locon.attach(lib, model, targets, config, weight_decompose=False)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from lycoris import config_sdk
    from lycoris.modules import locon

    return {
        "init": (locon.LoConModule.__init__, r"# same as microsoft's|kaiming_uniform_\(self\.lora_down|"
                 r"constant_\(self\.lora_up\.weight, 0\)|self\.lora_(down|up) = nn\.Linear", 0),
        "scaling": (locon.LoConModule.__init__, r"r_factor = |if self\.rs_lora|self\.scale = alpha / r_factor", 0),
        "forward": (locon.LoConModule.forward, r"base = self\.org_forward\(x|base_weight = self\._current_weight|"
                    r"diff_weight = self\.make_weight|new_weight = base_weight \+|delta_weight = new_weight|"
                    r"delta = self\.op\(|return base \+ delta", 0),
        "trainable": _locon.trainable_source(),
        "merge": _locon.merge_source(),
        # the installed package's own description of the algorithm (no arXiv id); the citation is in its docs
        "citation": (config_sdk, r'description="Standard LoRA / LoCon adapter\.\"', 1),
    }


def citation_text(options: dict) -> str:
    return "" if options.get("use_rslora") else LORA_REF


_KAIMING = "https://github.com/KohakuBlueleaf/LyCORIS/blob/v4.1.3/lycoris/modules/locon.py#L161"
_NO_RSLORA_REF = "https://github.com/KohakuBlueleaf/LyCORIS/blob/v4.1.3/lycoris/modules/locon.py#L150"

DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a",
        kind="deviation",
        variant="lora",
        rationale="LyCORIS draws A (lora_down) with kaiming_uniform_(a=√5), and says why on that line: '# same as "
        "microsoft's' (the authors' reference code, microsoft/LoRA loralib/layers.py) rather than the paper's "
        "Gaussian; what the paper relies on, ΔW = BA = 0 at init with a random down-projection, is kept",
        alternative=InitDistribution(role="down", family="kaiming_uniform"),
        preserves=("lora.zero-init", "lora.identity-at-init"),
        link=_KAIMING,
    ),
    Declaration(
        claim="rslora.citation",
        kind="known_bug",
        variant="lora",
        rationale="LyCORIS implements rsLoRA's α/√r (locon.py: `if self.rs_lora: r_factor = math.sqrt(r_factor)`) "
        "but neither its code, its docstrings nor its docs (docs/usage/network-args.md lists no rs_lora) name "
        "the paper, arXiv:2312.03732",
        link=_NO_RSLORA_REF,
        signature=r"^no arXiv id in the implementation's text \(expected arXiv:2312\.03732\)",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it failing)
ALTERNATIVE_FAILS_FOR = {
    "lora.gaussian-a": "reference",  # the paper's Gaussian A
}
