"""The redundant batch's Lagrangian bound (``planning.redundant.lagrangian_bound``) is a
lower bound: never above the exact optimum (``exact_pairs``, HiGHS) on many small towns,
with or without spare strands, however many subgradient steps follow its damped rounds;
and the steps never make it worse than the damped rounds alone (the best value is kept)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planning.redundant import exact_pairs, independent_pairs, lagrangian_bound, redundant_pairs
from tests.planning.test_batch_redundant import instance_of
from tests.planning.test_redundant_model import strand_town

TOLERANCE = 1e-6  # relative, the MILP's own gap is 1e-7


def bounds_and_optimum(instance, steps: tuple[int, ...]) -> tuple[list[float], float] | None:
    pairs = redundant_pairs(instance, independent_pairs(instance))
    if not pairs:
        return None
    exact = exact_pairs(instance, sorted(pairs, key=repr))
    return [lagrangian_bound(instance, pairs, steps=n).value_eur for n in steps], exact.value_eur


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), size=st.sampled_from([4, 5]), sites=st.integers(2, 4))
def test_the_bound_is_below_the_optimum_on_grid_towns(seed, size, sites):
    found = bounds_and_optimum(instance_of(size, sites, seed), (0, 20, 200))
    if found is None:
        return
    (damped, stepped, long), optimum = found
    assert 0 < damped <= stepped <= long  # the best value is kept: steps never make it worse
    assert long <= optimum * (1 + TOLERANCE)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), size=st.sampled_from([3, 4]), sites=st.integers(1, 3),
       cables=st.integers(1, 4), tight=st.booleans(), midspan=st.booleans())
def test_the_bound_is_below_the_optimum_with_spare_strands(seed, size, sites, cables, tight, midspan):
    """Spare strands, closures with room for few joins, and new closures opened mid-span
    (their price split in halves over the edges at them, which several sites may share)."""
    found = bounds_and_optimum(strand_town(seed, size, sites, cables, tight, midspan), (0, 200))
    if found is None:
        return
    (damped, long), optimum = found
    assert damped <= long <= optimum * (1 + TOLERANCE)


@pytest.mark.parametrize("size,sites,seed", [(6, 4, 1), (6, 4, 2)])
def test_the_steps_close_part_of_the_gap(size, sites, seed):
    """Where the damped rounds leave a gap, the steps close part of it (the city's reason for them)."""
    instance = instance_of(size, sites, seed)
    pairs = redundant_pairs(instance, independent_pairs(instance))
    optimum = exact_pairs(instance).value_eur
    damped = lagrangian_bound(instance, pairs, steps=0).value_eur
    stepped = lagrangian_bound(instance, pairs).value_eur
    assert damped < stepped <= optimum * (1 + TOLERANCE)
