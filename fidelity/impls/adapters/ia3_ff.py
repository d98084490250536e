"""AdapterHub's (IA)³ has no input-side gain, so the feed-forward variant (l_ff on the down projection's input) is
N/A. IA3Config (composition_mode="scale") always multiplies a wrapped layer's *output*: `LoRALinear.forward` computes
`layer_output = super().forward(input_states)` and then `last_lora.com(layer_output, hidden_states, ...)`, i.e.
`weights * (added * scaling)` (lora.py:953, 969, 293); nothing scales the input. Its feed-forward gain
(`intermediate_lora=True`) gates the output of the layer the model interface names "intermediate": BERT's up projection
before the activation (the paper's l_ff multiplies γ(W1 x), after it), and on Llama `down_proj`
(models/llama/mixin_llama.py:26). The output gain on a key or value projection is bound as `ia3` (ia3.py).
"""

from __future__ import annotations

from fidelity.impls.adapters import ia3

VARIANT = "ia3_ff"


def provides(options: dict) -> str | None:
    return ("adapters 1.3.0 has no input-side (IA)³ gain: composition_mode='scale' multiplies the wrapped layer's "
            "output (LoRALinear.forward -> IA3.com, methods/lora.py:969, 293); its feed-forward gain scales the "
            "output of the model's 'intermediate' layer, not the down projection's input. The output gain is bound "
            "as ia3")


def sources() -> dict:
    return ia3.ia3_sources()


def citation_text(options: dict) -> str:
    return ia3.citation_text(options)


DECLARATIONS = ()
