"""The binding protocol: how the suite drives an implementation without importing it in any check.

A binding builds an adapted `nn.Linear` for a variant from a given weight, bias and config, exposes the live
trainable tensors under the variant's canonical role names (`down`, `up`, …), points at its own source lines,
and declares where it departs from a paper on purpose (or by a known bug).
"""

from __future__ import annotations

import copy
import importlib.metadata
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from fidelity.impls.roles import RoleView, as_view


class NotProvided(Exception):
    """The implementation does not provide this variant or option (the cell is N/A, with this reason)."""


@dataclass
class AdaptedLayer:
    """One adapted linear layer as the checks see it.

    `roles` and `buffers` give each of the variant's tensors in the paper's shape: the live tensor when the library
    stores it that way, else a `fidelity.impls.roles.RoleView` of the library's own storage (a transpose, reshape,
    slice, or a getter/setter pair). Checks go through `read`, `write` and `grad`, never through a storage layout.
    """

    module: nn.Module  # the adapted layer; calling it runs the adapted forward pass
    base: nn.Module | None  # an untouched deep copy of the base layer, taken before attaching
    roles: dict[str, torch.Tensor | RoleView]  # trainable role -> its live tensor or a view of the storage
    # every name of module.named_parameters() -> its role, or "base.weight"/"base.bias"; derived when omitted (a
    # parameter belongs to the roles whose storage it is; the live base weight and the module's bias are the base)
    param_roles: dict[str, str] | None = None
    realised: dict[str, float] = field(default_factory=dict)  # read for the review only, never checked
    buffers: dict[str, torch.Tensor | RoleView] = field(default_factory=dict)  # frozen role -> tensor or view
    weight: torch.Tensor | None = None  # the live base weight inside the module (W_res for weight-rewriting variants)
    # The term the implementation adds to the training loss for this layer (HRA's and AdaLoRA's orthogonality
    # regularisers), weight included, as a differentiable scalar; None when it adds none
    regularizer: Callable[[], torch.Tensor] | None = None
    # Deployment (K12): the (weight, bias) the implementation's own merge path stores, computed on a copy (the module
    # the other checks drive stays unmerged), in nn.Linear's (d_out, d_in) layout; and the weight after merging and
    # unmerging. None where the implementation has no such path (its merge claims are N/A)
    merge: Callable[[], tuple[torch.Tensor, torch.Tensor | None]] | None = None
    unmerge: Callable[[], torch.Tensor] | None = None

    def __post_init__(self):
        self.roles = {name: as_view(t) for name, t in self.roles.items()}
        self.buffers = {name: as_view(t) for name, t in self.buffers.items()}
        if self.param_roles is None:
            self.param_roles = self._derived_param_roles()

    def _derived_param_roles(self) -> dict[str, str]:
        owners: dict[int, str] = {}  # a stored tensor -> the roles it holds ("down,up" when packed in one)
        for name, view in self.roles.items():
            for t in view.storage:
                owners[id(t)] = f"{owners[id(t)]},{name}" if id(t) in owners else name
        base = {id(t): kind for t, kind in ((self.weight, "base.weight"), (getattr(self.module, "bias", None),
                                                                            "base.bias")) if t is not None}
        mapped = {}
        for pname, param in self.module.named_parameters():
            if id(param) in owners:
                mapped[pname] = owners[id(param)]
            elif id(param) in base:
                mapped[pname] = base[id(param)]
            elif pname.endswith(("base_layer.weight", "base.weight")) or pname == "weight":
                mapped[pname] = "base.weight"
            elif pname.endswith(("base_layer.bias", "base.bias")) or pname == "bias":
                mapped[pname] = "base.bias"
        return mapped

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    def base_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x)

    def view(self, name: str) -> RoleView:
        """The role or buffer `name` (KeyError when the binding gives neither)."""
        return self.roles[name] if name in self.roles else self.buffers[name]

    def read(self, name: str) -> torch.Tensor:
        """A role or buffer in the paper's shape, attached to the graph (detach before keeping it)."""
        return self.view(name).read()

    def write(self, name: str, value: torch.Tensor) -> None:
        """Set a role or buffer to `value` (paper's shape, any dtype): the module computes with it from then on."""
        self.view(name).write(value)

    def grad(self, name: str) -> torch.Tensor | None:
        """A trainable role's gradient after a backward pass, in the paper's shape (None: no gradient reached it)."""
        return self.roles[name].grad()


@dataclass(frozen=True)
class SourceRef:
    """Lines of an implementation's source, cited in a review as `path:first-last`."""

    path: str  # stable display path, e.g. `peft 0.21.2: src/peft/tuners/lora/layer.py`
    first: int
    lines: tuple[str, ...]

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1

    def cite(self) -> str:
        return f"{self.path}:{self.first}" if self.first == self.last else f"{self.path}:{self.first}-{self.last}"


def source_lines(obj: Any, display_root: Path, display_prefix: str, pattern: str | None = None,
                 before: int = 0, stop: str | None = None) -> list[SourceRef]:
    """The lines of `obj`'s source matching `pattern` (all of it when None), each with `before` lines of context;
    with `stop`, only the lines before the first one matching it (e.g. a module's registry tables)."""
    lines, first = inspect.getsourcelines(obj)
    if stop is not None:
        cut = next((i for i, line in enumerate(lines) if re.match(stop, line)), len(lines))
        lines = lines[:cut]
    first = max(first, 1)  # a module's source starts at line 1 (inspect reports 0)
    path = Path(inspect.getsourcefile(obj)).resolve()
    try:
        shown = f"{display_prefix}{path.relative_to(display_root.resolve())}"
    except ValueError:
        shown = f"{display_prefix}{path.name}"
    if pattern is None:
        return [SourceRef(shown, first, tuple(line.rstrip("\n") for line in lines))]
    regex = re.compile(pattern)
    refs = [SourceRef(shown, first + max(0, i - before), tuple(l.rstrip("\n") for l in lines[max(0, i - before):i + 1]))
            for i, line in enumerate(lines) if regex.search(line)]
    return refs or [SourceRef(shown, first, (lines[0].rstrip("\n"),))]


def _caller_line() -> str:
    """`path:line` of the code that constructs a Declaration (the first frame outside this module and the
    dataclass's generated __init__), relative to the repository when inside it."""
    import sys

    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename == __file__ or frame.f_code.co_filename.startswith("<")):
        frame = frame.f_back
    if frame is None:
        return ""
    path = Path(frame.f_code.co_filename).resolve()
    root = Path(__file__).resolve().parents[2]
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    return f"{shown}:{frame.f_lineno}"


@dataclass(frozen=True)
class Declaration:
    """A binding's statement about one claim: a deliberate deviation, or a known bug.

    A deviation needs a rationale and an alternative property (a check instance) that holds instead, plus the
    claims it still preserves; a known bug needs a link, and may give the `signature` of its failure (a regular
    expression the failing observation must match), so that a different failure of the same claim is not excused as
    the known one, and an exact `alternative` property that characterises it (an accidental float32 constant: neither
    on purpose nor unexplained), which must hold for the failure to count as the known one. Either one that no longer
    fails turns STALE.
    """

    claim: str
    kind: str  # "deviation" | "known_bug"
    rationale: str
    variant: str = ""  # the variant it concerns (a paper claim can apply to several variants); "" = every one
    alternative: Any = None  # a fidelity.checks Check, run in place of the paper's property
    preserves: tuple[str, ...] = ()
    link: str = ""
    signature: str = ""  # known bugs: a regex the failing check's observation must match
    # where it is written, `path:line` relative to the repository (found from the caller when not given): a review
    # cites it for a declaration that has no link of its own
    where: str = field(default="", compare=False)

    def __post_init__(self):
        if not self.where:
            object.__setattr__(self, "where", _caller_line())
        if self.kind not in ("deviation", "known_bug"):
            raise ValueError(f"declaration for {self.claim}: kind must be 'deviation' or 'known_bug'")
        if self.kind == "deviation" and self.alternative is None:
            raise ValueError(f"declaration for {self.claim}: a deviation must name the alternative property it keeps")
        if self.kind == "known_bug" and not self.link:
            raise ValueError(f"declaration for {self.claim}: a known bug must link its evidence (issue URL)")


class Binding:
    """Base class of implementations under test. Subclasses set `name` and implement the methods."""

    name: str = "?"
    declarations: tuple[Declaration, ...] = ()
    # a TOML file of further declarations, kept in the implementation's own repository (fidelity/impls/declarations_file.py)
    declarations_file: str | Path | None = None

    @property
    def label(self) -> str:
        """Name and version as shown in reviews, e.g. `peft 0.21.2`."""
        return self.name

    @property
    def version(self) -> str:
        """The implementation's version for the results file: by default that of the distribution the binding's
        package comes from ("" when it is not installed as one)."""
        try:
            return importlib.metadata.version(type(self).__module__.split(".")[0])
        except importlib.metadata.PackageNotFoundError:
            return ""

    def unavailable(self) -> str | None:
        """Why this implementation cannot run here (e.g. not installed, with the install hint), or None: its cells
        are N/A with that reason."""
        return None

    def broken(self) -> str | None:
        """Why this implementation failed to load (an import error, a bad declarations file), or None: its cells are
        ERROR with that reason, and the other implementations still run."""
        return None

    def provides(self, variant: str, options: dict) -> str | None:
        """None when the variant with these options is provided, else the reason it is not (N/A)."""
        return None

    def dtypes(self, variant: str) -> tuple[str, ...]:
        """The dtypes this implementation computes the variant in, preferred first (others run in the first)."""
        return ("float64", "float32")

    def conventions(self, variant: str) -> tuple[str, ...]:
        """The conventions this implementation follows where the paper leaves a choice (e.g. "peft-prng": PEFT's
        generator, draw order and float32 staging for VeRA's frozen matrices): their convention claims run, the
        others are N/A."""
        return ()

    def build(self, variant: str, weight: torch.Tensor, bias: torch.Tensor | None, config: Any,
              calibration: torch.Tensor | None = None) -> AdaptedLayer:
        """Attach the variant to a fresh `nn.Linear` holding `weight` and `bias`; eval mode, no dropout.

        `calibration` holds input rows (N, d_in) for data-driven inits (EVA, CorDA, ASVD), else None; a check may
        pass the same rows as (S, T, d_in), S calibration samples of T rows, one forward pass each (CorDA's
        equal-weighting claim), which a binding that does not distinguish samples may flatten.

        A binding that attaches to models rather than layers implements `attach` instead: the layer is then the
        `q_proj` of a `TinyModel` the suite builds.
        """
        if type(self).attach is Binding.attach:
            raise NotImplementedError(f"the {self.name} binding implements neither build() nor attach()")
        return self._through_model(variant, [(weight, bias)], config, calibration)[0]

    def build_many(self, variant: str, layers: list[tuple[torch.Tensor, torch.Tensor | None]], config: Any
                   ) -> list[AdaptedLayer]:
        """Attach the variant to several layers of one model at once (claims about what layers share, e.g. VeRA's
        frozen random matrices). Raise NotProvided when the binding cannot build a multi-layer model."""
        if type(self).attach is Binding.attach:
            raise NotProvided(f"the {self.name} binding cannot build several adapted layers in one model")
        return self._through_model(variant, layers, config, None)

    def attach(self, variant: str, model: nn.Module, targets: list[str], config: Any,
               calibration: torch.Tensor | None = None) -> dict[str, AdaptedLayer]:
        """Optional, instead of `build`: attach the variant to the named projections `targets` of `model` (a
        `TinyModel`: q_proj, v_proj, … as its attributes) and return, per target, the adapted layer the checks drive
        (`module` the projection itself when the library hooks into it). `base` and `weight` may be left None: the
        suite fills in its untouched copy of the projection and the projection's live weight."""
        raise NotImplementedError

    def _through_model(self, variant, layers, config, calibration) -> list[AdaptedLayer]:
        names = list(PROJECTIONS[:len(layers)])
        model = TinyModel({name: fresh_linear(weight, bias) for name, (weight, bias) in zip(names, layers)})
        untouched = {name: copy.deepcopy(model.get_submodule(name)) for name in names}
        adapted = self.attach(variant, model, names, config, calibration)
        for name in names:
            layer = adapted[name]
            if layer.base is None:
                layer.base = untouched[name]
            if layer.weight is None:
                layer.weight = model.get_submodule(name).weight
        return [adapted[name] for name in names]

    def sources(self, variant: str, topic: str) -> list[SourceRef]:
        """The source lines implementing `topic` (init, forward, scaling, trainable, citation)."""
        return []

    def citation_text(self, variant: str, options: dict) -> str:
        """The text where the implementation cites its paper (docstrings, help strings)."""
        return ""

    def declaration(self, claim_id: str, variant: str, kind: str | None = None) -> Declaration | None:
        """The declaration for one claim of one variant (of one kind, when given), or None."""
        for d in self.declarations:
            if d.claim == claim_id and d.variant in ("", variant) and kind in (None, d.kind):
                return d
        return None


# The projections of a TinyModel, in the order a binding's `attach` receives them (one layer: q_proj alone)
PROJECTIONS = ("q_proj", "v_proj", "k_proj", "o_proj", "up_proj", "down_proj")


class TinyModel(nn.Module):
    """A model of named projections (`q_proj`, `v_proj`, …), each an `nn.Linear`: what libraries that target modules
    by name or structure attach to. It has no forward of its own: the checks call the adapted projections."""

    def __init__(self, projections: dict[str, nn.Linear]):
        super().__init__()
        for name, layer in projections.items():
            setattr(self, name, layer)


def fresh_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    """A new `nn.Linear` holding copies of `weight` and `bias`, in their dtype."""
    d_out, d_in = weight.shape
    layer = nn.Linear(d_in, d_out, bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer

