"""AdapterHub's (IA)³ on a key projection: `IA3Config(attn_matrices=["k"], intermediate_lora=False, output_lora=False,
dtype=<the layer's dtype>)` (composition_mode="scale", r=1, alpha=1, init_weights="ia3") on the k projection of a tiny
Llama (`_model.py`). The gain is `loras.<name>.lora_B`, shape (d_out, 1), given flattened; the forward multiplies the
layer's whole output, bias included, by it (`IA3.com`: `weights * (added * scaling)`, scaling = alpha = 1).

Config chosen, and why: the paper gates keys and values (§3.3), IA3Config's own default `attn_matrices=["k", "v"]`;
"k" alone puts one gain on the one projection that holds the suite's layer, and `intermediate_lora=False` keeps the
default feed-forward gain off the Llama's MLP (a layer the suite does not drive). `dtype` is passed as for LoRA, but
IA3 ignores it: the gain is created as `torch.zeros(lora_B_shape)` in torch's default dtype (lora.py:263), so it is
float32 in every model; a float64 layer's output is still float64 (float32 gain promoted), a bfloat16 layer's comes
out float32.

The layer is driven through `_model.InModel` (x presented as one (1, N, d_in) sequence): IA3's forward repeats the
gain over `layer_input.shape[0]` as the batch (lora.py:300), so the library's layer called on a (rows, d_in) batch
returns a (rows, rows, d_out) tensor; inside a transformers model its input is always (batch, sequence, hidden).

The feed-forward form (ia3_ff, the gain on the down projection's input) is not in the library: see ia3_ff.py.
"""

from __future__ import annotations

from fidelity.impls.adapters._model import ADAPTER, InModel, adapted, attach, trainable_source
from fidelity.impls.roles import flat

VARIANT = "ia3"
DTYPES = ("float64", "float32", "bfloat16")


def build(lib, weight, bias, config, calibration=None):
    cfg = lib.IA3Config(attn_matrices=["k"], intermediate_lora=False, output_lora=False,
                        dtype=str(weight.dtype).removeprefix("torch."))
    model, (layer,) = attach(lib, [(weight, bias)], cfg, proj="k_proj")
    return adapted(InModel(layer, model), layer, weight, bias, {"gain": flat(layer.loras[ADAPTER].lora_B)})


def ia3_sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match)."""
    from adapters.configuration import adapter_config
    from adapters.methods import lora

    return {
        "init": (lora.IA3.__init__, r"self\.lora_B = nn\.Parameter|self\.scaling = self\.lora_alpha|"
                 r"nn\.init\.ones_\(self\.lora_B\)", 0),
        "forward": (lora, r"scaling_vector = self\.lora_B\.view\(1, 1, -1\)|hidden_states = scaling_vector$|"
                    r"return weights \* \(added \* scaling\)|layer_output = super\(\)\.forward\(input_states\)|"
                    r"layer_output = last_lora\.com\($", 0),
        "trainable": trainable_source(),
        "citation": (adapter_config.IA3Config, r"2205\.05638", 0),
    }


def sources() -> dict:
    return ia3_sources()


def citation_text(options: dict) -> str:
    from adapters.configuration import adapter_config

    return adapter_config.IA3Config.__doc__ or ""


DECLARATIONS = ()
