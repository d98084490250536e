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

Deployment (the merge claims): LyCORIS's own merge is `merge_to(multiplier=1.0)` (base.py; `LycorisNetwork.merge_to`
calls it on every module, as do its merge scripts), which writes `get_merged_weight` into the projection's weight in
place and leaves its bias alone (`get_merged_weight` returns no bias). Its unmerge is the same call with the opposite
multiplier, `merge_to(-1.0)`: the library's own example (example/high_precision_merge_demo.py) merges with 1.0 and
unmerges with -1.0; `restore()` only unhooks the forward, and `onfly_merge`/`onfly_restore` put back a cached copy
of W0 (nothing computed). Both run with LyCORIS's default `precise=False` (what a user gets), each on a deep copy of
the (module, projection) pair taken when the hook is called, so the live, randomised state is what merges and the
layer the other checks drive is never touched. Not bound, measured on the dora witness-sized layer (16→24, r=4,
float64, random A, B, m): for DoRA, `merge_to(1.0)` then `merge_to(-1.0)` is no inverse (the −1 multiplier
re-applies the decomposition, `scale = mult·(m/‖W‖ − 1) + 1`: max |W − W0| = 4.76 against max |W0| = 11.4; the suite
has no dora.unmerge claim), and `merge_to(1.0, precise=True)` stores W0 + s B A exactly, dropping the decomposition
(base.py `_compute_precise_result` adds `get_diff_weight`, not `get_merged_weight`: 5.69 off the paper's W').
"""

from __future__ import annotations

import copy

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
        merged, unmerged = merge_paths(module, projection)
        adapted[name] = AdaptedLayer(module=module, base=None, roles=roles, weight=projection.weight,
                                     realised={"scaling": float(module.scale)}, merge=merged, unmerge=unmerged)
    return adapted


def merge_paths(module, projection):
    """LyCORIS's merge (`merge_to(1.0)`) and merge-then-unmerge (`merge_to(1.0)`, `merge_to(-1.0)`), each on a deep
    copy of the module together with the projection it holds in a list (one deepcopy, so the copy's `org_module`
    is the copied projection), read from the copied projection's weight and bias."""

    def copied():
        return copy.deepcopy((module, projection))

    def merged():
        lyco, proj = copied()
        lyco.merge_to(1.0)
        return proj.weight.detach(), proj.bias.detach() if proj.bias is not None else None

    def unmerged():
        lyco, proj = copied()
        lyco.merge_to(1.0)
        lyco.merge_to(-1.0)
        return proj.weight.detach()

    return merged, unmerged


def merge_source() -> tuple:
    """Where LyCORIS computes what `merge_to` (base.py) stores: LoConModule's `get_merged_weight` and
    `get_diff_weight` (a `sources()` "merge" entry; one object per topic, so base.py's `merge_to`, which copies
    `get_merged_weight(multiplier, ...)` into the weight, is named in the docstring of `_locon.py` instead)."""
    from lycoris.modules import locon

    return (locon.LoConModule, r"def (get_merged_weight|get_diff_weight)\(|scale = self\.scale \* multiplier|"
                               r"diff = self\.make_weight\(device=device\) \* scale|diff = self\.get_diff_weight|"
                               r"weight = self\.org_weight$|merged = self\.apply_weight_decompose|"
                               r"merged = weight \+ diff \* multiplier|return merged, None", 0)


def trainable_source() -> tuple:
    """Where the base stays outside the LyCORIS module's parameters, and the rebuild reads it detached."""
    from lycoris.modules import base

    return (base, r"^\s+self\.org_module = \[org_module\]|^\s+self\.org_forward = org_module\.forward|"
                  r"return self\.org_module\[0\]\.weight\.detach\(\)", 0)


# The documentation lines where LyCORIS cites its algorithms' papers (docs/algorithms/README.md at the tag); the
# installed package has no arXiv id in its code or docstrings
ALGORITHMS_DOC = GITHUB + "docs/algorithms/README.md"
NETWORK_ARGS_DOC = GITHUB + "docs/usage/network-args.md"
