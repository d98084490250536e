"""One check class per claim kind (see fidelity/kinds.py)."""

from fidelity.checks.bias import Bias
from fidelity.checks.calibration import CalibrationRequired
from fidelity.checks.calibration_statistic import CalibrationStatistic
from fidelity.checks.citation import Citation
from fidelity.checks.confinement import Confinement
from fidelity.checks.decomposition import Decomposition
from fidelity.checks.degenerate import Degenerate
from fidelity.checks.formula import Formula
from fidelity.checks.gain_bounds import GainBounds
from fidelity.checks.gradient_path import GradientPath
from fidelity.checks.identity import Identity
from fidelity.checks.influence import Influence
from fidelity.checks.init_distribution import InitDistribution
from fidelity.checks.init_value import InitValue
from fidelity.checks.invariance import Invariance
from fidelity.checks.inventory import Inventory
from fidelity.checks.liveness import Liveness
from fidelity.checks.low_rank import LowRank
from fidelity.checks.merge import Merge
from fidelity.checks.near_identity import NearIdentity
from fidelity.checks.norm_bound import NormBound
from fidelity.checks.optimality import Optimality
from fidelity.checks.orthogonality import Orthogonality
from fidelity.checks.reconstruction import Reconstruction
from fidelity.checks.regularizer import Regularizer
from fidelity.checks.rotation import Rotation
from fidelity.checks.runtime_off import RuntimeOff
from fidelity.checks.seeded import Seeded
from fidelity.checks.scaling import InitScaling, Scaling
from fidelity.checks.sharing import Sharing
from fidelity.checks.sibling import Sibling
from fidelity.checks.sign_invariance import SignInvariance
from fidelity.checks.spectrum import Spectrum
from fidelity.checks.steering_linearity import SteeringLinearity
from fidelity.checks.support import Support
from fidelity.checks.validation import Validation
from fidelity.checks.zero_side import ZeroSide

CHECKS = {c.kind: c for c in (
    Bias, CalibrationRequired, CalibrationStatistic, Citation, Confinement, Decomposition, Formula, GainBounds,
    GradientPath, Identity, Influence, InitDistribution, InitValue, Invariance, Inventory, Liveness, LowRank, Merge,
    NearIdentity, NormBound, Optimality, Orthogonality, Reconstruction, Regularizer, Rotation, RuntimeOff, Scaling, Seeded, Sharing,
    Sibling, SignInvariance, Spectrum, SteeringLinearity, Support, Validation, ZeroSide, Degenerate,
)}

__all__ = [
    "CHECKS", "Bias", "CalibrationRequired", "CalibrationStatistic", "Citation", "Confinement", "Decomposition",
    "Formula", "GainBounds", "GradientPath", "Identity", "Influence", "InitDistribution", "InitScaling", "InitValue", "Invariance",
    "Inventory", "Liveness", "LowRank", "Merge", "NearIdentity", "NormBound", "Optimality", "Orthogonality", "Reconstruction",
    "Regularizer", "Rotation", "RuntimeOff", "Scaling", "Seeded", "Sharing", "Sibling", "SignInvariance", "Spectrum", "SteeringLinearity", "Support", "Validation", "ZeroSide", "Degenerate",
]
