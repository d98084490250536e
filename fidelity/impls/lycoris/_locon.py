"""What lora.py and dora.py share: LyCORIS's `LoConModule` attached to the suite's TinyModel projections.

One `LoConModule(lora_name, org_module, ...)` per target, built with LyCORIS's public constructor arguments, cast to
the projection's dtype (the module creates its factors in torch's default float32; users move a network with
`.to(dtype)`), then `apply_to()`, which replaces the projection's forward by the module's. The module keeps the
projection outside its own parameters (`self.org_module = [org_module]`, a list), so its `parameters()` are exactly
what LyCORIS trains (`LycorisNetwork.prepare_optimizer_params` hands the optimizer `lora.parameters()` and nothing
else): the adapted layer the checks drive is the LyCORIS module itself (calling it runs the adapted forward, through
`org_forward`, the projection's original forward), and the base is the projection's live weight.

Constructor choices, each LyCORIS's own default unless said: multiplier=1.0 (the strength a user dials at
inference; 1 is the paper's formula), dropout=rank_dropout=module_dropout=0 (eval, no dropout), use_tucker=False
(conv only), use_scalar=False (True adds a trainable scalar and draws lora_up with Kaiming instead of zeros: not the
paper's method), bypass_mode=None (for a plain nn.Linear this is the weight-rebuild path, y = x (W + ΔW)ᵀ + b, which
is also the only path that applies DoRA's weight decomposition: the bypass path ignores `weight_decompose`).
"""

from __future__ import annotations

from fidelity.impls.base import AdaptedLayer
from fidelity.impls.roles import flat

TAG = "v4.1.3"
GITHUB = f"https://github.com/KohakuBlueleaf/LyCORIS/blob/{TAG}/"


def attach(lib, model, targets, config, *, weight_decompose: bool, wd_on_out: bool = True) -> dict:
    adapted = {}
    for name in targets:
        projection = model.get_submodule(name)
        module = lib.LoConModule(
            f"lycoris_{name}", projection, multiplier=1.0, lora_dim=config.r, alpha=config.alpha, dropout=0.0,
            rank_dropout=0.0, module_dropout=0.0, use_tucker=False, use_scalar=False,
            weight_decompose=weight_decompose, wd_on_out=wd_on_out, bypass_mode=None,
            rs_lora=bool(getattr(config, "use_rslora", False)))
        module.to(dtype=projection.weight.dtype)
        module.apply_to()
        module.eval()
        roles = {"down": module.lora_down.weight, "up": module.lora_up.weight}
        if weight_decompose:
            roles["magnitude"] = flat(module.dora_scale)  # stored (d_out, 1) with wd_on_out=True
        adapted[name] = AdaptedLayer(module=module, base=None, roles=roles, weight=projection.weight,
                                     realised={"scaling": float(module.scale)})
    return adapted


def trainable_source() -> tuple:
    """Where the base stays outside the LyCORIS module's parameters, and the rebuild reads it detached."""
    from lycoris.modules import base

    return (base, r"^\s+self\.org_module = \[org_module\]|^\s+self\.org_forward = org_module\.forward|"
                  r"return self\.org_module\[0\]\.weight\.detach\(\)", 0)


# The documentation lines where LyCORIS cites its algorithms' papers (docs/algorithms/README.md at the tag); the
# installed package has no arXiv id in its code or docstrings
ALGORITHMS_DOC = GITHUB + "docs/algorithms/README.md"
NETWORK_ARGS_DOC = GITHUB + "docs/usage/network-args.md"
