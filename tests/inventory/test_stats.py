"""`inventory stats` counts on SQLAlchemy Core without the SQLModel classes (for start-up
speed): here its table and column names and stored values are checked against the models,
and its counts against the same counts made through the models, on both backends."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from inventory import stats as stats_module
from inventory.models import (GENERATED, BusinessConnection, Cable, Device, ResidentialConnection, Site, Status,
                              TakeUp, metadata)
from netops import db as dbmod
from tests.support.mini_city import build_mini_city


def test_names_and_values_are_the_models():
    for clause in (stats_module.SITE, stats_module.DEVICE, stats_module.LINK, stats_module.TRENCH,
                   stats_module.CABLE, stats_module.BUILDING, stats_module.RESIDENTIAL, stats_module.BUSINESS):
        assert clause.name in metadata.tables, clause.name
        assert {c.name for c in clause.columns} <= set(metadata.tables[clause.name].columns.keys()), clause.name
    assert (stats_module.ACTIVE, stats_module.GENERATED, stats_module.CONNECTED) == \
        (Status.ACTIVE, GENERATED, TakeUp.CONNECTED)


def test_counts_agree_with_the_models(engine):
    with dbmod.session_scope(engine) as session:
        build_mini_city(session)
    with dbmod.session_scope(engine) as session:
        sites = session.scalars(select(Site)).all()
        devices = session.scalars(select(Device)).all()
        cables = session.scalars(select(Cable)).all()
        homes = session.scalars(select(ResidentialConnection)).all()
        companies = session.scalars(select(BusinessConnection)).all()
        with engine.connect() as conn:
            result = stats_module.stats(conn)
    assert sites and devices and cables  # the mini city has something to count
    assert result["sites_by_kind"] == dict(sorted(Counter(str(s.kind) for s in sites).items()))
    assert result["sites_generated"] == sum(s.source == GENERATED for s in sites)
    assert result["devices_by_role"] == dict(sorted(Counter(str(d.role) for d in devices).items()))
    assert result["cables"] == len(cables)
    assert result["cable_length_m"] == round(sum(c.length_m or 0 for c in cables), 1)
    active_homes = [h for h in homes if h.status == Status.ACTIVE]
    assert result["customers"]["residential_units_passed"] == sum(h.units for h in active_homes)
    assert result["customers"]["residential_units_connected"] == \
        sum(h.units for h in active_homes if h.take_up == TakeUp.CONNECTED)
    assert result["customers"]["business_connections"] == sum(c.status == Status.ACTIVE for c in companies)
