"""Day one of a new Kita: the planner adds its switch to the seeded city as a planned
device, and `netops config audit --intended` finds the generated config compliant."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from configs.intended import load_baseline, ports_of, render
from configs.rules import load_rules
from configs.targets import DeviceFilter, select_devices
from netops import db as dbmod

pytestmark = pytest.mark.slow


def test_planned_kita_switch_is_compliant_on_day_one(tmp_path):
    db = ["--db", str(tmp_path / "city.db")]
    runner = CliRunner()
    env = {"NETOPS_CONFIG_DIR": str(tmp_path / "ws")}
    streets = ["--streets", str(tmp_path / "streets.geojson")]
    assert runner.invoke(app, [*db, "inventory", "seed", *streets]).exit_code == 0
    result = runner.invoke(app, [*db, "plan", "connect", "kita-001", *streets, "--json"])
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, [*db, "config", "audit", "--intended", "--json"], env=env)
    assert result.exit_code == 0, result.output
    [device] = json.loads(result.stdout)["devices"]
    assert device["device"].startswith("kita-001") and device["status"] == "ok"
    applicable = [r for r in load_rules() if r.applies_to(device["platform"], device["role"], device["site_kind"])]
    assert len(device["results"]) == len(applicable) >= 30  # the whole access-switch baseline
    assert all(r["status"] == "compliant" for r in device["results"]), \
        [r for r in device["results"] if r["status"] != "compliant"]

    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    with dbmod.session_scope(engine) as session:
        [planned] = select_devices(session, DeviceFilter(sites=("kita-001",), status="planned"))
        ports = ports_of(session, planned.id)
        config = render(planned, ports, load_baseline())
    engine.dispose()
    uplinks = [p for p in ports if p.peer]
    assert uplinks and all(p.peer.startswith("pop-") for p in uplinks)  # its planned fibre to a PoP
    assert f"description uplink to {uplinks[0].peer}" in config


def test_every_switch_of_the_seeded_city_meets_the_baseline_as_generated(tmp_path):
    """The templates against the whole rule set, on every switch the generator makes (both
    platforms, with and without access ports modelled)."""
    from collections import Counter

    from configs.audit import audit_config
    from inventory.seed import generate, seed

    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'city.db'}")
    dbmod.upgrade(engine)
    rules, baseline = load_rules(), load_baseline()
    with dbmod.session_scope(engine) as session:
        seed(session, generate())
    platforms, failures = Counter(), []
    with dbmod.session_scope(engine) as session:
        for device in select_devices(session, DeviceFilter(roles=("access_switch", "distribution_switch"))):
            config = render(device, ports_of(session, device.id), baseline)
            audit = audit_config(device.name, device.platform, device.role, device.site_kind, config, rules)
            platforms[device.platform] += 1
            failures += [(device.name, r.rule_id, r.evidence) for r in audit.failures]
    engine.dispose()
    assert platforms["cisco_ios"] > 100 and platforms["hp_procurve"] > 10
    assert failures == []
