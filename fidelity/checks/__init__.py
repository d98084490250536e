"""One check class per claim kind (see fidelity/kinds.py)."""

from fidelity.checks.citation import Citation
from fidelity.checks.formula import Formula
from fidelity.checks.identity import Identity
from fidelity.checks.init_distribution import InitDistribution
from fidelity.checks.inventory import Inventory
from fidelity.checks.liveness import Liveness
from fidelity.checks.low_rank import LowRank
from fidelity.checks.scaling import Scaling
from fidelity.checks.zero_side import ZeroSide

CHECKS = {c.kind: c for c in (Citation, Formula, Identity, InitDistribution, Inventory, Liveness, LowRank, Scaling,
                              ZeroSide)}
