"""One check class per claim kind (see fidelity/kinds.py)."""

from fidelity.checks.calibration import CalibrationRequired
from fidelity.checks.calibration_statistic import CalibrationStatistic
from fidelity.checks.citation import Citation
from fidelity.checks.confinement import Confinement
from fidelity.checks.decomposition import Decomposition
from fidelity.checks.formula import Formula
from fidelity.checks.gain_bounds import GainBounds
from fidelity.checks.identity import Identity
from fidelity.checks.init_distribution import InitDistribution
from fidelity.checks.inventory import Inventory
from fidelity.checks.liveness import Liveness
from fidelity.checks.low_rank import LowRank
from fidelity.checks.near_identity import NearIdentity
from fidelity.checks.optimality import Optimality
from fidelity.checks.reconstruction import Reconstruction
from fidelity.checks.runtime_off import RuntimeOff
from fidelity.checks.scaling import InitScaling, Scaling
from fidelity.checks.sign_invariance import SignInvariance
from fidelity.checks.steering_linearity import SteeringLinearity
from fidelity.checks.zero_side import ZeroSide

CHECKS = {c.kind: c for c in (CalibrationRequired, Citation, Confinement, Decomposition, Formula, Identity, InitDistribution, Inventory, Liveness,
                              LowRank, Optimality, Reconstruction, RuntimeOff, Scaling, SignInvariance, ZeroSide,
                              GainBounds, NearIdentity, SteeringLinearity, CalibrationStatistic)}

__all__ = [
    "CHECKS", "CalibrationRequired", "CalibrationStatistic", "Citation", "Confinement", "Decomposition",
    "Formula", "GainBounds", "Identity", "InitDistribution", "InitScaling", "Inventory", "Liveness", "LowRank",
    "NearIdentity", "Optimality", "Reconstruction", "RuntimeOff", "Scaling", "SignInvariance",
    "SteeringLinearity", "ZeroSide",
]
