"""The CI gate cannot flip on a random draw: property tests run derandomised by default."""

from hypothesis import given, settings
from hypothesis import strategies as st

drawn: list[int] = []


@given(st.integers())
def _draws(value):
    drawn.append(value)


def test_default_profile_is_derandomised_without_a_database():
    if settings.get_current_profile_name() == "hunt":  # `make fuzz` hunts on purpose
        return
    assert settings.default.derandomize and settings.default.database is None
    assert settings.default.deadline is None


def test_two_runs_draw_the_same_examples():
    if settings.get_current_profile_name() == "hunt":
        return
    _draws()
    first = list(drawn)
    drawn.clear()
    _draws()
    assert first == drawn and len(set(first)) > 10
