"""PEFT's (IA)³ on a key or value projection: `IA3Config(target_modules=["lin"], feedforward_modules=[])`, the gain
multiplied into the layer's output (`ia3_l.default`, shape (d_out, 1)), initialised with ones
(`init_ia3_weights=True`, the default). The feed-forward form is `ia3_ff.py`.

Options not bound as cells: `init_ia3_weights=False` leaves the gain at its torch.randn draw, N(0, 1): not an identity
at init, and IA3Config's docstring calls it "discouraged". It changes only the init, not the forward (whose formula is
checked at random gains anyway); the `*_gain_randn` mutants show that the identity and ones-init claims reject such an
init. `fan_in_fan_out` is Conv1D storage; the suite adapts nn.Linear only.
"""

from __future__ import annotations

from fidelity.impls.roles import flat

VARIANT = "ia3"
ROLE_NAMES = {"ia3_l.default": "gain"}
ROLE_VIEWS = {"gain": flat}  # stored (d_out, 1)
DTYPES = ("float64", "float32", "bfloat16")


def ia3_config(peft, feedforward: bool):
    """One target, `lin`; listed in feedforward_modules for the input-side gate."""
    return peft.IA3Config(target_modules=["lin"], feedforward_modules=["lin"] if feedforward else [],
                          init_ia3_weights=True)


def ia3_sources(feedforward: bool) -> dict:
    """review topic -> (object, line pattern, lines of context before each match), for either side of the gate."""
    from peft.tuners.ia3 import layer, model

    from fidelity.impls.peft import trainable_source

    side = r"in_features\)\)" if feedforward else r"out_features, 1\)\)"
    gate = r"x = x\.to\(dtype\)|interm = |result = self\.base_layer\(interm" if feedforward else \
        r"^ {16}result = self\.base_layer\(x, |result = \(result \* ia3_scaling\)"
    return {
        "init": (layer.IA3Layer, rf"weight = torch\.randn\(\(.*{side}|self\.ia3_l\[adapter_name\] = |"
                 r"nn\.init\.constant_\(self\.ia3_l", 0),
        "forward": (layer.Linear.forward, rf"ia3_scaling \*= |if self\.is_feedforward|{gate}", 0),
        "trainable": trainable_source(),
        "citation": (model.IA3Model, r"2205\.05638", 0),
    }


def ia3_citation_text() -> str:
    from peft.tuners.ia3 import model

    return model.IA3Model.__doc__ or ""


def peft_config(peft, config):
    return ia3_config(peft, feedforward=False)


def sources() -> dict:
    return ia3_sources(feedforward=False)


def citation_text(options: dict) -> str:
    return ia3_citation_text()


DECLARATIONS = ()
