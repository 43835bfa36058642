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
