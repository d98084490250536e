"""PEFT's PiSSA: `LoraConfig(init_lora_weights="pissa")`, and `"pissa_niter_K"` (randomised SVD) for niter = K.

PEFT refuses float64 here (TypeError "Please initialize PiSSA under float32, float16, or bfloat16"), so the suite
runs these cells in float32 and computes its references in float64 from the realised tensors.
"""

from __future__ import annotations

from fidelity.checks import InitScaling
from fidelity.impls.base import Declaration

VARIANT = "pissa"
ROLE_NAMES = {"lora_A.default.weight": "down", "lora_B.default.weight": "up"}
DTYPES = ("float32",)


def peft_config(peft, config):
    init = f"pissa_niter_{config.niter}" if config.niter else "pissa"
    return peft.LoraConfig(r=config.r, lora_alpha=config.alpha, target_modules=["lin"], lora_dropout=0.0,
                           init_lora_weights=init)


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from fidelity.impls.peft import trainable_source
    from peft.tuners.lora import config, layer

    return {
        "init": (layer.LoraLayer.pissa_init, r"torch\.linalg\.svd\(|svd_lowrank\(|Sr /= |lora_[AB] = |"
                 r"weight = weight\.data - ", 0),
        "scaling": (layer.LoraLayer.pissa_init, r"Sr /= self\.scaling|weight = weight\.data - self\.scaling", 0),
        "forward": (layer.Linear.forward, r"torch_result_dtype = result\.dtype|lora_B\(lora_A\(dropout", 1),
        "trainable": trainable_source(),
        "citation": (config.LoraConfig, r"2404\.02948", 0),
    }


def _init_help(start: str, end: str) -> str:
    """The passage of LoraConfig's docstring on one `init_lora_weights` value."""
    from peft.tuners.lora import config

    doc = config.LoraConfig.__doc__ or ""
    if start not in doc or end not in doc:
        return ""
    return " ".join(doc[doc.index(start):doc.index(end)].split())


def citation_text(options: dict) -> str:
    return _init_help("Passing `'pissa'`", "Passing `'corda'`")


DECLARATIONS = (
    Declaration(
        claim="pissa.scaling",
        kind="deviation",
        variant="pissa",
        rationale="pissa_init divides S_r by s = α/r (`Sr /= self.scaling[adapter_name]`) before the √ split, so "
        "s B A is the principal part and W_res the tail for every α (Eq. 4; the authors keep it because QPiSSA "
        "needs a residual free of the large singular values); the factors carry √(S_r/s), the paper's √S_r only "
        "at α = r",
        alternative=InitScaling(law=lambda case, cfg: cfg.alpha / cfg.r, law_text="s = α/r (S_r pre-divided)"),
        preserves=("pissa.residual", "pissa.identity-at-init"),
        link="https://github.com/MuLabPKU/PiSSA/issues/35",
    ),
)

# The implementation each declared alternative property must fail for (tests/test_alternatives.py shows it
# failing): "reference" is the paper-faithful reference module, "module:Class" a mutant of it.
ALTERNATIVE_FAILS_FOR = {
    "pissa.scaling": "tests.mutants.pissa:NoPredivide",
}
