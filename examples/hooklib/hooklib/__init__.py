"""hooklib — parameter-efficient adapters attached to a model by forward hooks, targets found by module name.

    import hooklib
    hooklib.attach(model, hooklib.LoRAConfig(rank=8, alpha=16, targets=("q_proj", "v_proj")))
    loss = task_loss(model(batch)) + hooklib.penalty(model)   # HRA's orthogonality term; 0 for the other methods
    hooklib.detach(model)                                      # hooks and adapters removed, the base restored

Every nn.Linear whose name ends in one of `targets` gets its adapter as the submodule `linear.hooklib` (so
`linear.named_parameters()` lists `hooklib.*` beside the frozen `weight` and `bias`) and a forward hook that changes
its output, or a forward pre-hook that changes its input (HRA). One module per method, each citing its paper:
lora (LoRA, rsLoRA), dora, ia3, hra, delora, vera.
"""

from torch import nn
from torch.utils.hooks import RemovableHandle

from hooklib.adapter import Adapter
from hooklib.delora import DeLoRA, DeLoRAConfig
from hooklib.dora import DoRA, DoRAConfig
from hooklib.hra import HRA, HRAConfig
from hooklib.ia3 import IA3, IA3Config
from hooklib.lora import LoRA, LoRAConfig
from hooklib.vera import VeRA, VeRAConfig

__version__ = "0.1.0"
METHODS = {LoRAConfig: LoRA, DoRAConfig: DoRA, IA3Config: IA3, HRAConfig: HRA, DeLoRAConfig: DeLoRA,
           VeRAConfig: VeRA}


def attach(model: nn.Module, cfg) -> list[RemovableHandle]:
    """Adapt every nn.Linear of `model` named in `cfg.targets` (the last component of its dotted name); the hooks'
    handles, which `detach` also removes."""
    method = METHODS[type(cfg)]
    linears = [m for name, m in model.named_modules() if name.rsplit(".", 1)[-1] in cfg.targets]
    if not linears or not all(isinstance(m, nn.Linear) for m in linears):
        raise ValueError(f"hooklib: targets {cfg.targets} must name nn.Linear modules of the model")
    if any(isinstance(getattr(m, "hooklib", None), Adapter) for m in linears):
        raise ValueError("hooklib: a target already has an adapter; detach it first")
    shared = method.shared(linears, cfg)  # VeRA's random pair, one per model
    handles = []
    for linear in linears:
        linear.requires_grad_(False)  # its pre-trained weight and bias are frozen (the rest of the model is yours)
        linear.hooklib = adapter = method(linear, cfg, shared)
        if adapter.input_side:
            handles.append(linear.register_forward_pre_hook(adapter.pre_hook))
        else:
            handles.append(linear.register_forward_hook(adapter.hook))
    model._hooklib_handles = getattr(model, "_hooklib_handles", []) + handles
    return handles


def adapters(model: nn.Module) -> list[Adapter]:
    return [m.hooklib for m in model.modules() if isinstance(getattr(m, "hooklib", None), Adapter)]


def penalty(model: nn.Module):
    """The adapters' terms for the training loss (HRA's Eq. 6), summed."""
    return sum(adapter.penalty() for adapter in adapters(model))


def detach(model: nn.Module) -> None:
    """Remove every hooklib hook and adapter from `model`, restoring what attaching changed."""
    for handle in getattr(model, "_hooklib_handles", []):
        handle.remove()
    model._hooklib_handles = []
    for linear in [m for m in model.modules() if isinstance(getattr(m, "hooklib", None), Adapter)]:
        linear.hooklib.undo(linear)
        del linear.hooklib
