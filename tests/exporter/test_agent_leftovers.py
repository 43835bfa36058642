"""What session 7's SNMP hunt left, against real net-snmp agents whose tables come from
``pass_persist`` scripts (tests/exporter/pass_table.py), changed between scrapes:

- a walk that loops back over more than one row under a tolerant profile
  (``--tolerate-nonincreasing``) is a loop, said as such (``oid_loop``), not a table
  grown past the walk guard (``table_too_large``) after 200,000 varbinds;
- optics labels follow a transceiver replaced or renumbered on an agent without
  entLastChangeTime, as interface names follow a renumbered ifIndex.
"""

from __future__ import annotations

import asyncio

import pytest

from exporters.server import down_reason
from exporters.snmp.poller import Poller
from tests.exporter.conftest import module_status, samples, test_profiles
from tests.exporter.test_foreign_agents import IF_HC_IN_OCTETS, interface_rows, start_foreign_agent
from tests.support import snmpd
from tests.support.udp_fault_proxy import FaultProxy


@pytest.fixture(scope="module")
def pass_agent(tmp_path_factory):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    foreign = start_foreign_agent(tmp_path_factory.mktemp("leftovers"), interface_rows({1: "eth1"}, 0))
    yield foreign
    foreign.agent.stop()


def scrapes(target: str, modules: list[str], times: int = 1, **tuning):
    poller = Poller(test_profiles(timeout_s=0.5, retries=1, **tuning))

    async def run():
        await poller.start()
        try:
            return [await poller.scrape_result(target, modules, "public_v2", 5.0) for _ in range(times)]
        finally:
            poller.close()

    return asyncio.run(run())


# -- a walk that loops back ----------------------------------------------------------------
@pytest.mark.parametrize("back_to", [1, 2], ids=["three_row_cycle", "two_row_cycle"])
def test_a_loop_under_a_tolerant_profile_is_a_loop(pass_agent, back_to):
    """ifHCInOctets .1 .2 .3 .4, where the agent's next after .3 is .{back_to} again: a cycle
    over 2-3 rows. A strict profile says ``oid_not_increasing`` (as snmpbulkwalk says "OID
    not increasing"); a tolerant one walked on until the guard and said
    ``table_too_large``. Both must say the module is down with what happened, keep the
    rows before the loop once each, and leave the device up (it answered)."""
    rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3", 4: "eth4"}, 0)
    rows[f"{IF_HC_IN_OCTETS}.4"] = ["back", f"{IF_HC_IN_OCTETS}.{back_to}"]
    pass_agent.serve(rows)
    for tolerant, reason in ((False, "oid_not_increasing"), (True, "oid_loop")):
        (result,) = scrapes(pass_agent.agent.target, ["system", "interfaces"], allow_nonincreasing=tolerant)
        assert module_status(result.body) == {"system": (1, ""), "interfaces": (0, reason)}, tolerant
        assert down_reason(result.modules) is None  # 200: the agent answered
        got = [(s.labels["if_name"], s.value) for s in samples(result.body).get("if_in_bytes_total", [])]
        assert got == [("eth1", 1000), ("eth2", 2000), ("eth3", 3000)][:len(got)]  # each row once, in order
    assert got == [("eth1", 1000), ("eth2", 2000), ("eth3", 3000)]  # tolerant: every row before the loop


# -- a transceiver replaced or renumbered ---------------------------------------------------
ENT_LAST_CHANGE = "1.3.6.1.2.1.47.1.4.1.0"
ENTITY_SUBTREES = (".1.3.6.1.2.1.2", ".1.3.6.1.2.1.31", ".1.3.6.1.2.1.47", ".1.3.6.1.2.1.99")


def optic_rows(sensors: dict[int, tuple[int, int, int]], last_change: int | None) -> dict[str, list[str]]:
    """Interfaces eth1-eth3 and one receive power sensor per entry: sensor entity index ->
    (ifIndex of its transceiver, precision, raw value), as ENTITY-MIB/ENTITY-SENSOR-MIB rows;
    entLastChangeTime only when ``last_change`` is given."""
    rows = interface_rows({1: "eth1", 2: "eth2", 3: "eth3"}, 0)
    if last_change is not None:
        rows[ENT_LAST_CHANGE] = ["timeticks", str(last_change)]
    for entity, (if_index, precision, value) in sensors.items():
        rows[f"1.3.6.1.2.1.47.1.1.1.1.7.{entity}"] = ["string", f"eth{if_index} Rx Power Sensor"]
        rows[f"1.3.6.1.2.1.47.1.3.2.1.2.{entity}.0"] = ["objectid", f".1.3.6.1.2.1.2.2.1.1.{if_index}"]
        for column, value_of_column in ((1, 14), (2, 9), (3, precision), (4, value), (5, 1)):  # dBm, units, ok
            rows[f"1.3.6.1.2.1.99.1.1.1.{column}.{entity}"] = ["integer", str(value_of_column)]
    return rows


@pytest.mark.parametrize(("last_change", "steps"), [
    # no entLastChangeTime: the transceiver in eth2 moves to eth3 and the new one reports
    # hundredths, the sensor index and ifNumber stay
    (None, [{1001: (2, 1, -52)}, {1001: (3, 2, -523)}, {1001: (3, 2, -523)}]),
    # an entLastChangeTime that never moves: a new sensor (a transceiver inserted) is seen
    (0, [{1001: (2, 1, -52)}, {1001: (2, 1, -52), 1002: (3, 2, -523)}, {1002: (1, 1, -70)}]),
], ids=["no_ent_last_change", "ent_last_change_stuck"])
def test_optics_labels_follow_a_replaced_transceiver(tmp_path, last_change, steps):
    """Each scrape's optic_rx_power_dbm names the interface the transceiver sits in now, at
    the precision it reports now (main kept the first scrape's labels and scale for an hour:
    -52.3 dBm on eth2 for a -5.23 dBm reading on eth3)."""
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    agent = start_foreign_agent(tmp_path, optic_rows(steps[0], last_change), ENTITY_SUBTREES)
    poller = Poller(test_profiles(timeout_s=0.5, retries=1))

    async def run():
        await poller.start()
        try:
            seen = []
            for sensors in steps:
                agent.serve(optic_rows(sensors, last_change))
                seen.append((await poller.scrape_result(agent.agent.target, ["optics"], "public_v2", 5.0)).body)
            return seen
        finally:
            poller.close()

    try:
        bodies = asyncio.run(run())
    finally:
        agent.agent.stop()
    for sensors, body in zip(steps, bodies):
        assert module_status(body) == {"optics": (1, "")}
        got = {(s.labels["if_name"], s.labels["sensor"]): s.value for s in samples(body)["optic_rx_power_dbm"]}
        assert got == {(f"eth{if_index}", f"eth{if_index} Rx Power Sensor"): value / 10 ** precision
                       for if_index, precision, value in sensors.values()}, sensors


# -- a slow agent, once missed ----------------------------------------------------------------
def test_a_slow_agent_missed_once_is_up_again_when_it_answers_in_time(tmp_path):
    """The agent answers every request 1.5 s late; its profile waits 3 s. One scrape that
    Prometheus gave only 1 s misses it (down, rightly: nothing came in that second) and
    marks it known dead; the next scrapes with 10 s must find it up, as snmp_exporter does
    (each scrape its module's own timeout). main probed a known dead target with one 1 s
    try: it read down on every scrape while it answered in 1.5 s, for as long as it was slow."""
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    agent = snmpd.start(tmp_path)
    poller = Poller(test_profiles(timeout_s=3.0, retries=1))

    async def run(target: str):
        await poller.start()
        try:
            budgets = (1.0, 10.0, 10.0)
            return [await poller.scrape_result(target, ["system"], "city_v2", budget) for budget in budgets]
        finally:
            poller.close()

    try:
        with FaultProxy(agent.port, delay_s=1.5) as proxy:
            missed, *later = asyncio.run(run(proxy.target))
    finally:
        agent.stop()
    assert down_reason(missed.modules) == "timeout"
    assert [module_status(result.body) for result in later] == [{"system": (1, "")}] * 2
