"""Binding to torchtune (pytorch/torchtune), one small adapter module per variant (fidelity/impls/library.py says what each holds).

Runs in its own pinned environment: `nox -s torchtune` (noxfile.py).

Both bound layers (`LoRALinear`, `DoRALinear`) are built directly (`build`), the way torchtune's LoRA recipes set a
layer up (recipes/lora_finetune_single_device.py `_setup_model`): construct it (torchtune's layers take no dtype
argument, so it is moved to the suite's dtype with `.to(dtype)`), load the base weight and bias with
`load_state_dict(strict=False)`, initialise DoRA's magnitude with the layer's own `initialize_dora_magnitude()`,
then `set_trainable_params(layer, get_adapter_params(layer))`. The layer's `lora_a.weight` (r, d_in) and
`lora_b.weight` (d_out, r) are the paper's A and B as stored; no view is needed.
"""

from __future__ import annotations

import torch

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
                        realised={"scaling": float(scaling)})
