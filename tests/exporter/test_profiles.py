"""The exporter's auth profiles: the built-in public_v2 needs no secret even when the
inventory has a row of that name (the seeded city does); a profile whose secret is really
missing is left out with a warning naming it."""

from __future__ import annotations

import logging

from exporters.snmp.profiles import load_profiles
from inventory.models.profiles import SnmpProfile
from netops.db import session_scope
from netops.secrets import SecretStore


def _profiles(engine, caplog, environ: dict[str, str]):
    with session_scope(engine) as session:
        session.add(SnmpProfile(name="public_v2", version="v2c", retries=3))
        session.add(SnmpProfile(name="city_v2", version="v2c"))
    with caplog.at_level(logging.WARNING, logger="netops.exporter"):
        return load_profiles(engine, SecretStore(path=None, environ=environ))


def test_built_in_profile_row_needs_no_secret_others_do(engine, caplog):
    profiles = _profiles(engine, caplog, {})
    assert profiles["public_v2"].community.reveal() == "public"
    assert profiles["public_v2"].retries == 3  # the row's tuning applies
    assert "city_v2" not in profiles
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "city_v2" in warnings[0] and "public_v2" not in warnings[0], warnings


def test_built_in_profile_takes_a_community_from_the_secrets(engine, caplog):
    profiles = _profiles(engine, caplog, {"NETOPS_SNMP_PUBLIC_V2_COMMUNITY": "lab-only",
                                          "NETOPS_SNMP_CITY_V2_COMMUNITY": "c1ty"})
    assert profiles["public_v2"].community.reveal() == "lab-only"
    assert profiles["city_v2"].community.reveal() == "c1ty"
    assert not caplog.records
