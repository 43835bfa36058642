"""What session 10's file hunt found (tests/test_file_fuzz_hunt.py and the paths below),
each a deterministic case that failed before its fix.

- A 2 GB sparse file (all NUL bytes) handed to any reader was read whole into memory before
  it was refused (23 s and 2.1 GB for `inventory import`), and where the process may use
  less memory (a container, ``ulimit -v``) it ended in a ``MemoryError`` traceback. Readers
  now read in blocks and stop at the first NUL byte (netops.textfile.read_text); the
  secrets file goes through the same reader; a stored config is refused by its size.
- A FIFO where the config store keeps a device's file made `config audit --from-store` wait
  forever; a port written with a digit that is no ASCII digit (``²``) in an address map or in
  `exporter serve --listen` ended in a ``ValueError`` traceback.
- state.json values its readers use unchecked (``"compliant": null``: TypeError in `report`).
- An integer of 5,000 digits in the secrets file (TOML) or a YAML file: ValueError tracebacks.
- A --db path with a name too long: exit 2 instead of the database's 4.
- --streets/--polygon read a 2 GB file whole; a plan reference of '²' or thousands of digits
  crashed get_plan (fixed by the lead after the merge).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

from tests.test_file_hunt import ADDRESS_MAP, NETOPS, base_db, db, env, one_error, run  # noqa: F401

#: the address space a child may use: enough for netops, far less than a 2 GB file
MEMORY_LIMIT = 1536 * 2**20
SPARSE = 2 * 2**30


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def netops_limited(db_path: Path, args: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    """`netops ARGS` in a child that may use MEMORY_LIMIT bytes of address space."""
    return subprocess.run([str(NETOPS), "--db", str(db_path), *args], capture_output=True, text=True,
                          env={**os.environ, **environ}, preexec_fn=_limited, timeout=120)


def _workspace_config(tmp: Path) -> Path:
    return tmp / "workspace" / "repo" / "gk-sch1-as1.cfg"


#: reader -> (where the file goes, argv, environment, exit code of the refusal)
SPARSE_READERS = {
    "inventory import (CSV)": (lambda t: t / "sites.csv", lambda p, t: ["inventory", "import", str(p)], {}, 2),
    "inventory import (GeoJSON)": (lambda t: t / "sites.geojson", lambda p, t: ["inventory", "import", str(p)], {}, 2),
    "plan batch --csv": (lambda t: t / "sites.csv", lambda p, t: ["plan", "batch", "--csv", str(p), "--dry-run"],
                         {}, 2),
    "config audit --address-map": (lambda t: t / "map.json", lambda p, t: ["config", "audit", "--device",
                                                                           "gk-sch1-as1", "--address-map", str(p)],
                                   {}, 2),
    "config audit --known-hosts": (lambda t: t / "known_hosts", lambda p, t: ["config", "audit", "--device",
                                                                              "gk-sch1-as1", "--known-hosts", str(p)],
                                   {}, 2),
    "config audit --rules": (lambda t: t / "rules" / "big.yaml", lambda p, t: ["config", "audit", "--from-store",
                                                                               "--rules", str(p.parent)], {}, 2),
    "report --alertmanager-base": (lambda t: t / "am.yml", lambda p, t: [
        "report", "--out", str(t / "r.html"), "--alertmanager-config", str(t / "out.yml"),
        "--alertmanager-base", str(p)], {}, 2),
    "state.json": (lambda t: t / "workspace" / "state.json",
                   lambda p, t: ["report", "--json", "--out", str(t / "r.html")], {}, 2),
    "NETOPS_SECRETS_FILE": (lambda t: t / "secrets.toml", lambda p, t: ["config", "backup", "--device", "gk-sch1-as1"],
                            {"NETOPS_SECRETS_FILE": "FILE"}, 4),
}


@pytest.mark.parametrize("reader", SPARSE_READERS)
def test_a_2_gb_sparse_file_is_refused_in_one_line_without_reading_it_all(reader, db, env, tmp_path):
    where, args, extra, code = SPARSE_READERS[reader]
    path = where(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(SPARSE)
    path.chmod(0o600)
    environ = {**env, "NETOPS_CONFIG_DIR": str(tmp_path / "workspace")}
    environ |= {name: str(path) if value == "FILE" else value for name, value in extra.items()}
    done = netops_limited(db, args(path, tmp_path), environ)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == code and len(lines) == 1 and lines[0].startswith("error: "), \
        (done.returncode, done.stderr[-2000:])
    assert str(path) in lines[0], lines[0]


@pytest.mark.parametrize("option", ["--streets", "--polygon"])
def test_a_2_gb_sparse_planning_file_is_refused_in_one_line(option, db, env, tmp_path):
    path = tmp_path / "big.geojson"
    with path.open("wb") as handle:
        handle.truncate(SPARSE)
    args = (["plan", "connect", "KITA-2", "--dry-run", "--streets", str(path)] if option == "--streets"
            else ["plan", "area", "--polygon", str(path), "--dry-run"])
    done = netops_limited(db, args, env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and str(path) in lines[0], (done.returncode, done.stderr[-2000:])


@pytest.mark.parametrize("reader", ["streets", "polygon"])
def test_a_planning_file_too_large_for_the_memory_is_one_problem_naming_it(reader, monkeypatch, tmp_path):
    """A text file (no NUL byte: read whole) whose parse runs out of memory: one problem
    naming the file, not a MemoryError traceback. (Running a child out of memory on a
    text file takes gigabytes on disk: the parser's failure is planted instead.)"""
    import json

    from netops.errors import InputError
    from planning.access import read_polygon
    from planning.network import load_street_network

    path = tmp_path / "big.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(json, "loads", out_of_memory)
    with pytest.raises(InputError) as refused:
        (load_street_network if reader == "streets" else read_polygon)(path)
    assert str(path) in str(refused.value) and "too large" in str(refused.value)


#: a file in the store that is no config, as another tool (or a mistake) leaves it, per device
BAD_STORE_FILES = {
    "gk-popn-ds1": ("a FIFO", lambda path: os.mkfifo(path), "not a regular file"),
    "gk-pops-ds1": ("a 2 GB sparse file", lambda path: os.truncate(path.touch() or path, SPARSE),
                    "larger than any device config"),
    "gk-clinic1-as1": ("a directory", lambda path: path.mkdir(), "not a regular file"),
    # unreadable even for root: a symlink to itself
    "gk-bp1-as1": ("a symlink loop", lambda path: path.symlink_to(path.name), "cannot read: Too many levels"),
}


def test_a_bad_file_in_the_config_store_fails_that_device_not_the_audit(db, env, tmp_path):
    """A FIFO made `config audit --from-store` wait forever; refused since session 10, but
    with exit 2 for the whole run: one bad file and no device was audited (the gauges kept
    the last run's figures). Now that device fails (parse_error naming its file, counted in
    netops_config_run_devices failed), the others are audited, exit 3. In a child with a
    timeout and a memory limit: the FIFO is never opened, the sparse file never read."""
    from configs.metrics import ConfigStateCollector
    from configs.state import Workspace
    from prometheus_client import CollectorRegistry, generate_latest

    environ = {**env, "NETOPS_CONFIG_DIR": str(tmp_path / "workspace")}
    devices = ["gk-sch1-as1", *BAD_STORE_FILES]
    assert run(db, "config", "audit", "--from-store", "--device", "gk-sch1-as1", env=environ).exit_code == 3
    _workspace_config(tmp_path).write_text("hostname gk-sch1-as1\n!\ninterface Gi1/0/1\n shutdown\n!\nend\n")
    for device, (_what, make, _says) in BAD_STORE_FILES.items():
        make(_workspace_config(tmp_path).with_name(f"{device}.cfg"))
    try:
        done = netops_limited(db, ["config", "audit", "--from-store", "--json",
                                   *(arg for d in devices for arg in ("--device", d))], environ)
    except subprocess.TimeoutExpired:
        pytest.fail("config audit --from-store waited on a file in the store")
    assert done.returncode == 3 and not done.stderr.strip(), (done.returncode, done.stderr[-2000:])
    by_device = {d["device"]: d for d in json.loads(done.stdout)["devices"]}
    assert by_device["gk-sch1-as1"]["status"] == "ok" and by_device["gk-sch1-as1"]["results"], by_device["gk-sch1-as1"]
    for device, (what, _make, says) in BAD_STORE_FILES.items():
        error = by_device[device]["error"] or ""
        assert by_device[device]["status"] == "parse_error", (what, by_device[device])
        assert error.startswith(f"backup not audited: {_workspace_config(tmp_path).with_name(device + '.cfg')}: ") \
            and says in error and "\n" not in error, (what, error)
    registry = CollectorRegistry()
    registry.register(ConfigStateCollector(Workspace(tmp_path / "workspace")))
    metrics = generate_latest(registry).decode()
    assert 'netops_config_run_devices{result="checked",run="audit"} 1.0' in metrics
    assert 'netops_config_run_devices{result="failed",run="audit"} 4.0' in metrics


@pytest.mark.parametrize("port", ["²", "٣", "99999", "9" * 5_000])
def test_an_address_map_port_that_is_no_port_is_one_line(port, db, env, tmp_path):
    path = tmp_path / "map.json"
    path.write_text('{"gk-sch1-as1": "127.0.0.1:%s"}' % port, encoding="utf-8")
    result = run(db, "config", "audit", "--device", "gk-sch1-as1", "--address-map", str(path), env=env)
    assert "expected host:port" in one_error(result, 2, str(path))


@pytest.mark.parametrize("port", ["²", "99999", "9" * 5_000, ""])
def test_a_listen_port_that_is_no_port_is_one_line(port, db, env):
    result = run(db, "exporter", "serve", "--listen", f"127.0.0.1:{port}", env=env)
    assert "expected HOST:PORT" in one_error(result, 2, "--listen")


@pytest.mark.parametrize("ref", ["²", "9" * 5_000, "9" * 23])
@pytest.mark.parametrize("verb", ["show", "discard", "apply"])
def test_a_plan_reference_that_is_no_id_is_one_line(ref, verb, db, env):
    result = run(db, "plan", verb, ref, env=env)
    one_error(result, 2, "")


#: a record of `netops config` runs (state.json) damaged in one value its readers use
STATE = {"backup": {"devices": {"gk-sch1-as1": {"last_success": 1.7e9, "last_attempt": 1.7e9, "status": "ok"}},
                    "last_run": 1.7e9},
         "audit": {"rules": {"r1": {"severity": "critical", "title": "t", "compliant": 3, "noncompliant": 1}},
                   "devices": 4, "failed_devices": 0, "last_run": 1.7e9},
         "lldp": {"mismatches": {"missing": 1}, "devices": 4, "failed_devices": 0, "last_run": 1.7e9}}
STATE_DAMAGES = {  # (run, table or None, row or None, field) -> a value that is not what the runs write
    "compliant null": (("audit", "rules", "r1", "compliant"), None),
    "severity missing": (("audit", "rules", "r1", "severity"), ...),
    "last_success text": (("backup", "devices", "gk-sch1-as1", "last_success"), "yesterday"),
    "status a number": (("backup", "devices", "gk-sch1-as1", "status"), 7),
    "a mismatch count text": (("lldp", "mismatches", "missing"), "one"),
    "last_run NaN": (("lldp", "last_run"), float("nan")),
    "devices true": (("audit", "devices"), True),
}


def _damaged_state(damage: str) -> dict:
    import copy

    state = copy.deepcopy(STATE)
    path, value = STATE_DAMAGES[damage]
    parent = state
    for step in path[:-1]:
        parent = parent[step]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return state


@pytest.mark.parametrize("damage", STATE_DAMAGES)
def test_a_damaged_value_in_state_json_is_one_line_naming_it(damage, db, env, tmp_path):
    """`netops report` summed ``"compliant": null`` (TypeError) and the exporter's collector
    looked up a missing ``severity`` (KeyError at scrape time): the loader now checks every
    value its readers use."""
    import json

    from configs.metrics import ConfigStateCollector
    from configs.state import Workspace

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    state = workspace / "state.json"
    state.write_text(json.dumps(_damaged_state(damage)))
    result = run(db, "report", "--json", "--out", str(tmp_path / "r.html"),
                 env={**env, "NETOPS_CONFIG_DIR": str(workspace)})
    field = ".".join(STATE_DAMAGES[damage][0])
    assert f"field '{field}'" in one_error(result, 2, str(state))
    families = {f.name: f for f in ConfigStateCollector(Workspace(workspace)).collect()}
    assert list(families) == ["netops_config_state_readable"]
    assert families["netops_config_state_readable"].samples[0].value == 0.0


def test_an_undamaged_state_json_is_read():
    import json

    from configs.state import _shape_problems

    assert list(_shape_problems(json.loads(json.dumps(STATE)))) == []


#: more digits than int() reads (4,300): TOML and YAML parsers raise ValueError, not their own error
DIGITS = "9" * 5_000
RULE = ("rules:\n  - id: hunt-rule\n    title: t\n    severity: info\n    platforms: [cisco_ios]\n"
        "    reference: {reference}\n    check:\n      require: ['^hostname']\n")


@pytest.mark.parametrize("reader", ["NETOPS_SECRETS_FILE", "config audit --rules", "report --alertmanager-base"])
def test_an_integer_of_5000_digits_in_a_config_file_is_one_line(reader, db, env, tmp_path):
    """Found by the file fuzz (a 200 KB field of 9s in the secrets file): ValueError tracebacks."""
    from tests.test_file_hunt import ROOT

    environ = dict(env)
    if reader == "NETOPS_SECRETS_FILE":
        path = tmp_path / "secrets.toml"
        path.write_text(f"[snmp.city_v3]\nauth_key = {DIGITS}\n")
        path.chmod(0o600)
        environ[reader] = str(path)
        args, code = ["config", "backup", "--device", "gk-sch1-as1"], 4
    elif reader == "config audit --rules":
        path = tmp_path / "rules" / "r.yaml"
        path.parent.mkdir()
        path.write_text(RULE.format(reference=DIGITS))
        args, code = ["config", "audit", "--from-store", "--rules", str(path.parent)], 2
    else:
        path = tmp_path / "am.yml"
        path.write_text((ROOT / "deploy/alertmanager/alertmanager.yml").read_text() + f"\nx: {DIGITS}\n")
        args, code = ["report", "--out", str(tmp_path / "r.html"), "--alertmanager-config", str(tmp_path / "o.yml"),
                      "--alertmanager-base", str(path)], 2
    assert "4300 digits" in one_error(run(db, *args, env=environ), code, str(path))


@pytest.mark.parametrize("args", [["inventory", "stats"], ["inventory", "list", "--kind", "site"], ["db", "upgrade"]],
                         ids=["stats (driver)", "list (SQLAlchemy)", "db upgrade"])
def test_a_database_path_too_long_is_a_configuration_error(args, env, tmp_path):
    """ENAMETOOLONG (a component over 255 bytes) went past the database's own checks to the
    generic OSError line: exit 2 instead of the database's 4 (README "Exit codes")."""
    path = tmp_path / ("a" * 300) / "netops.db"
    assert "File name too long" in one_error(run(path, *args, env=env), 4, str(path))


def test_a_directory_where_a_backup_goes_is_named_as_the_user_has_it(tmp_path):
    """A directory at sw1.cfg: the error named `sw1.tmp`, a path the user never made."""
    from configs.store import GitConfigStore
    from netops.errors import NetopsError

    store = GitConfigStore(tmp_path / "repo").ensure()
    (tmp_path / "repo" / "sw1.cfg").mkdir()
    with pytest.raises(NetopsError) as refused:
        store.write("sw1", "hostname sw1\n")
    assert str(refused.value).startswith(f"{tmp_path / 'repo' / 'sw1.cfg'}: cannot write the backup of 'sw1': ")
    assert ".tmp" not in str(refused.value) and not (tmp_path / "repo" / "sw1.tmp").exists()
