"""torchtune's DoRA: `torchtune.modules.peft.DoRALinear(in_dim, out_dim, rank=r, alpha=α, dropout=0.0,
use_bias=<the suite's>)`, set up as the LoRA recipes do: base weight and bias loaded, then the layer's own
`initialize_dora_magnitude()` (m = ‖W + s B A‖ per output row, B = 0), then `set_trainable_params` (see the package
docstring).

Known bug (undocumented): the forward scales the layer's bias by m / ‖W + s B A‖_c along with W x. `base_out =
F.linear(x, self.weight, self.bias)` (dora.py:168) carries the bias, and `dora_out = (mag_norm_scale - 1) * base_out
+ …; return dora_out + base_out` (dora.py:187-191) returns mag_norm_scale ⊙ (W x + b) + …, whereas the paper
decomposes the weight only (Eq. 2, 5) and torchtune's own merge, `get_merged_lora_ckpt` (_utils.py:186-196), scales
the weight and leaves the bias alone. Invisible at init (m / ‖W‖_c = 1) and on bias-free layers (Llama's); Qwen2's
q/k/v projections have a bias (models/qwen2/_component_builders.py:349-375). One cause, three claims:
dora.bias-outside, dora.decomposition (the bias part of the forward), dora.norm-constant (∂L/∂m gains g·b/‖V‖_c).
The merge claim (dora.merge, bound through `get_merged_lora_ckpt`) shows the same bug from the other side: the merge
is the paper's (m (V + ∆V)/‖V + ∆V‖_c, bias unchanged) and MATCHES, so on a layer with a bias the checkpoint the
recipes save computes a different function from the trained forward (measured at random m, A, B, d_in=20, d_out=36,
r=4, float64: max |forward − merged-layer output| = 2.21 = max |f(0) − b|; bias-free: 2e-15).

torchtune 0.6.1 has neither rsLoRA (the scaling is always alpha / rank, dora.py `__init__`) nor a Gaussian init of A
(always Kaiming-uniform, dora.py `_lora_a_init_params`): those cells are N/A.
"""

from __future__ import annotations

from fidelity.impls.base import Declaration

VARIANT = "dora"
DTYPES = ("float64", "float32", "bfloat16")


def provides(options: dict) -> str | None:
    if options.get("use_rslora"):
        return "torchtune 0.6.1 has no rsLoRA option: DoRALinear always scales by alpha / rank"
    if options.get("init_a", "kaiming") != "kaiming":
        return f"torchtune 0.6.1 has no init_a={options['init_a']!r}: DoRALinear always draws A Kaiming-uniform"
    return None


def build(lib, weight, bias, config, calibration=None):
    from torchtune.modules.peft import DoRALinear

    from fidelity.impls.torchtune import set_up

    return set_up(lib, DoRALinear, weight, bias, config)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from torchtune.modules.peft import _utils, dora

    from fidelity.impls.torchtune import merge_source

    return {
        "init": (dora, r"nn\.init\.kaiming_uniform_|nn\.init\.zeros_|def initialize_dora_magnitude|"
                 r"base_weight = self\.weight\.to|lora_weight = self\.lora_b\.weight @|self\.magnitude\.copy_|"
                 r"weight = weight \+ self\.scaling \* lora_weight|weight_norm = torch\.linalg\.norm", 0),
        "scaling": (dora.DoRALinear.__init__, r"self\.scaling = alpha / rank", 0),
        "forward": (dora.DoRALinear.forward, r"base_out = F\.linear\(x, self\.weight, self\.bias\)|"
                    r"lora_out = self\.lora_b|lora_weight = self\.lora_b\(|weight_norm = |mag_norm_scale = |"
                    r"dora_out = \($|mag_norm_scale - 1$|\) \* base_out|return dora_out", 0),
        "trainable": (_utils, r"if n in current_adapter_params:|v\.requires_grad_\(k in adapter_params\)", 1),
        "merge": merge_source("dora"),
        "citation": (dora.DoRALinear, r"2402\.09353", 0),
    }


def citation_text(options: dict) -> str:
    from torchtune.modules.peft import dora

    return dora.DoRALinear.__doc__ or ""


_BIAS_LINK = "https://github.com/pytorch/torchtune/blob/v0.6.1/torchtune/modules/peft/dora.py#L187-L191"
_BIAS_EVIDENCE = ("DoRALinear.forward returns (m/‖W + sBA‖_c)·F.linear(x, W, b) + …, scaling the bias along with W x, "
                  "where the paper decomposes the weight only (Eq. 2, 5) and torchtune's own get_merged_lora_ckpt "
                  "scales W alone. Measured at random m, A, B (d_in=20, d_out=36, r=4): f(0) − b up to 0.92 (float32) "
                  "/ 0.996 (float64), f(0) = (m/‖V‖_c)·b to 2e-16, bias-free layers exact to 7e-15, and the merged "
                  "checkpoint's output differs from the forward's by the same 0.996")

DECLARATIONS = (
    Declaration(
        claim="dora.bias-outside",
        kind="known_bug",
        variant="dora",
        rationale=_BIAS_EVIDENCE,
        link=_BIAS_LINK,
        # the failure is exactly the rival reading's: f(0) = m/‖V + ∆V‖_c · b
        signature=r"effective bias f\(0\) differs from the paper's .*; "
                  r"it equals the bias scaled by m/‖V \+ .V‖_c reading",
    ),
    Declaration(
        claim="dora.decomposition",
        kind="known_bug",
        variant="dora",
        rationale=_BIAS_EVIDENCE + "; the effective weight itself is within tolerance",
        link=_BIAS_LINK,
        # the weight within tolerance (margin ≤ 1, as printed raw or committed), the bias not, on a layer with a bias
        signature=r"effective-weight margin (?:≤ 1|[01]|0\.\d+|\d(?:\.\d+)?e-\d+), bias margin [^\]]*\[[^\]]*bias=True",
    ),
    Declaration(
        claim="dora.norm-constant",
        kind="known_bug",
        variant="dora",
        rationale=_BIAS_EVIDENCE + "; so ∂L/∂m gains g·b/‖V‖_c (0.27 off in float64), while A's and B's "
        "gradients match and the norm is detached as §4.3 says",
        link=_BIAS_LINK,
        # only the magnitude's gradient is off (not the norm-differentiated reading), on a layer with a bias
        signature=r"^gradient of 'magnitude' differs from the paper's formula by [^;]*\[[^\]]*bias=True",
    ),
)
ALTERNATIVE_FAILS_FOR = {}  # no deviation declared: known bugs have no alternative property
