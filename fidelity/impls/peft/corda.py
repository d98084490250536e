"""PEFT's CorDA: `LoraConfig(init_lora_weights="corda", corda_config=CordaConfig(corda_method="ipm" | "kpm"))`, with
the decomposition built offline by `preprocess_corda` before `get_peft_model` (../shared/spec/peft.md §6).

The binding runs the calibration rows through the one-layer model inside `run_model`: a (N, d_in) tensor as one
calibration sample, a (S, T, d_in) tensor as S samples of T rows, one forward pass each with a (1, T, d_in) input —
the batch-size-1 layout of the CorDA recipe (huggingface/peft#2317). The base layer was deep-copied before
(`PeftBinding.build`), as preprocess_corda and get_peft_model both rewrite it. Without calibration data the binding
skips preprocess_corda, as a user who forgot it would, and get_peft_model must refuse.

PEFT refuses float64 ("Please initialize CorDA under float32, float16, or bfloat16"), so these cells run in
float32 and the references are float64 from the realised tensors. Needs the `attrs` package (peft does not declare
it).
"""

from __future__ import annotations

import torch

from fidelity.checks import CalibrationRequired, CalibrationStatistic
from fidelity.impls.base import Declaration
from fidelity.variants.corda import DAMPED

VARIANT = "corda"
ROLE_NAMES = {"lora_A.default.weight": "down", "lora_B.default.weight": "up"}
DTYPES = ("float32",)


def peft_config(peft, config):
    from peft.tuners.lora.config import CordaConfig

    return peft.LoraConfig(r=config.r, lora_alpha=config.alpha, target_modules=["lin"], lora_dropout=0.0,
                           init_lora_weights="corda", corda_config=CordaConfig(corda_method=config.method))


def attach(peft, model, cfg, calibration):
    """preprocess_corda on the calibration samples (skipped without data), then get_peft_model."""
    from peft.tuners.lora.corda import preprocess_corda

    if calibration is not None:
        samples = calibration if calibration.dim() == 3 else calibration.unsqueeze(0)  # (S, T, d_in)

        @torch.no_grad()
        def run_model():
            for sample in samples:
                model(sample.unsqueeze(0))  # (1, T, d_in): one calibration sample per forward pass

        preprocess_corda(model, cfg, run_model=run_model)
    return peft.get_peft_model(model, cfg)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.lora import config, corda, layer

    init = (r"if not hasattr\(linear, \"eigens\"\)|S /= self\.scaling|lora_[AB] = [UV]|delta = self\.scaling|"
            r"weight = weight\.data - delta")
    statistic = (r"input = input / torch\.max|covariance = input\.t\(\)|covariance_matrix \+= |covariance_matrix /= |"
                 r"damp = 0\.01|\* damp$|if inv_error < 0\.05|damp = damp \* 2|w = w @ fix_covariance_matrix|"
                 r"U, S, Vh = torch\.linalg\.svd|V = \(Vh @ cov_inv\)|corda_method == \"(ipm|kpm)\"|"
                 r"eigens\.S_WC = module\.eigens\.S_WC\[")
    return {
        "init": (layer.LoraLayer.corda_init, init, 0),
        "calibration": (corda, statistic, 0),
        "forward": (layer.Linear.forward, r"torch_result_dtype = result\.dtype|lora_B\(lora_A\(dropout", 1),
        "trainable": trainable_source(),
        "citation": (config.LoraConfig, r"2406\.05223", 0),
    }


def citation_text(options: dict) -> str:
    """The passage of LoraConfig's docstring on `init_lora_weights="corda"`."""
    from peft.tuners.lora import config

    doc = config.LoraConfig.__doc__ or ""
    start, end = "Passing `'corda'`", 'Passing `"orthogonal"`'
    return " ".join(doc[doc.index(start):doc.index(end)].split()) if start in doc and end in doc else ""


_DAMPING = ("collect_eigens_for_layer damps the covariance before decomposing it, C̃ = C + δ·mean(diag C)·I with "
            "δ = 0.01 doubled until ‖C̃ C̃⁻¹ − I‖_F < 0.05, exactly as the authors' code does (iboing/CorDA "
            "cordalib/decomposition.py, which PEFT cites as its reference), so that C̃ is invertible even for "
            "too few or repetitive samples; the adapter is [SVD(W C̃)]_r C̃⁻¹, a ridge of 1 % of the mean "
            "variance away from the paper's undamped formula")

DECLARATIONS = (
    Declaration(
        claim="corda.equal-weighting", kind="known_bug", variant="corda",
        rationale="found by this suite, no upstream issue yet: preprocess_corda's hook divides each calibration "
        "sample by its own max |x| (input / torch.max(input).abs()) before XᵀX, so C is Σ_b X_bᵀX_b / max(X_b)², "
        "not XᵀX: samples are weighted by 1/max² and the same rows batched differently give another subspace "
        "(span(B) moved 0.026 against a tolerance of 0.001 on the float32 witness); undocumented, and the "
        "authors' code (iboing/CorDA act_aware_utils.py) does the same",
        link="https://github.com/huggingface/peft/blob/v0.21.2/src/peft/tuners/lora/corda.py#L178",
        signature=r"differs from that of the init from \d+ samples",
    ),
    Declaration(
        claim="corda.calibration-required", kind="deviation", variant="corda",
        rationale="preprocess_corda accepts any number of calibration rows: its relative damping of the covariance "
        "(corda.statistic) keeps C̃ invertible even when XᵀX is singular, and its docstring leaves the sample count to the user ('If you collect too few or too "
        "repetitive samples, the covariance matrix may be low-ranked and unstabilize preprocessing'); without data "
        "get_peft_model refuses ('`eigens` attribute not found for layer, please run `preprocess_corda` first')",
        alternative=CalibrationRequired(too_few_rows=False),
        preserves=("corda.identity-at-init",),
    ),
    Declaration(
        claim="corda.statistic", kind="deviation", variant="corda", rationale=_DAMPING,
        alternative=CalibrationStatistic(reading=DAMPED),
        preserves=("corda.reconstruction", "corda.identity-at-init"),
        link="https://github.com/iboing/CorDA/blob/main/cordalib/decomposition.py",
    ),
    Declaration(
        claim="corda.kpm-statistic", kind="deviation", variant="corda", rationale=_DAMPING,
        alternative=CalibrationStatistic(reading=DAMPED),
        preserves=("corda.reconstruction", "corda.identity-at-init"),
        link="https://github.com/iboing/CorDA/blob/main/cordalib/decomposition.py",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "corda.calibration-required": "tests.mutants.corda:SilentFallback",
    "corda.statistic": "reference",  # the paper's undamped C
    "corda.kpm-statistic": "reference",
}
