"""Session 12 (ssh-configs): what `config remediate`, the gauges and the address map made of
a bad day in the store, in state.json or in a port.

* `config remediate` listed a backup it could not audit (a FIFO, a directory, a 2 GB file, a
  symlink loop, a config the rules cannot read) as "not audited" and exited 0: a plan that
  misses a device read as a complete one. Now exit 3, as `config audit --from-store` says of
  the same files; a device never backed up stays named with exit 0 (a new switch).
* state.json with more failed devices than devices (or a negative count) gave a negative
  `netops_config_run_devices{result="checked"}`: the record is refused as damaged, one line
  naming the field, as every other damaged value.
* an address map's port 0 was refused only because 0 is falsy.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.test_file_hunt import base_db, db, env, one_error, run  # noqa: F401
from tests.test_file_hunt_regressions import (BAD_STORE_FILES, STATE, _workspace_config,  # noqa: F401
                                              netops_limited)


def test_remediate_over_a_bad_file_in_the_store_is_a_failed_run(db, env, tmp_path):  # noqa: F811
    environ = {**env, "NETOPS_CONFIG_DIR": str(tmp_path / "workspace")}
    run(db, "config", "remediate", "--device", "gk-sch1-as1", env=environ)  # makes the store
    # a backup the rules can read and one they cannot (no hostname line: not a whole IOS config)
    _workspace_config(tmp_path).write_text("hostname gk-sch1-as1\n!\nip http server\nend\n")
    _workspace_config(tmp_path).with_name("gk-kita1-as1.cfg").write_text("interface Gi1/0/1\n shutdown\n")
    for device, (_what, make, _says) in BAD_STORE_FILES.items():
        make(_workspace_config(tmp_path).with_name(f"{device}.cfg"))
    devices = ["gk-sch1-as1", "gk-kita1-as1", "gk-popn-cr1", *BAD_STORE_FILES]
    selected = [arg for d in devices for arg in ("--device", d)]
    try:
        done = netops_limited(db, ["config", "remediate", "--json", *selected], environ)
        table = netops_limited(db, ["config", "remediate", *selected], environ)
    except subprocess.TimeoutExpired:
        pytest.fail("config remediate waited on a file in the store")
    assert done.returncode == 3 and not done.stderr.strip(), (done.returncode, done.stderr[-2000:])
    body = json.loads(done.stdout)
    assert [p["device"] for p in body["plans"]] == ["gk-sch1-as1"]
    assert body["not_in_store"] == ["gk-popn-cr1"]
    errors = {d["device"]: d["error"] for d in body["not_audited"]}
    assert sorted(errors) == sorted(["gk-kita1-as1", *BAD_STORE_FILES])
    assert "no hostname line" in errors["gk-kita1-as1"]
    for device, (what, _make, says) in BAD_STORE_FILES.items():
        # the operator sees that the file is there and why it was not read
        assert f"{device}.cfg: " in errors[device] and says in errors[device], (what, errors[device])
    # the table says the same, one line per device, and fails the same way
    assert table.returncode == 3 and not table.stderr.strip(), (table.returncode, table.stderr[-2000:])
    lines = " ".join(table.stdout.split())
    for device in ("gk-kita1-as1", *BAD_STORE_FILES):
        assert f"{device}: nothing to plan, " in lines, device
    # the same files in `config audit --from-store`: the same devices failed, the same exit code
    audit = netops_limited(db, ["config", "audit", "--from-store", "--json", *selected], environ)
    assert audit.returncode == 3
    statuses = {d["device"]: d["status"] for d in json.loads(audit.stdout)["devices"]}
    assert {d for d, s in statuses.items() if s == "parse_error"} == set(errors)
    assert statuses["gk-popn-cr1"] == "error"


def test_remediate_without_any_backup_is_still_no_failure(db, env, tmp_path):  # noqa: F811
    environ = {**env, "NETOPS_CONFIG_DIR": str(tmp_path / "workspace")}
    result = run(db, "config", "remediate", "--device", "gk-sch1-as1", "--json", env=environ)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"plans": [], "not_in_store": ["gk-sch1-as1"], "not_audited": []}


@pytest.mark.parametrize("counts", [{"devices": 2, "failed_devices": 5}, {"devices": -4, "failed_devices": 0},
                                    {"devices": 4, "failed_devices": 1.5}])
def test_state_json_with_impossible_device_counts_is_damaged_not_negative(counts, tmp_path):
    from prometheus_client import CollectorRegistry, generate_latest

    from configs.metrics import ConfigStateCollector
    from configs.state import Workspace
    from netops.errors import NetopsError

    (tmp_path / "state.json").write_text(json.dumps({**STATE, "audit": {**STATE["audit"], **counts}}))
    with pytest.raises(NetopsError) as refused:
        Workspace(tmp_path).read_state()
    field = "failed_devices" if counts["failed_devices"] != 0 else "devices"
    assert f"audit.{field}" in str(refused.value) and "\n" not in str(refused.value)
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path)))
    metrics = generate_latest(registry).decode()
    assert "netops_config_state_readable 0.0" in metrics
    assert "netops_config_run_devices{" not in metrics  # never a negative count of checked devices


def test_state_json_with_all_devices_failed_is_read(tmp_path):
    from configs.state import Workspace

    (tmp_path / "state.json").write_text(json.dumps({**STATE, "lldp": {**STATE["lldp"], "failed_devices": 4}}))
    assert Workspace(tmp_path).read_state()["lldp"]["failed_devices"] == 4


def test_an_address_map_port_0_is_refused_as_no_port(db, env, tmp_path):  # noqa: F811
    path = tmp_path / "map.json"
    path.write_text('{"gk-sch1-as1": "127.0.0.1:0"}', encoding="utf-8")
    result = run(db, "config", "audit", "--device", "gk-sch1-as1", "--address-map", str(path), env=env)
    assert "expected host:port (a port 1-65535)" in one_error(result, 2, str(path))


@pytest.mark.parametrize("path, value", [(("audit", "rules", "r1", "noncompliant"), -3),
                                         (("audit", "rules", "r1", "compliant"), 2.5),
                                         (("lldp", "mismatches", "missing"), -1)])
def test_state_json_with_a_negative_or_fractional_rule_count_is_damaged(path, value, tmp_path):
    """A noncompliant count of -3 read as "fixed" in the compliance gauge and the alert's
    arithmetic, and 125 % compliance in the report (report-tidy, final review): each count of
    state.json is a whole number, 0 or more, as the devices' counts already were."""
    import copy

    from configs.state import Workspace
    from netops.errors import NetopsError

    state = copy.deepcopy(STATE)
    table = state
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    (tmp_path / "state.json").write_text(json.dumps(state))
    with pytest.raises(NetopsError) as refused:
        Workspace(tmp_path).read_state()
    assert path[-1] in str(refused.value) and "\n" not in str(refused.value)
