"""The CLI end to end against the lab fleet: exit codes, JSON, and no secret anywhere."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli import app
from tests.ssh import lab

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path, lab_engine, address_map):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'[ssh.switches]\npassword = "{lab.PASSWORD}"\n[ssh.slow]\npassword = "{lab.PASSWORD}"\n'
        f'[ssh.wrong-pw]\npassword = "{lab.WRONG_PASSWORD}"\n'
    )
    secrets.chmod(0o600)
    amap = tmp_path / "addresses.json"
    amap.write_text(json.dumps({k: f"{h}:{p}" for k, (h, p) in address_map.items()}))
    return {
        "NETOPS_DB_URL": str(lab_engine.url),
        "NETOPS_SECRETS_FILE": str(secrets),
        "NETOPS_CONFIG_DIR": str(tmp_path / "ws"),
        "ADDR": str(amap),
    }


def invoke(env, *args):
    result = runner.invoke(app, list(args), env={k: v for k, v in env.items() if k != "ADDR"})
    return result, result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_exit_codes_and_json(fleet, cli_env):
    addr = ["--address-map", cli_env["ADDR"]]
    r, _ = invoke(cli_env, "config", "backup", "--device", "pop1-dist", "--device", "s4-sw", "--json", *addr)
    assert r.exit_code == 3  # s4-sw unreachable
    body = json.loads(r.stdout)
    assert {d["device"]: d["status"] for d in body["devices"]} == {"pop1-dist": "ok", "s4-sw": "unreachable"}
    assert body["summary"]["new"] == 1
    r, _ = invoke(cli_env, "config", "diff", "pop1-dist", "--since", "2000-01-01", "--json")
    diff = json.loads(r.stdout)
    assert r.exit_code == 0 and diff["from"] is None and "+hostname pop1-dist" in diff["diff"]
    r, out = invoke(cli_env, "config", "diff", "pop1-dist", "--since", "now")
    assert r.exit_code == 0 and "no changes since now" in out

    r, _ = invoke(cli_env, "config", "audit", "--device", "pop1-dist", *addr)
    assert r.exit_code == 0, r.output
    r, out = invoke(cli_env, "config", "audit", "--device", "s1-sw", *addr)
    assert r.exit_code == 1 and "ios-enable-secret" in out
    r, _ = invoke(cli_env, "config", "audit", "--device", "k1-sw", "--fail-on", "critical", "--from-store")
    assert r.exit_code == 3  # never backed up: no config in the store to audit
    r, _ = invoke(cli_env, "config", "audit", "--device", "pop1-dist", "--from-store", "--fail-on", "info")
    assert r.exit_code == 0

    r, _ = invoke(cli_env, "config", "remediate", "--device", "pop1-dist", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["plans"] == []  # compliant: nothing to do
    r, out = invoke(cli_env, "config", "remediate", "--device", "s1-sw")
    assert r.exit_code == 0 and "no backup yet" in out  # said, not a failed run

    r, _ = invoke(cli_env, "lldp", "verify", "--device", "s1-sw", *addr)
    assert r.exit_code == 0, r.output
    r, out = invoke(cli_env, "lldp", "verify", "--device", "pop1-dist", "--json", *addr)
    assert r.exit_code == 1 and json.loads(r.stdout)["mismatches"] == {"missing": 1, "mispatched": 1, "unexpected": 1}
    r, _ = invoke(cli_env, "lldp", "verify", "--device", "pop1-dist", "--fail-on", "missing", "--fail-on", "mispatched", *addr)
    assert r.exit_code == 1
    r, _ = invoke(cli_env, "config", "audit", "--intended", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["devices"] == []


def test_bad_input_and_configuration_errors(fleet, cli_env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"s1-sw": "127.0.0.1:notaport"}')
    r, out = invoke(cli_env, "config", "backup", "--address-map", str(bad))
    assert r.exit_code == 2 and "row 1: field 's1-sw': value '127.0.0.1:notaport'" in out
    env = {**cli_env, "NETOPS_SECRETS_FILE": str(tmp_path / "none.toml")}
    r, out = invoke(env, "config", "backup", "--device", "s1-sw", "--address-map", cli_env["ADDR"])
    assert r.exit_code == 4 and "NETOPS_SSH_SWITCHES_PASSWORD" in out
    r, out = invoke(cli_env, "config", "diff", "no-such-device")
    assert r.exit_code == 2 and "no backup of device 'no-such-device'" in out


def test_no_planted_secret_reaches_any_artefact(fleet, cli_env, tmp_path):
    """Plant secrets of every kind in device configs, run everything, grep everything."""
    addr = ["--address-map", cli_env["ADDR"]]
    root = logging.getLogger()
    records: list[str] = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: records.append(handler.format(record))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # a user debugging: every library's log, as verbose as it gets
    outputs: list[str] = []
    try:
        devices = ["--device", "pop1-dist", "--device", "s1-sw", "--device", "k1-sw", "--device", "s2-sw"]
        for args in (["config", "backup", *devices], ["config", "backup", "--json", *devices]):
            outputs.append(invoke(cli_env, *args, *addr)[1])
        lab.STATE["s1_extra"] = "snmp-server community PlantedCommunityS1 RW"
        try:
            outputs.append(invoke(cli_env, "config", "backup", "--device", "s1-sw", *addr)[1])
        finally:
            lab.STATE["s1_extra"] = ""
        for args in (["config", "diff", "s1-sw"], ["config", "diff", "s1-sw", "--json"],
                     ["config", "audit", *devices, *addr], ["config", "audit", "--json", *devices, *addr],
                     ["config", "audit", "--from-store", "--json", *devices],
                     ["config", "remediate", *devices], ["config", "remediate", "--json", *devices],
                     ["lldp", "verify", "--json", *devices, *addr]):
            outputs.append(invoke(cli_env, *args)[1])
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    # the installed console script too, in its own process: stdout and stderr
    env = {**os.environ, **cli_env}
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "netops"), "config", "backup",
                           "--device", "s1-sw", "--device", "s2-sw", *addr],
                          capture_output=True, text=True, env=env, timeout=120)
    outputs += [proc.stdout, proc.stderr]

    ws = tmp_path / "ws"
    repo = ws / "repo"
    def git(*args: str) -> str:  # objects are binary (trees): search their bytes as text
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout
        return out.decode("utf-8", "replace")

    artefacts = {
        "git objects": git("cat-file", "--batch-all-objects", "--batch"),
        "git log -p": git("log", "-p", "--all"),
        "logs": "\n".join(records),
        "output": "\n".join(outputs),
    }
    for path in ws.rglob("*"):
        if path.is_file():
            artefacts[str(path)] = path.read_bytes().decode("utf-8", "replace")

    # the runs really happened and really saw the planted lines
    assert re.search(r"\+snmp-server community <secret:hmac-sha256:[0-9a-f]{12}> RW", artefacts["git log -p"])
    assert re.search(r"enable password 7 <secret:hmac-sha256:[0-9a-f]{12}>\n", artefacts[str(repo / "s1-sw.cfg")])
    assert "snmp-server" in artefacts["output"]  # config diff named the section that changed
    assert len(records) > 0 and "s2-sw" in artefacts["output"]
    assert "interface GigabitEthernet1/0/1\n shutdown" in artefacts["output"]  # the remediation ran
    leaks = [(secret, where) for secret in lab.PLANTED + [lab.WRONG_PASSWORD]
             for where, text in artefacts.items() if secret in text]
    assert leaks == []
