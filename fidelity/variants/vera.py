"""VeRA: Kopiczko, Blankevoort, Asano 2023 (ICLR 2024), "VeRA: Vector-based Random Matrix Adaptation",
arXiv:2310.11454 (§3.1 Eq. 2, §3.2, §3.3).

    W_eff = W + diag(λ_b) B diag(λ_d) A,   b_eff = b
    A: (r, d_in), B: (d_out, r) frozen, random, shared by every layer;  λ_b: (d_out,), λ_d: (r,) trainable

Eq. (2) is column form, h = W0 x + Λ_b B Λ_d A x with B ∈ R^{m×r}, A ∈ R^{r×n}: m = d_out, n = d_in. Identity at
init from λ_b = 0 (§3.3); λ_d starts at the constant d_initial (0.1, §4.1), so λ_b is live at step 0 and λ_d dead.
A and B are kaiming_uniform_ at torch's defaults ("the uniform version of Kaiming initialization as implemented in
PyTorch", §4.1: a = 0, gain √2, U(±√(6/fan_in))), regenerated from one RNG seed (§3.2), which is what makes every
layer hold the same pair. There is no α: `scaling` is 1 and the scaled term is the whole update. The rank r may exceed
min(d_in, d_out): "B ∈ R^{m×r} and A ∈ R^{r×n} are not required to be low-rank" (§3.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from fidelity.cases import LayerCase, layer_cases
from fidelity.checks import (Citation, Formula, Identity, Influence, InitDistribution, InitValue, Inventory, Liveness,
                             Seeded, Sharing, ZeroSide)
from fidelity.checks.base import convention
from fidelity.variants.base import Role, VariantSpec


@dataclass(frozen=True)
class VeraConfig:
    r: int
    d_initial: float = 0.1  # §4.1 "with an initial value of 0.1 for the d vector"; PEFT's default
    projection_prng_key: int = 0  # the RNG seed A and B are regenerated from (§3.2); PEFT's default


def scaled_delta(state, cfg):
    """ΔW = diag(λ_b) B diag(λ_d) A: (d_out, r) @ (r, d_in), and the same on absolute values."""
    up, down = state["up"], state["down"]
    delta = (state["lambda_b"][:, None] * up) @ (state["lambda_d"][:, None] * down)
    delta_abs = (state["lambda_b"].abs()[:, None] * up.abs()) @ (state["lambda_d"].abs()[:, None] * down.abs())
    return delta, delta_abs


def effective_weight(state, cfg):
    """W_eff = W + Λ_b B Λ_d A (Eq. 2)."""
    delta, delta_abs = scaled_delta(state, cfg)
    return state["weight"] + delta, state["weight"].abs() + delta_abs


def _signed_magnitudes(n: int, gen: torch.Generator) -> torch.Tensor:
    """±U(0.5, 1.5): mixed signs, no two entries equal, none near zero (a near-zero entry would get a near-zero
    perturbation in the influence check, K05, and look unused)."""
    signs = torch.where(torch.rand(n, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return signs * (0.5 + torch.rand(n, generator=gen, dtype=torch.float64))


def random_state(case, state, weight, cfg) -> dict[str, torch.Tensor]:
    """λ_d = ±U(0.5, 1.5); λ_b = ±U(0.5, 1.5) rescaled so ‖ΔW‖_F = 0.3 ‖W‖_F (claim-kinds.md §1.4)."""
    gen = case.generator(stream=4)
    lambda_d = _signed_magnitudes(case.r, gen)
    lambda_b = _signed_magnitudes(case.d_out, gen)
    delta, _ = scaled_delta({**state, "lambda_b": lambda_b, "lambda_d": lambda_d}, cfg)
    return {"lambda_b": lambda_b * 0.3 * weight.norm() / delta.norm(), "lambda_d": lambda_d}


def seeded_pair(case, cfg, key: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A (r, d_in), then B (d_out, r), drawn by one torch.Generator seeded with the key (PEFT's procedure, which the
    reference follows: the paper names no generator), each U(±gain·√(3/fan_in)) with gain √2, in float32."""
    gen = torch.Generator().manual_seed(cfg.projection_prng_key if key is None else key)

    def kaiming_uniform(rows: int, fan_in: int) -> torch.Tensor:
        bound = math.sqrt(3.0) * math.sqrt(2.0) / math.sqrt(fan_in)
        return torch.empty(rows, fan_in, dtype=torch.float32).uniform_(-bound, bound, generator=gen)

    down = kaiming_uniform(case.r, case.d_in)
    up = kaiming_uniform(case.d_out, case.r)
    return down.to(torch.float64), up.to(torch.float64)


def d_initial_vector(case, weight, cfg) -> torch.Tensor:
    """λ_d at init: d_initial in every one of its r entries (§3.3)."""
    return torch.full((case.r,), cfg.d_initial, dtype=torch.float64)


def ones_vector(case, weight, cfg) -> torch.Tensor:
    """Figure 1's illustration, d initialised with ones: the rival reading of the d init."""
    return torch.ones(case.r, dtype=torch.float64)


@st.composite
def vera_cases(draw) -> LayerCase:
    """layer_cases' layers with r up to max(d_in, d_out), so above min(d_in, d_out) on non-square layers: A and B "are
    not required to be low-rank" (§3.1). Not higher: one λ_d entry moves the output by about 1/r of the update, and in
    float32 at r ≫ d the influence check's 10× margin over the T-fwd bound (which grows with r) becomes a coin toss."""
    case = draw(layer_cases())
    return case.with_(r=draw(st.integers(1, max(case.d_in, case.d_out)), label="r"))


SMALL_D = {"d_initial": 1e-7}  # Table 6c's other value that trains well
OTHER_KEY = {"projection_prng_key": 7}
DTYPES = ("float64", "float32", "bfloat16")
SHARED = ("down", "up")

SPEC = VariantSpec(
    name="vera",
    title="VeRA (vector-based random matrix adaptation)",
    papers=("2310.11454",),
    roles=(
        Role("lambda_b", lambda c: (c.d_out,), "λ_b (d_out,), scales the output rows"),
        Role("lambda_d", lambda c: (c.r,), "λ_d (r,), scales the rank coordinates between A and B"),
    ),
    buffers=(
        Role("down", lambda c: (c.r, c.d_in), "A (r, d_in), frozen, shared"),
        Role("up", lambda c: (c.d_out, c.r), "B (d_out, r), frozen, shared"),
    ),
    zero_at_init=frozenset({"lambda_b"}),
    live_at_step0=frozenset({"lambda_b"}),
    make_config=lambda case, **options: VeraConfig(r=case.r, **options),
    effective_weight=effective_weight,
    scaled_delta=scaled_delta,
    scaling=lambda cfg: 1.0,  # Eq. (2) has no α
    inner_length=lambda case: case.d_in + case.r,
    random_state=random_state,
    parameter_count=lambda case: case.d_out + case.r,
    # RoBERTa-large's r = 256 and d_initial = 0.1 (§4.1) on a non-square layer, r above both dimensions; α is unused
    witness=LayerCase(d_in=32, d_out=24, r=256, alpha=1.0),
    extra_witnesses=(LayerCase(d_in=20, d_out=36, r=4, alpha=1.0, dtype="float32", seed=1),),
    cases=vera_cases,
    claims={
        "vera.formula": Formula(),
        "vera.frozen-random": Inventory(dtypes=DTYPES),
        "vera.shared": Sharing(shared=SHARED),
        "vera.shared-key": Sharing(shared=SHARED, options=OTHER_KEY),
        "vera.seeded": Seeded(roles=SHARED, key="projection_prng_key"),
        # PEFT's convention where the paper names no generator (the reference follows it); N/A for other libraries
        "vera.seeded-a": convention("peft-prng", InitValue(role="down", expected=lambda c, w, cfg: seeded_pair(c, cfg)[0],
                                   text="A drawn from the seeded generator",
                                   contrast=lambda c, w, cfg: seeded_pair(c, cfg, cfg.projection_prng_key + 1)[0],
                                   contrast_text="next-seed", staged="float32")),
        "vera.seeded-b": convention("peft-prng", InitValue(role="up", expected=lambda c, w, cfg: seeded_pair(c, cfg)[1],
                                   text="B drawn from the seeded generator after A",
                                   contrast=lambda c, w, cfg: seeded_pair(c, cfg, cfg.projection_prng_key + 1)[1],
                                   contrast_text="next-seed", staged="float32")),
        "vera.seeded-key": convention("peft-prng", InitValue(role="down", expected=lambda c, w, cfg: seeded_pair(c, cfg)[0],
                                     text="A drawn from the generator seeded with projection_prng_key = 7",
                                     contrast=lambda c, w, cfg: seeded_pair(c, cfg, cfg.projection_prng_key + 1)[0],
                                     contrast_text="seed-8", staged="float32", options=OTHER_KEY)),
        "vera.zero-b": ZeroSide(),
        "vera.d-initial": InitValue(role="lambda_d", expected=d_initial_vector, text="d_initial = 0.1 in every entry",
                                    contrast=ones_vector, contrast_text="d = 1 (Figure 1)"),
        "vera.d-initial-small": InitValue(role="lambda_d", expected=d_initial_vector,
                                          text="d_initial = 1e-7 in every entry", contrast=ones_vector,
                                          contrast_text="d = 1 (Figure 1)", options=SMALL_D),
        "vera.kaiming-a": InitDistribution(role="down", family="kaiming_uniform_a0"),
        "vera.kaiming-b": InitDistribution(role="up", family="kaiming_uniform_a0"),
        "vera.identity-at-init": Identity(),
        "vera.identity-d-initial-small": Identity(options=SMALL_D),
        "vera.step0-gradient": Liveness(),
        "vera.influence": Influence(),
        "vera.citation": Citation(paper="2310.11454"),
    },
)
