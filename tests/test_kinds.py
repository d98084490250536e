"""Every claim kind in the vocabulary has exactly one check class, and every check class a kind."""

from fidelity.checks import CHECKS
from fidelity.kinds import KINDS


def test_every_kind_has_a_check_and_every_check_a_kind():
    assert set(KINDS) == set(CHECKS)
