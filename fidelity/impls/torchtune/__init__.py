"""Binding to torchtune (pytorch/torchtune), one small adapter module per variant (fidelity/impls/library.py says what each holds).

Runs in its own pinned environment: `nox -s torchtune` (noxfile.py).

Both bound layers (`LoRALinear`, `DoRALinear`) are built directly (`build`), the way torchtune's LoRA recipes set a
layer up (recipes/lora_finetune_single_device.py `_setup_model`): construct it (torchtune's layers take no dtype
argument, so it is moved to the suite's dtype with `.to(dtype)`), load the base weight and bias with
`load_state_dict(strict=False)`, initialise DoRA's magnitude with the layer's own `initialize_dora_magnitude()`,
then `set_trainable_params(layer, get_adapter_params(layer))`. Deployment (`merge`) goes through torchtune's only merge
path, the one every LoRA/DoRA recipe runs when saving (recipes/lora_finetune_single_device.py `save_checkpoint`):
`get_merged_lora_ckpt(state_dict, rank=r, alpha=alpha)` (_utils.py:158-207) on the model's state dict, here a copy of
the layer held as a child module (the function finds adapted modules by the `.lora_a.weight` suffix); the merged
`weight` and `bias` are read back from the returned state dict. torchtune has no unmerge, so `unmerge` is None.
The layer's `lora_a.weight` (r, d_in) and
`lora_b.weight` (d_out, r) are the paper's A and B as stored; no view is needed.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from fidelity.impls.base import AdaptedLayer, fresh_linear
from fidelity.impls.library import LibraryBinding


class TorchtuneBinding(LibraryBinding):
    name = "torchtune"
    distribution = "torchtune"
    module = "torchtune"


def set_up(lib, cls, weight: torch.Tensor, bias: torch.Tensor | None, config) -> AdaptedLayer:
    """A torchtune adapter layer `cls` (LoRALinear or DoRALinear) holding `weight` and `bias`, set up as the
    recipes do."""
    from torchtune.modules import peft

    d_out, d_in = weight.shape
    layer = cls(in_dim=d_in, out_dim=d_out, rank=config.r, alpha=config.alpha, dropout=0.0,
                use_bias=bias is not None).to(weight.dtype)
    state = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    missing, unexpected = layer.load_state_dict(state, strict=False)
    if unexpected or any(not (k.startswith("lora_") or k == "magnitude") for k in missing):
        raise RuntimeError(f"base weights did not load: missing {missing}, unexpected {unexpected}")
    if hasattr(layer, "initialize_dora_magnitude"):
        layer.initialize_dora_magnitude()
    peft.set_trainable_params(layer, peft.get_adapter_params(layer))
    layer.eval()
    roles = {"down": layer.lora_a.weight, "up": layer.lora_b.weight}
    if hasattr(layer, "magnitude"):
        roles["magnitude"] = layer.magnitude
    scaling = layer.scaling if hasattr(layer, "scaling") else layer.alpha / layer.rank
    return AdaptedLayer(module=layer, base=fresh_linear(weight, bias), roles=roles, weight=layer.weight,
                        realised={"scaling": float(scaling)}, merge=_merged(peft, layer, config))


def _merged(peft, layer, config):
    """The (weight, bias) torchtune's `get_merged_lora_ckpt` stores for `layer`, read at call time on a deep copy."""

    def merged():
        holder = nn.Module()
        holder.layer = copy.deepcopy(layer)  # the function merges in place: never the layer the checks drive
        state = {k: v.detach().clone() for k, v in holder.state_dict().items()}
        out = peft.get_merged_lora_ckpt(state, rank=config.r, alpha=config.alpha)
        leftover = [k for k in out if "lora" in k or "magnitude" in k]
        if leftover:
            raise RuntimeError(f"get_merged_lora_ckpt left adapter keys {leftover}")
        return out["layer.weight"], out.get("layer.bias")

    return merged


def merge_source(variant: str) -> tuple:
    """Where torchtune merges `variant` ("lora" or "dora"), a `sources()` entry for the review's "merge" topic."""
    import inspect

    from torchtune.modules.peft import _utils

    lines = {
        "dora": r"if lora_magnitude is not None:|base_weight = state_dict|lora_weight = \(alpha / rank\)|"
                r"merged_weight = base_weight|weight_norm = torch\.linalg\.norm|mag_norm_scale = |"
                r"merged_weight \*= |state_dict\[f\"\{module\}\.weight\"\] = merged_weight",
        "lora": r"# Otherwise it is just vanilla LoRA|state_dict\[f\"\{module\}\.weight\"\] \+= |"
                r"^\s+\(alpha / rank\) \* lora_b_weight @ lora_a_weight$",
    }[variant]
    # unwrapped: `@torch.no_grad` would point the citation at torch's _contextlib.py
    return (inspect.unwrap(_utils.get_merged_lora_ckpt), lines, 0)
