"""Evidence text in two forms: the console's exact numbers, and a committed form that rounding cannot change."""

from __future__ import annotations

import math

import pytest

from fidelity.stable import exact, figure, magnitude, noisy, ratio, stable


def test_a_noisy_part_is_console_only_or_replaced():
    text = f"within the tolerance in all 51 examples{noisy('; worst margin 0.061 (d_in=3)')}, leak " \
           f"{noisy('6.45e-16', 'below the bound')}"
    assert exact(text) == "within the tolerance in all 51 examples; worst margin 0.061 (d_in=3), leak 6.45e-16"
    assert stable(text) == "within the tolerance in all 51 examples, leak below the bound"
    assert noisy(text) and stable(noisy(text)) == "" and exact(noisy(text)) == exact(text)  # nesting flattens


@pytest.mark.parametrize("value, noise, digits, console, committed", [
    (1.333332222, 6.4e-13, 10, "1.333332222", "1.333332222"),  # AdaLoRA's α/(r + 1e-5): every digit stands
    (2.39123, 1e-6, 3, "2.39123", "2.39"),
    (0.000123456, 1e-9, 3, "0.000123456", "0.000123"),
    (3e-16, 1e-13, 3, "3e-16", "below 1e-11"),  # rounding-level: only its bound is committed
    (0.0728689, 4.6e-5, 3, "0.0728689", "0.07"),  # PEFT AdaLoRA's float32 regulariser: two digits stand
])
def test_a_figure_keeps_only_the_digits_its_noise_leaves(value, noise, digits, console, committed):
    shown = figure(value, noise, digits)
    assert exact(shown) == console and stable(shown) == committed


@pytest.mark.parametrize("value, noise", [(1.333332222, 6.4e-13), (2.39123, 1e-6), (0.2345678, 1e-9), (47.1, 1e-5)])
def test_a_figure_is_the_same_when_rounding_moves_the_value(value, noise):
    """What another CPU would measure: the value moved by its noise (a tenth of the tolerance, both ways)."""
    assert {stable(figure(value + s * 0.1 * noise, noise)) for s in (-1, 0, 1)} == {stable(figure(value, noise))}


def test_a_margin_is_committed_by_side_or_to_its_stable_digits():
    assert stable(ratio(0.061)) == "≤ 1" and exact(ratio(0.061)) == "0.061"
    assert stable(ratio(4.79)) == "> 1"
    assert stable(ratio(1.234e6)) == "1.23e+06" and exact(ratio(1.234e6)) == "1.234e+06"
    assert ratio(math.inf) == "inf"


def test_an_iterative_error_is_committed_as_its_order():
    # PEFT EVA's incremental PCA: 1.64e-07 natively, 2.12e-07 and 2.38e-07 on other code paths
    assert {stable(magnitude(v)) for v in (1.22e-7, 1.64e-7, 2.12e-7, 2.38e-7)} == {"~1e-07"}
    assert exact(magnitude(1.64e-7)) == "1.64e-07" and magnitude(0.0) == "0"
