"""Agents netops did not configure, side by side with prometheus-snmp-exporter.

Each scrape of netops' poller is compared with Debian's prometheus-snmp-exporter
scraping the same agent with a module that walks the same columns: where snmp_exporter
is right, netops must say the same; where they deliberately differ, docs/metrics.md
says so and the test holds both to it. The agents are real net-snmp snmpd:

- one whose IF-MIB is served by a ``pass_persist`` script from a file
  (tests/exporter/pass_table.py; snmpd's own interface tables left out), changed between
  scrapes as foreign firmware does: ifIndex renumbered, one interface gone and one new
  without ifNumber moving, no ifTableLastChange or one stuck at 0, ifAlias octets that are
  no text;
- agents whose view hides part of the MIB (only system, no IF-MIB, no ifXTable, nothing);
- the shared test agent behind a proxy that delays its answers past the timeout, falls
  silent mid-walk, or sends them back from another port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from exporters.snmp.client import AuthProfile
from exporters.snmp.modules import MODULES
from exporters.snmp.poller import Poller
from exporters.server import down_reason
from netops.secrets import Secret
from tests.exporter.conftest import module_status, samples, test_profiles
from tests.support import snmpd
from tests.support.procs import find_binary, free_port, stop_pid, wait_for_tcp
from tests.support.udp_fault_proxy import FaultProxy

IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_TABLE_LAST_CHANGE = "1.3.6.1.2.1.31.1.5.0"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"

VIEWED = "viewed"  # the community of the view tests (snmpd.start's own communities see everything)


IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"


def peer_modules(suffix: str, community: str, label: str = "ifName", label_oid: str = IF_NAME) -> str:
    """snmp_exporter modules ``if{suffix}`` (ifHCInOctets by ifIndex, ``label`` looked up) and
    ``system{suffix}`` (sysUpTime)."""
    return f"""
if{suffix}:
  version: 2
  timeout: 400ms
  retries: 1
  auth: {{community: {community}}}
  walk: [{IF_HC_IN_OCTETS}, {label_oid}]
  metrics:
  - name: ifHCInOctets
    oid: {IF_HC_IN_OCTETS}
    type: counter
    indexes: [{{labelname: ifIndex, type: gauge}}]
    lookups: [{{labels: [ifIndex], labelname: {label}, oid: {label_oid}, type: DisplayString}}]
system{suffix}:
  version: 2
  timeout: 400ms
  retries: 1
  auth: {{community: {community}}}
  walk: [1.3.6.1.2.1.1.3]
  metrics:
  - {{name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge}}
"""


#: ENTITY-SENSOR-MIB's readings as snmp_exporter's generator makes them: raw, by entPhysicalIndex
PEER_OPTICS = """
optics_foreign:
  version: 2
  timeout: 400ms
  retries: 1
  auth: {community: public}
  walk: [1.3.6.1.2.1.99.1.1.1]
  metrics:
""" + "".join(f"""  - name: {name}
    oid: 1.3.6.1.2.1.99.1.1.1.{column}
    type: gauge
    indexes: [{{labelname: entPhysicalIndex, type: gauge}}]
""" for column, name in ((2, "entPhySensorScale"), (3, "entPhySensorPrecision"), (4, "entPhySensorValue")))

SNMP_EXPORTER_CONFIG = "".join((peer_modules("_foreign", "public"), peer_modules("_city", snmpd.COMMUNITY),
                                peer_modules("_viewed", VIEWED), peer_modules("_alias", "public", "ifAlias", IF_ALIAS),
                                PEER_OPTICS))


@dataclass
class ForeignAgent:
    agent: snmpd.Snmpd
    rows_file: Path

    def serve(self, rows: dict[str, list[str]]) -> None:
        tmp = self.rows_file.with_suffix(".new")
        tmp.write_text(json.dumps(rows))
        tmp.replace(self.rows_file)  # the script reads it on every request: never half written


def interface_rows(names: dict[int, str], last_change: int | None) -> dict[str, list[str]]:
    """ifNumber, ifIndex, ifDescr, ifName and ifHCInOctets (1000 x the name's digit) per interface."""
    rows = {IF_NUMBER: ["integer", str(len(names))]}
    if last_change is not None:
        rows[IF_TABLE_LAST_CHANGE] = ["timeticks", str(last_change)]
    for index, name in names.items():
        rows[f"1.3.6.1.2.1.2.2.1.1.{index}"] = ["integer", str(index)]
        rows[f"1.3.6.1.2.1.2.2.1.2.{index}"] = ["string", name]
        rows[f"1.3.6.1.2.1.2.2.1.8.{index}"] = ["integer", "1"]
        rows[f"{IF_NAME}.{index}"] = ["string", name]
        rows[f"{IF_HC_IN_OCTETS}.{index}"] = ["counter64", str(1000 * int(name[-1]))]
    return rows


def start_foreign_agent(tmp: Path, rows: dict[str, list[str]],
                        subtrees=(".1.3.6.1.2.1.2", ".1.3.6.1.2.1.31"), port: int | None = None) -> ForeignAgent:
    """snmpd on a free loopback port (or ``port``: the same agent started again), its IF-MIB
    (and any other ``subtrees``) served from ``tmp/rows.json`` by pass_table.py."""
    tmp.mkdir(parents=True, exist_ok=True)
    rows_file = tmp / "rows.json"
    rows_file.write_text(json.dumps(rows))
    script = f"{sys.executable} {Path(__file__).with_name('pass_table.py')} {rows_file}"
    port = port or snmpd.free_udp_port()
    (tmp / "snmpd.conf").write_text(
        "rocommunity public 127.0.0.0/8\n" + "".join(f"pass_persist {subtree} {script}\n" for subtree in subtrees))
    proc = subprocess.Popen(
        [find_binary("snmpd", "/usr/sbin/snmpd"), "-f", "-C", "-c", str(tmp / "snmpd.conf"), "-Lf", str(tmp / "log"),
         # snmpd's own IF-MIB left out: the script's tables are the agent's
         "-I", "-smux,mteTrigger,mteTriggerConf,ifTable,ifXTable,interfaces", f"udp:127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp)))
    agent = snmpd.Snmpd(port, proc, tmp)
    deadline = time.monotonic() + 20
    while not agent_walk(agent, IF_NUMBER.removesuffix(".0"), "public"):
        if time.monotonic() > deadline or proc.poll() is not None:
            agent.stop()
            raise RuntimeError(f"the pass_persist agent did not come up: {(tmp / 'log').read_text()[-1000:]}")
        time.sleep(0.2)
    return ForeignAgent(agent, rows_file)


@pytest.fixture(scope="module")
def foreign_agent(tmp_path_factory):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    foreign = start_foreign_agent(tmp_path_factory.mktemp("foreign"), interface_rows({1: "eth1"}, None))
    yield foreign
    foreign.agent.stop()


def agent_walk(agent: snmpd.Snmpd, oid: str, community: str) -> dict[str, str]:
    """net-snmp's snmpbulkwalk, {index: value} (empty when the agent does not answer)."""
    out = subprocess.run(["snmpbulkwalk", "-v2c", "-c", community, "-t", "1", "-r", "0", "-On", "-Oq",
                          agent.target, oid], capture_output=True, text=True, timeout=30).stdout
    return {line.split()[0].rsplit(".", 1)[1]: line.split(maxsplit=1)[1].strip('"')
            for line in out.splitlines() if line.startswith(f".{oid}.")}


@pytest.fixture(scope="module")
def snmp_exporter(tmp_path_factory):
    """Debian's prometheus-snmp-exporter on a free loopback port: its base URL."""
    binary = find_binary("prometheus-snmp-exporter")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus-snmp-exporter missing in CI (debian-packages.txt)")
        pytest.skip("prometheus-snmp-exporter not installed")
    tmp = tmp_path_factory.mktemp("snmp_exporter")
    (tmp / "snmp.yml").write_text(SNMP_EXPORTER_CONFIG)
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp / 'snmp.yml'}", f"--web.listen-address=127.0.0.1:{port}",
                             "--log.level=error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_tcp(port, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_pid(proc)


def peer_scrape(base: str, target: str, module: str) -> tuple[int, dict[str, list]]:
    try:
        with urllib.request.urlopen(f"{base}/snmp?target={target}&module={module}", timeout=30) as response:
            return response.status, samples(response.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def in_octets_by_name(parsed: dict[str, list], metric: str, label: str) -> dict[str, float]:
    return {s.labels[label]: s.value for s in parsed.get(metric, [])}


# -- ifIndex renumbered, interfaces gone and new, between two scrapes --------------------
@pytest.mark.parametrize(("last_change", "steps"), [
    # no ifTableLastChange: nothing but ifNumber tells the table changed
    (None, [{1: "eth1", 2: "eth2"}, {1: "eth2", 2: "eth1"}, {1: "eth2", 3: "eth3"}, {1: "eth2", 3: "eth3"}]),
    # an ifTableLastChange that never moves (firmware bug): a new ifIndex still shows it
    (0, [{1: "eth1", 2: "eth2"}, {1: "eth2", 3: "eth3"}, {4: "eth4", 3: "eth3"}]),
], ids=["no_last_change", "last_change_stuck"])
def test_renumbered_interfaces_are_named_as_snmp_exporter_names_them(foreign_agent, snmp_exporter, last_change, steps):
    peer = snmp_exporter
    target = foreign_agent.agent.target

    async def scrapes():
        poller = Poller(test_profiles())
        await poller.start()
        try:
            for names in steps:
                foreign_agent.serve(interface_rows(names, last_change))
                ours = samples(await poller.scrape(target, ["interfaces"], "public_v2"))
                status, theirs = peer_scrape(peer, target, "if_foreign")
                expected = {name: 1000 * int(name[-1]) for name in names.values()}
                assert status == 200
                assert in_octets_by_name(theirs, "ifHCInOctets_total", "ifName") == expected
                assert in_octets_by_name(ours, "if_in_bytes_total", "if_name") == expected, names
                assert {s.labels["if_name"]: s.labels["if_index"] for s in ours["if_info"]} == \
                    {name: str(index) for index, name in names.items()}
        finally:
            poller.close()

    asyncio.run(scrapes())


# -- an agent slower than the timeout ------------------------------------------------------
@pytest.mark.parametrize(("delay_s", "answered"), [(0.6, True), (1.0, False)])
def test_a_late_answer_to_an_earlier_try_counts_as_snmp_exporter_counts_it(agent, snmp_exporter, delay_s, answered):
    """The agent answers every request late; the timeout is 0.4 s with one retry. 0.6 s
    late, the answer to the first try arrives while the second waits: gosnmp (under
    snmp_exporter) takes an answer to any try of a request, and so does netops. 1.0 s
    late, every try has timed out: both read the target down."""
    with FaultProxy(agent.port, "forward", delay_s=delay_s) as proxy:
        status, theirs = peer_scrape(snmp_exporter, proxy.target, "system_city")
    with FaultProxy(agent.port, "forward", delay_s=delay_s) as proxy:
        ours = scrape_once(proxy.target, ["system"], snmpd.COMMUNITY, timeout_s=0.4, retries=1)
    if answered:
        assert status == 200 and theirs["sysUpTime"][0].value > 0
        assert module_status(ours) == {"system": (1, "")}
        assert samples(ours)["sys_uptime_seconds"][0].value > 0
    else:
        assert status == 500
        assert module_status(ours) == {"system": (0, "timeout")}


# -- agents whose view shows only part of the MIB ------------------------------------------
VIEWS = {
    "system_only": "view v included .1.3.6.1.2.1.1\n",
    "interfaces_only": "view v included .1.3.6.1.2.1.2\nview v included .1.3.6.1.2.1.31\n",
    "no_ifxtable": "view v included .1.3.6.1.2.1.1\nview v included .1.3.6.1.2.1.2\n",
    "nothing": "view v included .1.3.6.1.6.3.999\n",
}


@pytest.mark.parametrize("view", VIEWS)
def test_an_agent_that_shows_part_of_the_mib_reads_as_what_it_shows(snmp_exporter, view, tmp_path):
    """The agent answers, with what its view holds: netops makes up no sample the agent
    did not give (no sys_info without sysName and sysObjectID) and names the same
    interfaces as snmp_exporter; the device is up (200) for both."""
    agent = snmpd.start(tmp_path, VIEWS[view] + f"rocommunity {VIEWED} 127.0.0.0/8 -V v\n")
    try:
        status, theirs = peer_scrape(snmp_exporter, agent.target, "if_viewed")
        system_status, system = peer_scrape(snmp_exporter, agent.target, "system_viewed")
        ours = samples(scrape_once(agent.target, ["system", "interfaces"], VIEWED))
    finally:
        agent.stop()
    assert (status, system_status) == (200, 200)
    assert module_status_of(ours) == {"system": 1, "interfaces": 1}
    assert ("sys_info" in ours) == ("sys_uptime_seconds" in ours) == ("sysUpTime" in system)
    assert sorted(in_octets_by_name(ours, "if_in_bytes_total", "if_name")) == \
        sorted(in_octets_by_name(theirs, "ifHCInOctets_total", "ifName"))
    # without ifXTable, ifDescr names what ifTable has (errors, statuses); bytes need ifXTable
    assert bool(ours.get("if_oper_status")) == (view in ("interfaces_only", "no_ifxtable"))


def scrape_once(target: str, modules: list[str], community: str = "public", **tuning) -> str:
    poller = Poller({"p": AuthProfile("p", community=Secret(community), **tuning)})

    async def one():
        await poller.start()
        try:
            return await poller.scrape(target, modules, "p")
        finally:
            poller.close()

    return asyncio.run(one())


def module_status_of(parsed: dict[str, list]) -> dict[str, float]:
    return {s.labels["module"]: s.value for s in parsed["netops_snmp_module_up"]}


# -- an agent that falls silent mid-walk ---------------------------------------------------
@pytest.mark.parametrize("auth", ["city_v2", "city_v3"])
def test_an_agent_silent_mid_walk_costs_one_timeout_and_one_log_line(agent, snmp_exporter, auth, caplog):
    """The agent answers the first requests (v3: engine discovery and the base GET), then
    nothing. snmp_exporter stops at the first failed walk (500); netops answers what the
    base GET gave (docs/metrics.md: 200, the modules down with reason ``timeout``, not a
    privacy key for an SNMPv3 agent that has answered with it), waits out one timeout, not
    one per module, logs one line without secrets, and serves the next scrape."""
    with FaultProxy(agent.port, "stop_after", answer_first=1) as proxy:
        status, _ = peer_scrape(snmp_exporter, proxy.target, "if_city")
    assert status == 500
    poller = Poller(test_profiles(timeout_s=0.4, retries=1))
    modules = ["system", "interfaces", "lldp", "optics", "wifi"]

    async def scrapes():
        await poller.start()
        try:
            with FaultProxy(agent.port, "stop_after", answer_first=2 if auth == "city_v3" else 1) as proxy:
                started = time.monotonic()
                silent = await poller.scrape(proxy.target, modules, auth)
                took = time.monotonic() - started
            return silent, took, await poller.scrape(agent.target, ["interfaces"], auth)
        finally:
            poller.close()

    with caplog.at_level(logging.INFO, logger="netops.exporter"):
        silent, took, healthy = asyncio.run(scrapes())
    assert module_status(silent) == {"system": (1, ""), **{name: (0, "timeout") for name in modules[1:]}}
    assert took < 1.6  # one module's two tries of 0.4 s, not four modules' worth
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    assert not any(secret in caplog.text for secret in (snmpd.COMMUNITY, snmpd.V3_AUTH_KEY, snmpd.V3_PRIV_KEY))
    assert module_status(healthy) == {"interfaces": (1, "")}


# -- ifAlias that is no text ---------------------------------------------------------------
def test_an_alias_that_is_no_text_is_hex_and_never_fails_the_scrape(foreign_agent, snmp_exporter):
    """ifAlias octets as operators and firmware leave them: invalid UTF-8, NUL-terminated,
    255 octets (the MIB says 64), quotes, backslashes, a line break. snmp_exporter 0.21
    fails the whole scrape on a label that is not UTF-8 (500); netops shows octets that
    are no printable text as hex and keeps the rest."""
    aliases = {1: b"kita\x00\xff", 2: b"kita\x00", 3: b"A" * 255, 4: b'"\\{uplink}', 5: b"line\nbreak"}
    rows = interface_rows({index: f"eth{index}" for index in aliases}, 0)
    rows.update({f"{IF_ALIAS}.{index}": ["octet", raw.hex(" ")] for index, raw in aliases.items()})
    foreign_agent.serve(rows)
    status, _ = peer_scrape(snmp_exporter, foreign_agent.agent.target, "if_alias")
    ours = samples(scrape_once(foreign_agent.agent.target, ["interfaces"]))
    assert status == 500
    assert {s.labels["if_name"]: s.labels["if_alias"] for s in ours["if_info"]} == {
        "eth1": "6b:69:74:61:00:ff", "eth2": "kita", "eth3": "A" * 255, "eth4": '"\\{uplink}',
        "eth5": "6c:69:6e:65:0a:62:72:65:61:6b"}
    assert in_octets_by_name(ours, "if_in_bytes_total", "if_name") == {f"eth{i}": 1000 * i for i in aliases}


# -- an agent that answers from another port -----------------------------------------------
def test_an_answer_from_another_port_is_not_taken_as_snmp_exporter_does_not(agent, snmp_exporter):
    """Both keep to the address and port they asked (connected UDP sockets: anything else
    could be a spoofed answer): the target reads down, reason timeout, for both."""
    with FaultProxy(agent.port, other_port=True) as relay:
        status, _ = peer_scrape(snmp_exporter, relay.target, "system_city")
        ours = scrape_once(relay.target, ["system"], snmpd.COMMUNITY, timeout_s=0.4, retries=1)
    assert relay.answers >= 4  # the agent did answer both, twice each
    assert status == 500
    assert module_status(ours) == {"system": (0, "timeout")}


# -- a table at the walk guard -------------------------------------------------------------
def test_a_table_that_fits_the_guard_warm_also_fits_it_cold(agent):
    """A guard that just holds the interfaces' 15 columns: the first (cold) scrape walks
    the 4 label columns along and must not fail the guard on their account (a failed walk
    is never cached: the device would read table_too_large on every scrape); one row
    fewer and the warm walk is cut off."""
    rows = len(agent.bulkwalk("1.3.6.1.2.1.2.2.1.1"))  # ifIndex: one row per interface
    guard = len(MODULES["interfaces"].columns) * rows

    async def scrapes(limit: int):
        poller = Poller(test_profiles(max_varbinds_per_walk=limit))
        await poller.start()
        try:
            return [module_status(await poller.scrape(agent.target, ["interfaces"], "city_v2")) for _ in range(2)]
        finally:
            poller.close()

    assert asyncio.run(scrapes(guard)) == [{"interfaces": (1, "")}] * 2
    assert asyncio.run(scrapes(guard - 1)) == [{"interfaces": (0, "table_too_large")}] * 2


# -- an agent killed mid-walk --------------------------------------------------------------
def test_an_agent_killed_mid_walk_is_half_then_down(snmp_exporter, tmp_path):
    """snmpd dies (SIGKILL) while it answers the interfaces walk, at a known row: the
    base GET had answered, so netops answers 200 with the modules down, reason
    ``unreachable`` (the kernel's port-unreachable on the retry), as docs/metrics.md
    promises (NetopsModuleDown alerts on it); the next scrape is a dead target (every
    module unreachable: the 503). snmp_exporter fails the scrape (500)."""
    rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3"}, 0)
    rows[f"{IF_HC_IN_OCTETS}.2"] = ["kill", "0"]
    peer = start_foreign_agent(tmp_path / "peer", rows)
    try:
        status, _ = peer_scrape(snmp_exporter, peer.agent.target, "if_foreign")
    finally:
        peer.agent.stop()
    ours = start_foreign_agent(tmp_path / "ours", rows)
    poller = Poller(test_profiles(timeout_s=0.4, retries=1))

    async def scrapes():
        await poller.start()
        try:
            return [await poller.scrape_result(ours.agent.target, ["system", "interfaces", "lldp"], "public_v2")
                    for _ in range(2)]
        finally:
            poller.close()

    try:
        half, dead = asyncio.run(scrapes())
    finally:
        ours.agent.stop()
    assert status == 500
    assert ours.agent.proc.returncode == -signal.SIGKILL
    # unreachable from the kernel's ICMP answer (a timeout should the host rate-limit it)
    reason = module_status(half.body)["interfaces"][1]
    assert reason in ("unreachable", "timeout")
    assert module_status(half.body) == {"system": (1, ""), "interfaces": (0, reason), "lldp": (0, reason)}
    assert down_reason(half.modules) is None  # 200: the device answered this scrape's base GET
    assert down_reason(dead.modules) in ("unreachable", "timeout")  # 503: down
