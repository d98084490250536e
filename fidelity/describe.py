"""What a binding must provide for one variant: `python -m fidelity.describe <variant> [--impl NAME]`.

Prints the roles (the paper's name and shape, and the shape on the variant's witness), the frozen buffers, the config
the binding receives (fields, types, the witness's values) and the options the claims run with, the dtypes the
suite draws, every claim with its check, and what `build` must return. With `--impl`, also what that binding
provides: its dtypes and, per claim, whether it is provided or N/A and why.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict

from fidelity.variants import UnknownVariant, all_variants, get_variant

BUILD_CONTRACT = """\
build(variant, weight, bias, config, calibration=None) -> fidelity.impls.base.AdaptedLayer with
  module        the adapted layer (calling it runs the adapted forward), eval mode, no dropout
  base          an untouched deep copy of the base layer, taken before attaching
  roles         {{{roles}}}: each the live tensor when stored in the paper's shape, else a view of the
                library's storage (fidelity.impls.roles: transposed, reshaped, flat, scalar, sliced, or a
                RoleView with a setter); reads, writes under torch.no_grad() and gradients go through it
  buffers       {{{buffers}}}
  weight        the live base weight inside the module (W_res where the variant rewrites it)
  regularizer   {regularizer}
  param_roles   optional: derived from the roles' storage (give it only for parameters the roles do not cover)
build_many(variant, [(weight, bias), ...], config) -> [AdaptedLayer, ...]: {many}"""


def describe(name: str, impl: str | None = None) -> str:
    spec = get_variant(name)
    witness = spec.witness
    lines = [f"{spec.name}: {spec.title} (arXiv:{', arXiv:'.join(spec.papers)})", "", "Roles (trainable):"]
    for role in spec.roles:
        lines.append(f"  {role.name:<12} {role.meaning}; {role.shape(witness)} on the witness")
    if spec.buffers:
        lines += ["", "Buffers (frozen tensors the checks read):"]
        lines += [f"  {b.name:<12} {b.meaning}; {b.shape(witness)} on the witness" for b in spec.buffers]
    config = spec.make_config(witness)
    lines += ["", f"Config the binding receives ({type(config).__name__}, the witness's values):"]
    lines += [f"  {f.name:<20} {_type(f.type):<10} {getattr(config, f.name)!r}" for f in dataclasses.fields(config)]
    options: dict[str, set] = defaultdict(set)
    for check in spec.claims.values():
        for key, value in check.options.items():
            options[key].add(repr(value))
    if options:
        lines += ["", "Options the claims run with (a binding that lacks one returns its reason from provides()):"]
        lines += [f"  {key} = {' | '.join(sorted(values))}" for key, values in sorted(options.items())]
    lines += ["", f"witness: {witness}",
              "dtypes drawn: float64 and float32 (bfloat16 where a claim names it); a binding's dtypes(variant) says "
              "which it computes in, and an example in another dtype runs in its first one, said in the evidence",
              "", "Claims:"]
    lines += [f"  {cid:<34} {check!r}" for cid, check in spec.claims.items()]
    many = any(type(c).__name__ == "Sharing" for c in spec.claims.values())
    lines += ["", BUILD_CONTRACT.format(
        roles=", ".join(f"'{r.name}': …" for r in spec.roles),
        buffers=", ".join(f"'{b.name}': …" for b in spec.buffers) or "",
        regularizer="a callable giving the loss term this layer adds (weight included)" if spec.regularizer
        else "None (the paper adds no loss term)",
        many="needed (a claim compares two layers of one model)" if many
        else "optional (no claim of this variant needs several layers)")]
    if impl:
        lines += ["", *_provided(spec, impl)]
    return "\n".join(lines)


def _type(t) -> str:
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


def _provided(spec, impl: str) -> list[str]:
    from fidelity.impls import get_binding

    binding = get_binding(impl)
    why = binding.broken() or binding.unavailable()
    if why:
        return [f"{binding.name}: {why}"]
    lines = [f"{binding.label}: dtypes {', '.join(binding.dtypes(spec.name))}"]
    for cid, check in spec.claims.items():
        refused = binding.provides(spec.name, check.options)
        declared = binding.declaration(cid, spec.name)
        state = f"N/A ({refused})" if refused else f"declared {declared.kind}" if declared else "provided"
        lines.append(f"  {cid:<34} {state}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fidelity.describe", description=__doc__.splitlines()[0])
    parser.add_argument("variant", help=f"one of: {', '.join(sorted(all_variants()))}")
    parser.add_argument("--impl", help="also show what this implementation provides (a name, or module:object)")
    args = parser.parse_args(argv)
    from fidelity.impls import UnknownImplementation

    try:
        print(describe(args.variant, args.impl))
    except (UnknownVariant, UnknownImplementation) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
