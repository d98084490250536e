"""hooklib's binding for the fidelity suite: a tiny model with named projections, hooklib attached by name, and the
paper's roles given as views of hooklib's own storage (A (d_in, r) is the paper's Aᵀ, HRA's rows are U_rᵀ, …)."""

import copy
import dataclasses
import importlib
from pathlib import Path

from torch import nn

from fidelity.impls.base import AdaptedLayer, Binding, fresh_linear, source_lines
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
OPTIONS = {"lora": {"use_rslora"}, "dora": {"use_rslora", "init_a"}, "hra": {"apply_GS", "lam"},  # options hooklib has
           "delora": {"delora_lambda", "init_weights"}, "vera": {"d_initial", "projection_prng_key"}}
ROLES = {  # role -> (the adapter's attribute, the view giving it in the paper's shape, or None: stored so)
    "lora": {"down": ("A", transposed), "up": ("B", transposed)},
    "dora": {"down": ("A", transposed), "up": ("B", transposed), "magnitude": ("m", None)},
    "ia3": {"gain": ("gain", None)},
    "hra": {"reflectors": ("U", transposed)},
    "delora": {"down": ("A", transposed), "up": ("B", transposed), "strength": ("lam", None)},
    "vera": {"lambda_b": ("lambda_b", None), "lambda_d": ("lambda_d", None)},
}
BUFFERS = {"delora": {"weight_norm": "wnorm"}, "vera": {"down": "A", "up": "B"}}


class HookLibBinding(Binding):
    name = "hooklib"

    def provides(self, variant, options):
        if variant not in CONFIGS:
            return f"hooklib has no {variant}"
        unknown = sorted(set(options) - OPTIONS.get(variant, set()))
        if unknown:
            return f"hooklib's {variant} has no option {', '.join(unknown)}"
        if options.get("init_a", "kaiming") != "kaiming":
            return "hooklib's DoRA draws A Kaiming-uniform only (§3.1); it has no Gaussian-A option"
        return None

    def dtypes(self, variant):
        return ("float64", "float32", "bfloat16")  # plain torch in the base weight's dtype

    def build(self, variant, weight, bias, config, calibration=None):
        return self.build_many(variant, [(weight, bias)], config)[0]

    def build_many(self, variant, layers, config):
        target = "k_proj" if variant == "ia3" else "q_proj"  # (IA)³ adapts keys and values, LoRA queries and values
        model = nn.ModuleList(nn.ModuleDict({target: fresh_linear(w, b)}) for w, b in layers)  # blocks 0, 1, …
        untouched = copy.deepcopy(model)  # the bases as they were before attaching
        hooklib.attach(model, dataclasses.replace(CONFIGS[variant](config), targets=(target,)))
        out = []
        for block, before in zip(model, untouched):
            linear, ad = block[target], block[target].hooklib
            roles = {role: view(getattr(ad, attr)) if view else getattr(ad, attr)
                     for role, (attr, view) in ROLES[variant].items()}
            buffers = {role: getattr(ad, attr) for role, attr in BUFFERS.get(variant, {}).items()}
            out.append(AdaptedLayer(module=linear, base=before[target], roles=roles, buffers=buffers,
                                    weight=linear.weight, regularizer=ad.penalty if variant == "hra" else None))
        return out

    def sources(self, variant, topic):  # the lines each review section quotes, from the method's own module
        pattern = {"init": r"self\.\w+ = nn\.Parameter|register_buffer|init\.|\.sub_\(|repeat_interleave|raise ",
                   "scaling": r"self\.scaling = ", "forward": r"def (hook|pre_hook|coeff|delta)|return |x = x - ",
                   "trainable": r"requires_grad_|nn\.Parameter|register_buffer", "citation": r"arXiv:",
                   "regularizer": r"def penalty|unit = |gap = |return self\.reg"}.get(topic)
        module = importlib.import_module(f"hooklib.{variant}")
        return source_lines(module, Path(hooklib.__file__).parents[1], "", pattern) if pattern else []

    def citation_text(self, variant, options):
        return importlib.import_module(f"hooklib.{variant}").__doc__
