"""Tolerance arithmetic: a NaN or infinite measurement can never pass (NaN compares False with every bound)."""

import math

import torch

from fidelity.numerics import fwd_tolerance, margin


def test_margin_is_the_largest_ratio():
    assert margin(torch.tensor([0.5, -2.0]), torch.tensor([1.0, 4.0])) == 0.5


def test_a_zero_tolerance_passes_only_an_exact_zero():
    assert margin(torch.tensor([0.0]), torch.tensor([0.0])) == 0.0
    assert margin(torch.tensor([1e-300], dtype=torch.float64), torch.tensor([0.0])) == math.inf


def test_nan_and_inf_errors_are_infinite_margins():
    for bad in (float("nan"), float("inf"), -float("inf")):
        assert margin(torch.tensor([0.0, bad]), torch.tensor([1.0, 1.0])) == math.inf
    assert margin(torch.tensor([0.0]), torch.tensor([float("nan")])) == math.inf


def test_forward_tolerance_is_k_eps_scale():
    tol = fwd_tolerance(torch.float32, 8, torch.tensor([2.0]))
    assert float(tol) == 2 * (8 + 2) * torch.finfo(torch.float32).eps * 2.0
