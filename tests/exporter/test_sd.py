"""/sd: Prometheus http_sd targets from the inventory (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from exporters.sd import sd_groups
from inventory.models.devices import Device
from inventory.models.sites import Site
from netops.db import session_scope


def small_city(engine, devices=12):
    with session_scope(engine) as session:
        pop = Site(code="POP-BUER", name="PoP Buer", kind="core", district="Buer", source="test")
        school = Site(code="SCH-0001", name="Gesamtschule Berger Feld", kind="school", district="Erle", source="test")
        session.add_all([pop, school])
        session.flush()
        session.add(Device(name="pop-buer-cr1", site_id=pop.id, role="core_router", platform="juniper_junos",
                           mgmt_ip="127.0.0.1", snmp_profile="city_v3", source="test"))
        session.add(Device(name="gone-sw", site_id=school.id, role="access_switch", platform="cisco_ios",
                           mgmt_ip="127.0.0.250", status="decommissioned", source="test"))
        session.add(Device(name="no-ip-ap", site_id=school.id, role="wifi_ap", platform="aruba_os", source="test"))
        for i in range(devices - 1):
            session.add(Device(name=f"sch-0001-sw{i}", site_id=school.id, role="access_switch", platform="cisco_ios",
                               mgmt_ip=f"127.0.1.{i + 1}", source="test"))


def test_one_target_per_active_device_with_labels(engine):
    small_city(engine)
    groups = sd_groups(engine, port=16100)
    assert len(groups) == 12 + 1  # decommissioned devices are left out
    # one without a management address is a target by its name: down (503), not missing
    assert next(g for g in groups if g["labels"]["device"] == "no-ip-ap")["targets"] == ["no-ip-ap:16100"]
    core = next(g for g in groups if g["labels"]["device"] == "pop-buer-cr1")
    assert core == {"targets": ["127.0.0.1:16100"], "labels": {
        "device": "pop-buer-cr1", "site": "POP-BUER", "site_kind": "core", "district": "Buer",
        "role": "core_router", "platform": "juniper_junos",
        "__param_module": "system,interfaces,optics,lldp", "__param_auth": "city_v3"}}
    switch = next(g for g in groups if g["labels"]["device"] == "sch-0001-sw0")
    assert switch["labels"]["__param_auth"] == "public_v2" and switch["labels"]["site_kind"] == "school"


def test_shards_split_the_city_without_overlap(engine):
    small_city(engine, devices=40)
    everything = {g["labels"]["device"] for g in sd_groups(engine)}
    shards = [{g["labels"]["device"] for g in sd_groups(engine, shard=k, shards=3)} for k in range(3)]
    assert set().union(*shards) == everything
    assert sum(map(len, shards)) == len(everything) and all(shards)


def test_bad_shard_is_refused(engine):
    with pytest.raises(ValueError, match="shard 3 of 3"):
        sd_groups(engine, shard=3, shards=3)


def test_seeded_city(engine, city):
    from inventory.seed import seed

    with session_scope(engine) as session:
        seed(session, city)
        expected = {d.name for d in session.exec(select(Device).where(Device.status == "active"))}
    groups = sd_groups(engine, port=161)
    assert {g["labels"]["device"] for g in groups} == expected and len(expected) > 300
    for group in groups:
        labels = group["labels"]
        assert labels["site"] and labels["site_kind"] and labels["role"] and labels["__param_auth"]
    kinds = {g["labels"]["site_kind"] for g in groups}
    assert {"core", "school", "hotspot"} <= kinds
    aps = [g for g in groups if g["labels"]["role"] == "wifi_ap"]
    assert aps and all(g["labels"]["__param_module"] == "system,interfaces,wifi" for g in aps)


def test_audit_gauges_show_the_planted_weaknesses(engine, city):
    from inventory.seed import seed
    from report.collector import InventoryAuditCollector

    with session_scope(engine) as session:
        seed(session, city)
    collector = InventoryAuditCollector(engine)
    collector.wait_for_audits()
    families = {family.name: family for family in collector.collect()}
    paths, spof = families["netops_audit_site_disjoint_paths"], families["netops_audit_single_points_of_failure"]
    logical = {s.labels["site"]: s.value for s in paths.samples if s.labels["layer"] == "logical"}
    assert all(logical[site] == 1 for site in city.manifest["single_homed"])
    assert all(logical[site] == 2 for site in city.manifest["redundant"])
    assert sum(s.value for s in spof.samples) > 0
