"""The controlled vocabulary of claim kinds (claim-kinds.md numbering in brackets).

Paper TOMLs may only name kinds listed here; each kind has one check module in `fidelity/checks/`.
"""

KINDS: dict[str, str] = {
    "identity": "K01 zero-init identity: the adapted layer equals the base layer at init",
    "zero_side": "K04 which factor is exactly zero at init",
    "liveness": "K04 step-0 gradient pattern: which trainables get a gradient on the first step",
    "inventory": "K06 exactly the declared tensors are trainable; the base stays frozen",
    "scaling": "K07 the delta scales as the paper says, measured through the forward pass (for SVD-split inits: the factors' magnitudes and W_res across α)",
    "formula": "K12 the forward pass equals the paper's formula at random non-degenerate parameters",
    "low_rank": "K12 the update has the paper's factor shapes and rank at most r",
    "runtime_off": "K03 with the steering coefficient at 0 the adapter is the base, whatever the trained values",
    "reconstruction": "K08 the frozen residual plus the adapter's initial term equals W; the residual is the tail",
    "decomposition": "K09 the stored bases span the subspaces the paper names (compared through projectors)",
    "optimality": "K20 the initial term is the best rank-r approximation of W (Eckart–Young minimum)",
    "confinement": "K10 where the update lives: inside the frozen subspaces, or free of them",
    "sign_invariance": "K11 flipping the sign of singular pairs (with the trainables mapped) leaves the function unchanged",
    "near_identity": "K02 a declared near-identity: at init the output moves, by no more than the stated bound",
    "steering_linearity": "K07 the steered update is linear in the steering coefficient, as S + α∆S is",
    "gain_bounds": "K14 the 1+ELU gain: positive, piecewise S·e^z / S·(1 + z), C¹ at 0, ≤ S under suppress_only",
    "calibration_contract": "K18 a data-driven init raises without its calibration data, before changing anything",
    "calibration_statistic": "K19 the calibrated init equals the paper's formula computed independently from the same calibration rows",
    "init_distribution": "K29 a named initial distribution, tested with a negative control",
    "citation": "K28 the implementation cites the paper (arXiv id, first author, year)",
    "init_value": "K06/K24 at init a role holds the value the paper's formula gives (a norm, a constant)",
    "bias": "K16 the effective bias f(0) is the paper's at random non-degenerate parameters",
    "influence": "K05 every trainable tensor, and every coordinate, row and column of it, moves the output",
    "gradient_path": "K15 the gradients are the paper's formula's, with what the paper holds constant detached",
    "orthogonality": "K13 the adapter's transform is orthogonal: it preserves norms",
    "rotation": "K13 a block rotation in the frozen basis: each block orthogonal with det +1, its angle within the stated bound (reached where stated), undone by the stated inverse",
    "norm_bound": "K14 a norm of the measured update never exceeds the paper's bound",
    "invariance": "K07/K11 a transformation of the trainables the paper says the function ignores leaves it unchanged",
    "validation": "K24 a configuration the method cannot honour is refused, not silently changed",
    "regularizer": "K14 the term added to the training loss is the paper's regulariser, weight included",
    "seeded": "K06 frozen random tensors are a function of the seed alone: rebuilt from it they are identical, from another seed different",
    "sharing": "K06 the frozen random matrices are shared by every adapted layer; the trainables are per layer",
}
