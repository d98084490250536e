"""How the adapters binding attaches: a tiny transformers Llama, one projection per suite layer, AdapterHub's own path.

`tiny_llama` builds `LlamaModel(LlamaConfig(hidden_size=d_in, num_attention_heads=1, num_key_value_heads=1,
head_dim=d_out, attention_bias=<the suite's bias>, vocab_size=8, intermediate_size=1, num_hidden_layers=<one per
layer>))` offline, in the layer's dtype, and copies the suite's weight and bias into each decoder layer's projection
(q_proj: (d_out, d_in), bias only when the suite's layer has one, so bias-free layers need no special case). Then
`adapters.init(model)`, `model.add_adapter(...)`, `model.train_adapter(...)` (the library's trainability path:
`freeze_model(True)`, then the adapter's own parameters unfrozen) and `model.eval()`. The adapted layer is the
`LoRALinear` the library put in the projection's place. Measured cost per build (the
suite's Subject.build, base layer included): LoRA 5.4 ms, DoRA 6.6 ms, (IA)³ 8.2 ms, VeRA 9.0 ms (r = 256); importing
adapters + transformers costs 7-14 s once per process.

`InModel` calls that layer the way the model's forward does: on (batch, sequence, hidden) states inside the model's
`ForwardContext` (context.py `ForwardContext.wrap`). Two of the library's methods need it, so the bindings use it
there only: VeRA's forward reads its shared A, B from `ForwardContext.get_context().shared_parameters` (lora.py:386)
and fails outside a forward pass, and (IA)³'s forward repeats the gain over `layer_input.shape[0]` as the batch
dimension (lora.py:300), so a (rows, d_in) input broadcasts to a (rows, rows, d_out) output. `InModel` presents the
suite's x (..., d_in) as one sequence (1, N, d_in), which is what every transformers model feeds these layers.
"""

from __future__ import annotations

import copy
import logging

import torch
from torch import nn

from fidelity.impls.base import AdaptedLayer, NotProvided, fresh_linear

ADAPTER = "fidelity"  # the adapter's name inside the model


def tiny_llama(layers: list[tuple[torch.Tensor, torch.Tensor | None]], proj: str = "q_proj"):
    """A LlamaModel with one decoder layer per (weight, bias), the weight and bias copied into each layer's `proj`."""
    from transformers import LlamaConfig, LlamaModel

    shapes = {tuple(w.shape) for w, _ in layers}
    biases = {b is not None for _, b in layers}
    dtypes = {w.dtype for w, _ in layers}
    if len(shapes) > 1 or len(biases) > 1 or len(dtypes) > 1:
        raise NotProvided("the adapters binding builds one Llama per call, whose projections share one shape "
                          f"(hidden_size, head_dim), bias and dtype; got shapes {sorted(shapes)}, bias {biases}")
    (d_out, d_in), bias, dtype = shapes.pop(), biases.pop(), dtypes.pop()
    config = LlamaConfig(vocab_size=8, hidden_size=d_in, intermediate_size=1, num_hidden_layers=len(layers),
                         num_attention_heads=1, num_key_value_heads=1, head_dim=d_out, attention_bias=bias,
                         max_position_embeddings=8)
    model = LlamaModel(config).to(dtype)
    with torch.no_grad():
        for decoder, (weight, b) in zip(model.layers, layers):
            target = getattr(decoder.self_attn, proj)
            target.weight.copy_(weight)
            if b is not None:
                target.bias.copy_(b)
    return model


def attach(lib, layers, adapter_config, proj: str = "q_proj") -> tuple[nn.Module, list[nn.Module]]:
    """(model, [the adapted projection of each layer]) with `adapter_config` added and trained the library's way.

    train_adapter's own set_active_adapters -> reset_adapter opens a ForwardContext before the adapter is active and
    logs "There are adapters available but none are activated for the forward pass." (model_mixin.py:1421) on every
    build: that logger is set to ERROR so the suite's output stays readable (logging only, no behaviour changes)."""
    logging.getLogger("adapters.model_mixin").setLevel(logging.ERROR)
    model = tiny_llama(layers, proj)
    lib.init(model)
    model.add_adapter(ADAPTER, config=adapter_config)
    model.train_adapter(ADAPTER)
    model.eval()
    return model, [getattr(decoder.self_attn, proj) for decoder in model.layers]


class InModel(nn.Module):
    """The adapted projection called as the model calls it: x (..., d_in) as one sequence (1, N, d_in), inside the
    model's ForwardContext. The model is held outside the module tree: its parameters are not the layer's."""

    def __init__(self, layer: nn.Module, model: nn.Module):
        super().__init__()
        self.layer = layer
        self._model = (model,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from adapters.context import ForwardContext

        h = x.reshape(1, -1, x.shape[-1])
        with ForwardContext(self._model[0], h):
            y = self.layer(h)
        return y.reshape(*x.shape[:-1], y.shape[-1])


def merge_paths(model: nn.Module, index: int = 0, proj: str = "q_proj"):
    """The library's deployment path, each call on a deep copy of the whole model taken then (so it reads the live
    trainables, and the model the other checks drive stays unmerged): `model.merge_adapter(name)` (model_mixin.py,
    which calls each LoRALayer's `merge_adapter`, lora.py:864), returning the (weight, bias) it stores in layer `index`'s
    projection; and `merge_adapter` then `model.reset_adapter()` (lora.py:883), returning the weight left there."""

    def projection(copied):
        return getattr(copied.layers[index].self_attn, proj)

    def merged():
        copied = copy.deepcopy(model)
        copied.merge_adapter(ADAPTER)
        layer = projection(copied)
        return layer.weight.detach(), layer.bias.detach() if layer.bias is not None else None

    def unmerged():
        copied = copy.deepcopy(model)
        copied.merge_adapter(ADAPTER)
        copied.reset_adapter()
        return projection(copied).weight.detach()

    return merged, unmerged


def merge_source(variant: str) -> tuple:
    """Where the library merges and resets the layer (a `sources()` entry for the review's "merge" topic): LoRALinear's
    merge_adapter / reset_adapter for LoRA (the W0 ± s B A itself is LoRA.com / com_inv, lora.py:141, 145, beside
    VeRA's identical lines); for DoRA, those methods' DoRA branch, `delta_w` (B A) and `dora_merge`."""
    from adapters.methods import lora

    if variant == "lora":
        return (lora.LoRALinear, r"def (merge_adapter|reset_adapter)\(|^\s+delta_w = self\.maybe_t\(lora\.delta_w\)$|"
                r"self\.weight\.data = lora\.com(_inv)?\(self\.weight\.data, delta_w\)$", 0)
    return (lora, r"^\s+return self\.lora_B @ self\.lora_A$|def dora_merge\(|^\s+v = weights \+ added$|"
            r"norm_scale = m\.weight / torch\.linalg\.norm\(v|^\s+result = norm_scale \* v$|"
            r"setattr\(lora, \"dora_w_o\"|self\.weight\.data = dora_merge\(|norm = compute_dora_norm\(w_o|"
            r"delta_w = compute_dora_add_com_inv\(|^\s+result = weights \* norm\.unsqueeze", 0)


def adapted(module: nn.Module, layer: nn.Module, weight, bias, roles: dict, buffers: dict | None = None,
            realised: dict | None = None, model: nn.Module | None = None) -> AdaptedLayer:
    """The AdaptedLayer of one projection (`module` is `layer` itself or its InModel): the untouched base is a fresh
    nn.Linear holding the suite's weight and bias; each parameter of `module` is mapped to its role or to the base.
    With `model` (whose first decoder layer's q_proj is `layer`), the library's merge and reset (`merge_paths`)."""
    merge, unmerge = merge_paths(model) if model is not None else (None, None)
    result = AdaptedLayer(module, fresh_linear(weight, bias), roles, buffers=buffers or {}, realised=realised or {},
                          weight=layer.weight, param_roles={}, merge=merge, unmerge=unmerge)
    owners: dict[int, str] = {}
    for name, view in result.roles.items():
        for t in view.storage:
            owners[id(t)] = f"{owners[id(t)]},{name}" if id(t) in owners else name
    base = {id(layer.weight): "base.weight"}
    if layer.bias is not None:
        base[id(layer.bias)] = "base.bias"
    result.param_roles = {n: owners.get(id(p), base.get(id(p), "")) for n, p in module.named_parameters()}
    result.param_roles = {n: role for n, role in result.param_roles.items() if role}
    return result


def trainable_source() -> tuple:
    """Where the library freezes the model and unfreezes the adapter (train_adapter): a "trainable" sources() entry."""
    from adapters import model_mixin

    return (model_mixin.ModelAdaptersMixin.train_adapter,
            r"self\.freeze_model\(True\)|layer\.enable_adapters\(adapter_setup, True, False\)", 0)
