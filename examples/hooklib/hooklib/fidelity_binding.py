"""hooklib's binding for the fidelity suite: hooklib attached by name to the suite's model of named projections, and
the paper's roles given as views of hooklib's own storage (its A (d_in, r) is the paper's Aᵀ, its HRA rows U_rᵀ, …)."""

import dataclasses
import importlib
from pathlib import Path

from fidelity.impls.base import AdaptedLayer, Binding, source_lines
from fidelity.impls.roles import transposed

import hooklib

CONFIGS = {  # the suite's config (see `python -m fidelity.describe <variant>`) -> hooklib's own config
    "lora": lambda c: hooklib.LoRAConfig(rank=c.r, alpha=c.alpha, rslora=c.use_rslora),
    "dora": lambda c: hooklib.DoRAConfig(rank=c.r, alpha=c.alpha, rslora=c.use_rslora),
    "ia3": lambda c: hooklib.IA3Config(),
    "hra": lambda c: hooklib.HRAConfig(rank=c.r, orthogonal=c.apply_GS, reg=c.lam),
    "delora": lambda c: hooklib.DeLoRAConfig(rank=c.r, lam0=c.delora_lambda, subtract_init=c.init_weights),
    "vera": lambda c: hooklib.VeRAConfig(rank=c.r, d_init=c.d_initial, seed=c.projection_prng_key),
}
OPTIONS = {"lora": {"use_rslora"}, "dora": {"use_rslora"}, "hra": {"apply_GS", "lam"},  # options hooklib has
           "delora": {"delora_lambda", "init_weights"}, "vera": {"d_initial", "projection_prng_key"}}
ROLES = {  # role -> the adapter's attribute holding it; ".T": stored transposed. Then the frozen roles (buffers)
    "lora": {"down": "A.T", "up": "B.T"}, "dora": {"down": "A.T", "up": "B.T", "magnitude": "m"},
    "ia3": {"gain": "gain"}, "hra": {"reflectors": "U.T"}, "delora": {"down": "A.T", "up": "B.T", "strength": "lam"},
    "vera": {"lambda_b": "lambda_b", "lambda_d": "lambda_d"}}
BUFFERS = {"delora": {"weight_norm": "wnorm"}, "vera": {"down": "A", "up": "B"}}


def view(adapter, attr):
    return transposed(getattr(adapter, attr[:-2])) if attr.endswith(".T") else getattr(adapter, attr)


class HookLibBinding(Binding):
    name = "hooklib"

    def provides(self, variant, options):
        if variant not in CONFIGS:
            return f"hooklib has no {variant}"
        unknown = ", ".join(f"{k}={v!r}" for k, v in options.items() if k not in OPTIONS.get(variant, ()))
        return f"hooklib's {variant} has no option {unknown}" if unknown else None  # e.g. DoRA's Gaussian A

    def dtypes(self, variant):
        return ("float64", "float32", "bfloat16")  # plain torch in the base weight's dtype

    def conventions(self, variant):  # VeRA's pair: PEFT's seeded generator, A then B, in float32 (hooklib/vera.py)
        return ("peft-prng",) if variant == "vera" else ()

    def attach(self, variant, model, targets, config, calibration=None):  # model: the suite's q_proj, v_proj, …
        hooklib.attach(model, dataclasses.replace(CONFIGS[variant](config), targets=tuple(targets)))
        adapted = {}
        for name in targets:
            ad = model.get_submodule(name).hooklib  # base and weight left to the suite (its untouched copy, the live W)
            adapted[name] = AdaptedLayer(module=model.get_submodule(name), base=None,
                                         roles={role: view(ad, a) for role, a in ROLES[variant].items()},
                                         buffers={role: view(ad, a) for role, a in BUFFERS.get(variant, {}).items()},
                                         regularizer=ad.penalty if variant == "hra" else None)
        return adapted

    def sources(self, variant, topic):  # the lines each review section quotes, from the method's own module
        pattern = {"init": r"= nn\.Parameter|register_buffer|nn\.init\.|Generator\(|\.sub_\(|u = |raise ",
                   "forward": r"def (\w*hook|coeff|delta)\b|return (out|\(|lam )|x = x -|q = |(direction|scale) =",
                   "scaling": r"self\.scaling = ", "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
                   "regularizer": r"def penalty|gap = |return self\.reg", "citation": r"arXiv:"}.get(topic)
        module = importlib.import_module(f"hooklib.{variant}")
        return source_lines(module, Path(hooklib.__file__).parents[1], "", pattern) if pattern else []

    def citation_text(self, variant, options):
        return importlib.import_module(f"hooklib.{variant}").__doc__
