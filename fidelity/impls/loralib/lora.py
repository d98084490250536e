"""loralib's `Linear` (microsoft/LoRA, the paper's authors' own package) as the suite's `lora` variant.

`loralib.Linear` is itself an `nn.Linear` subclass: the layer is built with the suite's shapes and dtype, the suite's
weight and bias are copied into it after construction (its constructor re-initialises them), and the base is frozen
with the library's own `loralib.mark_only_lora_as_trainable`, the step its README tells users to take before training.
A (`lora_A`, (r, d_in)) and B (`lora_B`, (d_out, r)) are stored in the paper's shapes, so the roles are the live
tensors. `lora_dropout=0` (the checks run without dropout).

`merge_weights=False`, so that the trainable factors drive the forward: with loralib's default `merge_weights=True`,
`eval()` adds s·BA into the base weight in place and the forward then skips A and B (the library's deployment path,
which its README documents together with this switch: "This can be disabled by passing `merge_weights=False` to LoRA
layers", README.md:146 at the commit below). That deployment path is bound for the merge claims (LoRA §4.1, "store
W = W0 + BA … recover W0 by subtracting BA") on a deep copy of the layer, with the library's own switch set on the copy
(`merge_weights=True`): `eval()` runs `Linear.train(False)`, which adds T(B A)·s into `weight.data`, and a following
`train()` subtracts it again. The layer the other checks drive is never merged.

loralib has no rank-stabilised scaling (its scaling is fixed at `lora_alpha / r`): the rsLoRA cells are N/A.
"""

from __future__ import annotations

import copy
import importlib.metadata
import re
from pathlib import Path

import torch

from fidelity.checks import InitDistribution
from fidelity.impls.base import AdaptedLayer, Declaration, NotProvided, fresh_linear

VARIANT = "lora"
DTYPES = ("float64", "float32", "bfloat16")  # plain torch in the dtype the layer is built in

# the released 0.1.2 (setup.py bumped in this commit; loralib/*.py byte-identical to the installed package)
COMMIT = "3f5c193f431c8a09448f0184f6f883ad393f22d0"
SOURCE = f"https://github.com/microsoft/LoRA/blob/{COMMIT}"

NO_RSLORA = ("loralib 0.1.2 has no rank-stabilised scaling: loralib.Linear fixes self.scaling = self.lora_alpha / "
             "self.r (loralib/layers.py:112) and has no option for α/√r")


def provides(options: dict) -> str | None:
    return NO_RSLORA if options.get("use_rslora") else None


def build(lib, weight, bias, config, calibration=None) -> AdaptedLayer:
    if getattr(config, "use_rslora", False):
        raise NotProvided(NO_RSLORA)
    d_out, d_in = weight.shape
    layer = lib.Linear(d_in, d_out, r=config.r, lora_alpha=config.alpha, lora_dropout=0.0, merge_weights=False,
                       bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():  # the constructor re-initialised W and b (nn.Linear.reset_parameters): the suite's go in
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    lib.mark_only_lora_as_trainable(layer)  # the library's own freeze: every parameter without "lora_" in its name
    layer.eval()

    def deployed() -> "torch.nn.Module":
        """A deep copy of the live layer (its state at call time), merged by loralib's own path: with the library's
        `merge_weights` switch on, `eval()` (Linear.train(False)) adds T(B A)·s into `weight.data` and sets `merged`."""
        twin = copy.deepcopy(layer)
        twin.merge_weights = True
        twin.eval()  # loralib's merge
        assert twin.merged, "loralib did not merge the copy"
        return twin

    def merge():
        twin = deployed()
        return twin.weight.detach().clone(), (twin.bias.detach().clone() if twin.bias is not None else None)

    def unmerge():
        twin = deployed()
        twin.train(True)  # loralib's unmerge: subtracts T(B A)·s from `weight.data`
        assert not twin.merged, "loralib did not unmerge the copy"
        return twin.weight.detach().clone()

    return AdaptedLayer(module=layer, base=fresh_linear(weight, bias),
                        roles={"down": layer.lora_A, "up": layer.lora_B},
                        weight=layer.weight, realised={"scaling": float(layer.scaling)},
                        merge=merge, unmerge=unmerge)


def _metadata() -> Path:
    """The installed distribution's METADATA: loralib's README (its long description), where it cites the paper."""
    dist = importlib.metadata.distribution("loralib")
    return Path(next(f for f in dist.files if f.name == "METADATA").locate())


def sources() -> dict:
    """review topic -> (object, line pattern, lines of context before each match); a Path is a text file."""
    from loralib import layers, utils

    return {
        "init": (layers.Linear, r"self\.lora_[AB] = nn\.Parameter|# initialize A the same way|"
                 r"kaiming_uniform_\(self\.lora_A|zeros_\(self\.lora_B\)", 0),
        "scaling": (layers.Linear, r"self\.scaling = self\.lora_alpha / self\.r", 0),
        "forward": (layers.Linear.forward, r"if self\.r > 0 and not self\.merged|result = F\.linear\(x, T\(self|"
                    r"result \+= \(self\.lora_dropout", 0),
        "merge": (layers.Linear.train, r"if self\.merge_weights and (not )?self\.merged|"
                  r"self\.weight\.data [-+]= T\(self\.lora_B @ self\.lora_A\) \* self\.scaling", 0),
        "trainable": (utils.mark_only_lora_as_trainable, r"^\s+p\.requires_grad = False$", 2),
        "citation": (_metadata(), r"^\*\*LoRA: Low-Rank|^Paper: https://arxiv\.org/abs/", 0),
    }


def citation_text(options: dict) -> str:
    """The opening of loralib's README (the package's long description) up to its "Paper:" line."""
    text = importlib.metadata.metadata("loralib").get_payload() or ""
    head = re.search(r"\A.*?^Paper: .*?$", text, re.S | re.M)
    return head.group(0) if head else text


DECLARATIONS = (
    Declaration(
        claim="lora.gaussian-a",
        kind="known_bug",
        variant="lora",
        rationale="loralib.Linear.reset_parameters draws A with nn.init.kaiming_uniform_(lora_A, a=√5), i.e. "
        "U(−1/√d_in, 1/√d_in), where the paper says \"We use a random Gaussian initialization for A\"; the released "
        "0.1.2 source says only \"initialize A the same way as the default for nn.Linear and B to zero\" (what, not "
        "that or why it departs from the paper), so the departure is undocumented in the pinned release (a later, "
        "unreleased commit a0a92e0 on main adds \"this is different than what is described in the paper\", with A "
        "and B swapped in the comment). ΔW = BA = 0 at init is kept (lora.zero-init, lora.identity-at-init MATCH)",
        alternative=InitDistribution(role="down", family="kaiming_uniform"),
        link=f"{SOURCE}/loralib/layers.py#L122-L123",
        signature=r"'down' entries are not N\(0, σ\) with σ fitted",
    ),
)

# The implementation each declared alternative property must fail for: the paper-faithful reference (Gaussian A)
ALTERNATIVE_FAILS_FOR = {
    "lora.gaussian-a": "reference",  # the paper's Gaussian A is not Kaiming-uniform
}
