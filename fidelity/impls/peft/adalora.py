"""PEFT's AdaLoRA: `AdaLoraConfig(init_r, target_r, lora_alpha, orth_reg_weight, total_step)` on the one-layer model.

`lora_A` = Q (init_r, d_in), `lora_E` = Λ (init_r, 1), `lora_B` = P (d_out, init_r); the forward divides by
`ranknum + 1e-5` with ranknum = init_r. tinit, tfinal, deltaT, beta1 and beta2 keep PEFT's defaults (0, 0, 1, 0.85,
0.85) and total_step = 1000: they steer `update_and_allocate`, which the suite never calls (rank allocation is
training dynamics, out of scope), so they cannot change the layer at init.

PEFT adds its orthogonal regulariser in `AdaLoraModel.forward`, and only when the wrapped model's output carries a
`.loss` (a transformers model called with labels). `attach` therefore wraps the suite's linear layer in a model whose
forward returns a zero training loss when asked (`with_loss=True`), and `regularizer` reads the term PEFT added to it
through `AdaLoraModel.forward` itself (the path of PeftModelForCausalLM and the other task classes; a plain PeftModel
skips it, huggingface/peft#432).
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from fidelity.checks import Citation, Formula, Scaling
from fidelity.impls.base import Declaration
from fidelity.impls.roles import flat
from fidelity.variants.adalora import official_effective_weight, official_scaling

VARIANT = "adalora"
ROLE_NAMES = {"lora_A.default": "down", "lora_E.default": "singular", "lora_B.default": "up"}
ROLE_VIEWS = {"singular": flat}  # stored (r, 1)
DTYPES = ("float64", "float32", "bfloat16")
TOTAL_STEP = 1000  # required by AdaLoraConfig; read only by update_and_allocate


class _WithLoss(nn.Module):
    """The one-layer model; with `with_loss=True` its output also carries a zero training loss, as a transformers
    model's does when given labels, so that AdaLoraModel.forward adds its regulariser to it."""

    def __init__(self, lin: nn.Linear):
        super().__init__()
        self.lin = lin

    def forward(self, x, with_loss: bool = False):
        y = self.lin(x)
        return SimpleNamespace(logits=y, loss=torch.zeros((), dtype=y.dtype)) if with_loss else y


def peft_config(peft, config):
    return peft.AdaLoraConfig(init_r=config.r, target_r=config.target_r, lora_alpha=config.alpha,
                              orth_reg_weight=config.orth_reg_weight, total_step=TOTAL_STEP,
                              target_modules=["lin"], lora_dropout=0.0)


def attach(peft, model, cfg, calibration):
    """get_peft_model on the one-layer model, wrapped so that its forward can return a training loss."""
    if hasattr(model, "lin"):
        model = _WithLoss(model.lin)
    return peft.get_peft_model(model, cfg)


def regularizer(model, layer):
    """The term AdaLoraModel.forward adds to a zero training loss: orth_reg_weight times PEFT's orthogonality term."""
    if not isinstance(model.base_model.model, _WithLoss):
        return None
    probe = torch.zeros(1, layer.in_features, dtype=layer.get_base_layer().weight.dtype)
    return lambda: model.base_model(probe, with_loss=True).loss


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from peft.tuners.adalora import layer, model

    return {
        "init": (layer.AdaLoraLayer, r"self\.lora_[ABE]\[adapter_name\] = nn\.Parameter|nn\.init\.(zeros_|normal_)", 0),
        "scaling": (layer.AdaLoraLayer.update_layer, r"self\.ranknum\[adapter_name\]\.data\.fill_|"
                    r"self\.scaling\[adapter_name\] = ", 0),
        "forward": (layer.SVDLinear.forward, r"ranknum = self\.ranknum|result \+= \(dropout", 0),
        "trainable": (layer.AdaLoraLayer.update_layer, r"self\.ranknum\[adapter_name\] = nn\.Parameter|"
                      r"ranknum\[adapter_name\]\.requires_grad|^\s+self\._move_adapter_to_device_of_base_layer", 0),
        "regularizer": (model.AdaLoraModel.forward, r"para_cov = p @ p\.T if|regu_loss \+= torch\.norm|"
                        r"regu_loss = regu_loss / num_param|outputs\.loss \+= orth_reg_weight", 0),
        "citation": (model.AdaLoraModel, r"Paper:|openreview", 0),
    }


def citation_text(options: dict) -> str:
    from peft.tuners.adalora import model

    return model.AdaLoraModel.__doc__ or ""


_SCALE = ("the forward divides by ranknum + 1e-5 instead of r (layer.py SVDLinear.forward and get_delta_weight), "
          "exactly as the authors' loralib SVDLinear does; the authors explain ranknum as a hook for rescaling after "
          "rank allocation that they left unused, so the scale is α/(r + 1e-5), a relative 1e-5/r below §4's α/r "
          "(8.3e-7 at the witness's r = 12): visible in float64, far below float32 rounding")
_OPENREVIEW = "lq62uWRJjiY"  # the ICLR 2023 OpenReview id of the paper, the url of the authors' own BibTeX

_FORMULA_SCALE = "the forward is s · P Λ Q at random P, Λ, Q, with the scale of adalora.scaling: " + _SCALE
_REGULARIZER = (
    "AdaLoraModel.forward adds orth_reg_weight · (Σ ‖·‖_F) / num_param, the *unsquared* Frobenius norms of QQᵀ − I "
    "and PᵀP − I averaged over every lora_A and lora_B matrix of the model (model.py L241-256), where Eq. (4) and the "
    "objective L = C + γ Σ_k R(P_k, Q_k) sum the *squared* norms over layers. On one layer PEFT's term is "
    "γ(‖QQᵀ − I‖_F + ‖PᵀP − I‖_F)/2 to rounding: 0.2345 against the paper's 1.0999 (ratio 0.213) at the float64 "
    "witness's random P, Q (γ = 0.1). The gradient differs in form too (unit-norm, not vanishing near "
    "orthogonality), and averaging over 2n matrices divides the effective γ by the number n of adapted layers. "
    "Undocumented (orth_reg_weight's help says only 'The orthogonal regularization coefficient'); the authors' "
    "loralib compute_orth_regu computes the same unsquared average, so PEFT reproduces the official code, not the "
    "paper; no upstream issue found"
)
_RANKNUM = (
    "ranknum is created as a frozen nn.Parameter (layer.py L82-84), then _move_adapter_to_device_of_base_layer casts "
    "it to the base layer's dtype (tuners_utils.py L2210): for a float64 or bfloat16 base the cast returns a plain "
    "tensor, which the ParameterDict re-wraps as a new nn.Parameter with requires_grad=True, and it stays trainable "
    "(float32 bases are unaffected: the cast is a no-op). An optimizer over the trainable parameters then moves the "
    "rank in the scale's denominator α/(ranknum + 1e-5): one extra trainable scalar per layer with a non-zero "
    "gradient once Λ ≠ 0 (∂(Σ y)/∂ranknum = 0.122 on a 4-row input at the float64 witness's random state); "
    "undocumented, no upstream issue found"
)

DECLARATIONS = (
    Declaration(
        claim="adalora.scaling", kind="deviation", variant="adalora", rationale=_SCALE,
        alternative=Scaling(law=official_scaling, law_text="α/(r + 1e-5)"),
        preserves=("adalora.identity-at-init", "adalora.zero-init"),
        link="https://github.com/QingruZhang/AdaLoRA/issues/12",
    ),
    *(Declaration(
        claim=claim, kind="deviation", variant="adalora", rationale=_FORMULA_SCALE,
        alternative=Formula(reading=official_effective_weight, reading_text="s = α/(r + 1e-5), the official code's scale"), preserves=("adalora.identity-at-init", "adalora.zero-init"),
        link="https://github.com/QingruZhang/AdaLoRA/issues/12",
    ) for claim in ("adalora.svd-form", "adalora.svd-form-fixed-budget")),
    Declaration(
        claim="adalora.orthogonal-regularizer", kind="known_bug", variant="adalora", rationale=_REGULARIZER,
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/adalora/model.py#L251",
        signature=r"regularisation term added to the loss is",
    ),
    Declaration(
        claim="adalora.trainable", kind="known_bug", variant="adalora", rationale=_RANKNUM,
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/tuners_utils.py#L2210",
        signature=r"trainable parameters with no role: \['ranknum",
    ),
    Declaration(
        claim="adalora.citation", kind="deviation", variant="adalora",
        rationale="AdaLoraModel's docstring cites the paper by its ICLR 2023 OpenReview page "
        f"(https://openreview.net/forum?id={_OPENREVIEW}, the url of the authors' own BibTeX), not by its arXiv id: "
        "the same paper, named by its venue",
        alternative=Citation(paper="2303.10512", identifier=_OPENREVIEW, venue="ICLR 2023 OpenReview"),
        link="https://github.com/QingruZhang/AdaLoRA/blob/main/NLU/README.md",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "adalora.scaling": "reference",  # α/r, not the official α/(r + 1e-5)
    "adalora.svd-form": "reference",
    "adalora.svd-form-fixed-budget": "reference",
    "adalora.citation": "reference",  # cites the arXiv id, not the OpenReview page
}
