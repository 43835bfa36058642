"""Price tables (dated, regional, the default seeded idempotently) and optical budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from inventory.models import PriceItem, PriceItemKind, PriceTable
from netops.db import session_scope
from netops.errors import ConfigError, NotFoundError
from planning.costs import cost_model
from planning.default_prices import PRICES, ensure_default_price_table
from planning.loss_budget import (
    STANDARD_OPTICS, Optic, best_budget, joints_for, loss_budget, named_optic, optics_by_preference, rate_note,
)


def test_default_table_is_inserted_once(engine):
    with session_scope(engine) as session:
        first = ensure_default_price_table(session)
        again = ensure_default_price_table(session)
        assert first.id == again.id
        items = session.exec(select(PriceItem).where(PriceItem.table_id == first.id)).all()
        assert len(items) == len(PRICES)
        assert len(session.exec(select(PriceTable)).all()) == 1


def test_cost_model_seeds_the_default_when_empty(engine):
    with session_scope(engine) as session:
        costs = cost_model(session, on=dt.date(2025, 6, 1))
    assert (costs.region, costs.valid_from) == ("Gelsenkirchen", dt.date(2024, 1, 1))
    assert costs.trench_price("open_trench") == 130.0
    assert costs.cable_strands(13) == 24 and costs.cable_price(13) == 1.40
    # a free duct costs pulling plus cable: far cheaper than digging
    assert costs.per_cable_per_m(existing_duct=True, strands=12) == pytest.approx(7.10)


def test_the_table_in_force_on_the_date_wins(engine):
    with session_scope(engine) as session:
        ensure_default_price_table(session)
        newer = PriceTable(region="Gelsenkirchen", valid_from=dt.date(2026, 1, 1), source="tender 2026")
        session.add(newer)
        session.flush()
        for (kind, key), price in PRICES.items():
            session.add(PriceItem(table_id=newer.id, kind=kind, key=key, price_eur=price * 1.1))
        session.flush()
        assert cost_model(session, on=dt.date(2025, 12, 31)).valid_from == dt.date(2024, 1, 1)
        assert cost_model(session, on=dt.date(2026, 1, 1)).trench_price("open_trench") == pytest.approx(143.0)
        with pytest.raises(NotFoundError):
            cost_model(session, region="Bottrop")
        with pytest.raises(NotFoundError):
            cost_model(session, on=dt.date(2023, 1, 1))


def test_an_incomplete_table_is_a_config_error(engine):
    with session_scope(engine) as session:
        table = PriceTable(region="Gladbeck", valid_from=dt.date(2024, 1, 1), source="partial")
        session.add(table)
        session.flush()
        session.add(PriceItem(table_id=table.id, kind=PriceItemKind.TRENCH_PER_M, key="open_trench", price_eur=99))
        session.flush()
        with pytest.raises(ConfigError, match="incomplete"):
            cost_model(session, region="Gladbeck")


LX = Optic("LX", 1310, 10.0, 8.0)
ZX = Optic("ZX", 1550, 70.0, 23.0)


def test_loss_budget_by_hand():
    budget = loss_budget(6000, LX)
    # 6 km: one drum joint -> 3 splices; 2 connectors
    assert budget.splices == 3 and joints_for(6000) == 1
    assert budget.loss_1310_db == pytest.approx(6 * 0.35 + 3 * 0.1 + 2 * 0.5)
    assert budget.loss_1550_db == pytest.approx(6 * 0.25 + 3 * 0.1 + 2 * 0.5)
    assert budget.margin_db == pytest.approx(8.0 - 3.4)
    assert not budget.flagged


def test_the_budget_takes_a_longer_reach_optic_only_to_keep_the_margin():
    """``best_budget``: 9.5 km with 20 splices (spare strands through 18 closures) leaves LX
    1.68 dB, ZX 17.6 dB: ZX. When no optic keeps the margin, or one is named, that first
    choice (or the named one) is the plan's, flagged: a longer-reach one is taken only to keep it."""
    assert best_budget(9500, [ZX, LX], splices=20).optic == "ZX"
    assert best_budget(9500, [ZX, LX], splices=20).splices == 20
    none_keeps = best_budget(9500, [ZX, LX], min_margin_db=30.0, splices=20)
    assert (none_keeps.optic, none_keeps.flagged) == ("LX", True)
    named = best_budget(9500, [ZX, LX], "LX", splices=20)
    assert (named.optic, named.flagged, named.margin_db) == ("LX", True, pytest.approx(1.68, abs=0.01))
    assert best_budget(9500, [ZX, LX]).optic == "LX"  # one new cable (4 splices: 2 drum joints): LX keeps 3.28 dB


def test_small_margin_and_short_reach_are_flagged():
    tight = loss_budget(9500, LX, min_margin_db=5.0)
    assert tight.flagged and "margin" in tight.reason
    beyond = loss_budget(12_000, LX)
    assert beyond.flagged and "reach" in beyond.reason


def test_optic_choice():
    assert optics_by_preference([ZX, LX], 3000)[0].name == "LX"  # shortest reach that covers
    assert optics_by_preference([ZX, LX], 30_000)[0].name == "ZX"
    assert named_optic([ZX, LX], "ZX").name == "ZX"
    with pytest.raises(NotFoundError, match="unknown optic 'SX'; known: ZX, LX"):
        named_optic([ZX, LX], "SX")


def test_a_longer_reach_optic_of_a_lower_line_rate_says_so():
    """30 km: 10GBASE-ER (the first choice, 40 km) keeps 1.70 dB, under the 3 dB minimum;
    1000BASE-ZX keeps it, at a tenth of the rate: the budget names what was given up (a Kita
    runs fine at 1 Gbit/s, but the planner must see it), the plan's note says it."""
    budget = best_budget(30_000, list(STANDARD_OPTICS))
    assert (budget.optic, budget.optic_rate_mbps, budget.flagged) == ("1000BASE-ZX", 1000, False)
    assert budget.rate_lowered_from == "10GBASE-ER"
    assert "1000BASE-ZX (1,000 Mbit/s) instead of 10GBASE-ER" in rate_note(budget, 2)
    assert rate_note(budget, 2).startswith("route 2: ")
    # the first choice keeps the margin, or the fallback runs at the same rate: nothing to say
    short = best_budget(5000, list(STANDARD_OPTICS))
    assert (short.optic, short.rate_lowered_from, rate_note(short)) == ("1000BASE-LX", None, None)
    assert best_budget(9500, [ZX, LX], splices=20).rate_lowered_from is None  # rates unknown: no claim
    same_rate = [Optic("LX", 1310, 10.0, 8.0, 1000), Optic("ZX", 1550, 70.0, 23.0, 1000)]
    assert best_budget(9500, same_rate, splices=20).rate_lowered_from is None
    # named: the user's choice, flagged, never swapped
    assert best_budget(30_000, list(STANDARD_OPTICS), "10GBASE-ER").rate_lowered_from is None
