"""Declarations kept in an implementation's own repository: a TOML file the suite reads and lints.

A third-party binding points at it with `declarations_file`; each entry is one Declaration:

    [[deviation]]
    claim = "lora.gaussian-a"
    variant = "lora"
    rationale = "A is Kaiming-uniform, following microsoft/LoRA"
    alternative = { check = "init_distribution", role = "down", family = "kaiming_uniform" }
    preserves = ["lora.zero-init", "lora.identity-at-init"]
    link = "https://…"

    [[known_bug]]
    claim = "lora.scaling"
    variant = "lora"
    rationale = "…"
    link = "https://…"
    signature = "measured scale"          # optional: a regex the failure must match
    alternative = { check = "…", … }      # optional: an exact characterisation that must hold (an accident, known)

An alternative is a check of the vocabulary (`fidelity/kinds.py`) with keyword arguments of plain values; a check that
needs Python arguments (a scaling law) is declared in the binding's code instead. A malformed file is one error naming
the file, the entry and what to fix; entries that match no cell are reported by `problems`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from fidelity.impls.base import Declaration

FIELDS = {"claim", "variant", "rationale", "alternative", "preserves", "link", "signature"}


class DeclarationFileError(ValueError):
    """A declarations file that cannot be read; the message names the file, the entry and the fix."""


def _alternative(spec, where: str):
    from fidelity.checks import CHECKS

    if not isinstance(spec, dict) or "check" not in spec:
        raise DeclarationFileError(f"{where}: 'alternative' must be a table with a 'check' kind, e.g. "
                                   f"{{ check = \"init_distribution\", role = \"down\", family = \"kaiming_uniform\" }}")
    params = dict(spec)
    kind = params.pop("check")
    if kind not in CHECKS:
        raise DeclarationFileError(f"{where}: unknown check kind {kind!r} in 'alternative'; known: "
                                   f"{', '.join(sorted(CHECKS))}")
    try:
        return CHECKS[kind](**params)
    except TypeError as exc:
        raise DeclarationFileError(f"{where}: the {kind!r} check cannot be built from {params} ({exc}); declare this "
                                   f"deviation in the binding's Python code instead") from None


def load_declarations(path: str | Path) -> tuple[Declaration, ...]:
    """Parse and build every declaration of one file; DeclarationFileError on the first problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeclarationFileError(f"{path}: declarations file not found; fix the binding's declarations_file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeclarationFileError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    unknown = set(data) - {"deviation", "known_bug"}
    if unknown:
        raise DeclarationFileError(f"{path}: unknown table(s) {sorted(unknown)}; use [[deviation]] and [[known_bug]]")
    out = []
    for kind in ("deviation", "known_bug"):
        for i, entry in enumerate(data.get(kind, [])):
            where = f"{path} [[{kind}]] #{i + 1}"
            extra = set(entry) - FIELDS
            if extra:
                raise DeclarationFileError(f"{where}: unknown field(s) {sorted(extra)}; allowed: {sorted(FIELDS)}")
            for field in ("claim", "rationale"):
                if not isinstance(entry.get(field), str) or not entry[field].strip():
                    raise DeclarationFileError(f"{where}: missing field '{field}' (a non-empty string)")
            fields = {k: entry[k] for k in ("claim", "rationale", "variant", "link", "signature") if k in entry}
            if kind == "deviation":
                if "alternative" not in entry:
                    raise DeclarationFileError(f"{where}: a deviation needs the 'alternative' property that holds "
                                               f"instead")
            if "alternative" in entry:  # a deviation's property that holds instead, or a known bug's characterisation
                fields["alternative"] = _alternative(entry["alternative"], where)
                fields["preserves"] = tuple(entry.get("preserves", ()))
            try:
                out.append(Declaration(kind=kind, where=f"{path.name} [[{kind}]] #{i + 1}", **fields))
            except ValueError as exc:
                raise DeclarationFileError(f"{where}: {exc}") from None
    return tuple(out)


def problems(binding) -> list[str]:
    """Declarations that match no cell: an unknown variant, a claim the variant does not test, an unknown preserved
    claim, or a second declaration of the same kind for one cell (the runner would silently ignore it)."""
    from fidelity.variants import all_variants

    variants = all_variants()
    found, seen = [], set()
    for d in binding.declarations:
        what = f"{binding.name}: {d.kind} for {d.claim}" + (f" ({d.variant})" if d.variant else "")
        if d.variant and d.variant not in variants:
            found.append(f"{what}: no variant {d.variant!r}; known: {', '.join(sorted(variants))}")
            continue
        targets = [variants[d.variant]] if d.variant else list(variants.values())
        if not any(d.claim in v.claims for v in targets):
            found.append(f"{what}: no {'such variant' if d.variant else 'variant'} tests this claim; it matches no cell")
        for v in targets:
            if d.claim in v.claims:
                missing = [p for p in d.preserves if p not in v.claims]
                if missing:
                    found.append(f"{what}: preserved claims {missing} are not claims of {v.name}")
        key = (d.claim, d.variant, d.kind)
        if key in seen:
            found.append(f"{what}: declared twice; the runner reads one {d.kind} per claim and variant")
        seen.add(key)
    return found
