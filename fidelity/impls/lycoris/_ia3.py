"""What ia3.py and ia3_ff.py share: LyCORIS's `IA3Module` attached to the suite's TinyModel projections.

One `IA3Module(lora_name, org_module, multiplier=1.0, train_on_input=...)` per target (dropouts 0, bypass_mode=None:
LyCORIS's default, which for a plain nn.Linear is the weight-rebuild path), cast to the projection's dtype (the module
creates its vector in torch's default float32), then `apply_to()`, which replaces the projection's forward by the
module's. As with LoCon (`_locon.py`), the module keeps the projection in a list, outside its parameters, so the
adapted layer the checks drive is the IA3Module itself and its `parameters()` are exactly what LyCORIS trains.

`train_on_input=False` (the default; the `ia3` preset's k_proj/v_proj) keeps one entry per output feature and scales
W's rows; `train_on_input=True` (the preset's mlp.fc2 / ff.net.2, "name_algo_map ... train_on_input": config.py) one
per input feature, scaling W's columns: the paper's l_k, l_v and l_ff respectively.

LyCORIS stores the gain as an offset: `self.weight` is initialised to 0 and the forward uses `weight * multiplier + 1`
(`_ia3_weight`: "W · (w·mult + [not diff])"), so the paper's l is 1 + weight. The role is given as that affine view:
read 1 + w, write w = l − 1, and the gradient with respect to l is the stored gradient itself.
"""

from __future__ import annotations

from fidelity.impls.base import AdaptedLayer
from fidelity.impls.roles import RoleView

TAG = "v4.1.3"
GITHUB = f"https://github.com/KohakuBlueleaf/LyCORIS/blob/{TAG}/"

# docs/algorithms/README.md at the tag, "(IA)^3" (lines 49-58): the installed package names no paper
IA3_REF = ("### (IA)^3\n* Trigged by `algo=ia3`\n"
           "* Ref: [Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context Learning]"
           "(https://arxiv.org/abs/2205.05638)")


def gain_view(module) -> RoleView:
    stored = module.weight

    def setter(value):
        stored.copy_((value.to(stored.dtype) - 1).to(stored.dtype))

    return RoleView(stored, lambda w: w + 1, setter=setter, gradient=lambda g: g,
                    how=f"1 + a {tuple(stored.shape)} offset tensor")


def attach(lib, model, targets, config, *, on_input: bool) -> dict:
    adapted = {}
    for name in targets:
        projection = model.get_submodule(name)
        module = lib.modules.ia3.IA3Module(f"lycoris_{name}", projection, multiplier=1.0, dropout=0.0, rank_dropout=0.0,
                               module_dropout=0.0, bypass_mode=None, train_on_input=on_input)
        module.to(dtype=projection.weight.dtype)
        module.apply_to()
        module.eval()
        adapted[name] = AdaptedLayer(module=module, base=None, roles={"gain": gain_view(module)},
                                     weight=projection.weight)
    return adapted


def sources(on_input: bool) -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from lycoris import config_sdk
    from lycoris.modules import base, ia3

    side = "in_dim" if on_input else "out_dim"
    return {
        "init": (ia3.IA3Module.__init__, rf"train_dim = {side}|self\.weight = nn\.Parameter\(torch\.empty\(train_dim|"
                 r"constant_\(self\.weight, 0\)|# Need more experiences", 0),
        "forward": (ia3, r"scale = weight \* multiplier \+ int\(not diff\)|return org_weight \* scale|"
                    r"return \(org_weight\.transpose|base = self\.org_forward\(x|merged_weight = self\.get_merged|"
                    r"delta_weight = merged_weight - base_weight|delta = self\.op\(|return base \+ delta", 0),
        "trainable": (base, r"^\s+self\.org_module = \[org_module\]|^\s+self\.org_forward = org_module\.forward|"
                            r"return self\.org_module\[0\]\.weight\.detach\(\)", 0),
        # the installed package's own description of the algorithm (no arXiv id); the citation is in its docs
        "citation": (config_sdk, r'description="Input-output scaling adapter \(IA\^3\)\.\"', 1),
    }
