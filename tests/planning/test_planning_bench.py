"""The planning benchmark's own checks: a figure contradicting another stops the run, and a
batch without a bound (nothing planned) is no crash."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from planning.bounds import LowerBound

import planning_bench  # benchmarks/ is on the path: tests/conftest.py imports it first (Hypothesis' constants)


def test_a_plan_without_a_bound_is_checked_and_printed():
    nothing = SimpleNamespace(routing_eur=0.0, bound=None)
    planning_bench.check_plan("empty batch", nothing)  # main: AttributeError on plan.bound.method
    assert "no bound" in planning_bench.stated_gap(nothing)


def test_a_bound_above_the_plan_stops_the_run():
    lying = SimpleNamespace(routing_eur=100.0, bound=LowerBound(101.0, "LP relaxation"))
    with pytest.raises(SystemExit, match="LP relaxation bound 101.00 above the plan 100.00"):
        planning_bench.check_plan("batch", lying)
    fine = SimpleNamespace(routing_eur=100.0, bound=LowerBound(99.0, "LP relaxation"))
    planning_bench.check_plan("batch", fine)
    assert planning_bench.stated_gap(fine) == "100 ≥ 99 (LP relaxation): 1.0 %"


def test_a_plan_below_the_optimum_stops_the_run():
    with pytest.raises(SystemExit, match="plan 90.00 below the exact optimum 100.00"):
        planning_bench.check_order("cut", 90.0, 100.0)
    planning_bench.check_order("cut", 100.0, 100.0, LP=None, generated=99.0)


def test_percentages_print_no_negative_zero_and_none_as_n_a():
    """The regenerated block printed "-0.00 %" (a gap a hair below zero: the solvers' tolerance)
    and divided by an independent total of 0 (nothing planned) in one place, guarded in another."""
    assert planning_bench.pct(-0.001) == "0.00 %" and planning_bench.pct(-0.04, 1) == "0.0 %"
    assert planning_bench.pct(-0.01) == "-0.01 %" and planning_bench.pct(0.704) == "0.70 %"
    assert planning_bench.pct(None) == planning_bench.pct(float("inf")) == "n/a"
    touching = SimpleNamespace(routing_eur=100.0, bound=LowerBound(100.0001, "LP relaxation"))
    assert planning_bench.stated_gap(touching) == "100 ≥ 100 (LP relaxation): 0.0 %"
    assert planning_bench.saving_pct(SimpleNamespace(saving_eur=0.0, independent_total_eur=0.0)) is None
    assert planning_bench.saving_pct(SimpleNamespace(saving_eur=25.0, independent_total_eur=200.0)) == 12.5
    assert planning_bench.mean_max([0.5, -0.5, 1.0]) == "0.33 % / 1.00 %"
    assert planning_bench.mean_max([-0.001, 0.0]) == "0.00 % / 0.00 %"
    assert planning_bench.mean_max([1.0, float("nan")]) == "n/a / n/a"  # a cut without an LP bound
