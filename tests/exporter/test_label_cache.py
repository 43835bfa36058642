"""The label cache's rules: same stamp, no reboot, within the TTL; labels walked again
are reused only when the walked rows are the same."""

import asyncio

import pytest

from exporters.snmp import ber, modules
from exporters.snmp.client import AuthProfile
from exporters.snmp.modules import (IF_ALIAS, IF_DESCR, IF_LABEL_COLUMNS, IF_NAME, IF_TYPE, SENSOR_TYPE, LabelCache,
                                    interface_labels_of)
from exporters.snmp.poller import Poller
from netops.secrets import Secret
from tests.support import snmpd

KEY = (("127.0.0.1", 161), "public_v2", "interfaces")


def test_hit_while_nothing_changed():
    cache = LabelCache(ttl_s=60)
    cache.put(KEY, stamp=(53, 100), uptime=1_000, now=0.0, value="labels")  # booted at -10 s
    assert cache.get(KEY, (53, 100), uptime=4_000, now=30.0) == "labels"
    assert cache.get(KEY, (53, 100), uptime=4_900, now=30.0) == "labels"  # a late answer, a drifting clock
    assert (cache.hits, cache.misses) == (2, 0)


def test_miss_on_table_change_reboot_or_ttl():
    cache = LabelCache(ttl_s=60)
    cache.put(KEY, stamp=(53, 100), uptime=1_000, now=0.0, value="labels")  # booted at -10 s
    assert cache.get(KEY, (54, 100), uptime=1_100, now=1.0) is None  # ifNumber moved
    assert cache.get(KEY, (53, 250), uptime=1_100, now=1.0) is None  # ifTableLastChange moved
    assert cache.get(KEY, (53, 100), uptime=500, now=1.0) is None  # sysUpTime went back: a reboot
    # restarted at 20 s, scraped at 45 s: sysUpTime above the cached one, and yet a reboot
    assert cache.get(KEY, (53, 100), uptime=2_500, now=45.0) is None
    assert cache.get(KEY, (53, 100), uptime=7_100, now=61.0) is None  # TTL
    assert cache.misses == 5


def test_bounded():
    cache = LabelCache(ttl_s=60, max_entries=3)
    for i in range(10):
        cache.put((("127.0.0.1", i), "p", "m"), 0, 0, 0.0, i)
    assert len(cache) == 3
    assert cache.get((("127.0.0.1", 9), "p", "m"), 0, 0, 0.0) == 9


# -- labels walked again: reused when the rows are the same, rebuilt when anything moved
def label_rows(alias: bytes = b"uplink", if_type: int = 6) -> dict:
    """Two interfaces' IF_LABEL_COLUMNS as an agent answers them (fresh objects every call)."""
    def rows(column, tag, values):
        return [(column + bytes((index,)), tag, value) for index, value in values]
    return {IF_NAME: rows(IF_NAME, ber.OCTET_STRING, [(1, b"Gi1/0/1"), (2, b"Gi1/0/2")]),
            IF_ALIAS: rows(IF_ALIAS, ber.OCTET_STRING, [(1, alias), (2, b"")]),
            IF_DESCR: rows(IF_DESCR, ber.OCTET_STRING, [(1, b"GigabitEthernet1/0/1"), (2, b"GigabitEthernet1/0/2")]),
            IF_TYPE: rows(IF_TYPE, ber.INTEGER, [(1, bytes((if_type,))), (2, b"\x06")])}


def test_labels_walked_again_unchanged_are_reused():
    first = interface_labels_of(label_rows(), None)
    again = interface_labels_of(label_rows(), first)
    assert again is first
    assert 'if_alias="uplink"' in first.info_lines[0]


def test_labels_rebuilt_when_a_value_a_type_or_an_index_changed():
    first = interface_labels_of(label_rows(), None)
    renamed = interface_labels_of(label_rows(alias=b"to-core"), first)
    assert renamed is not first and 'if_alias="to-core"' in renamed.info_lines[0]
    retyped = interface_labels_of(label_rows(if_type=24), first)
    assert retyped is not first and 'if_type="24"' in retyped.info_lines[0]
    moved = label_rows()
    moved[IF_NAME][1] = (IF_NAME + b"\x03", ber.OCTET_STRING, b"Gi1/0/2")  # same name, another ifIndex
    assert interface_labels_of(moved, first) is not first
    tagged = label_rows()
    tagged[IF_ALIAS][0] = (IF_ALIAS + b"\x01", ber.OPAQUE, b"uplink")  # same octets, another tag
    assert interface_labels_of(tagged, first) is not first


def test_last_value_outlives_validity():
    cache = LabelCache(ttl_s=0)  # --cache-ttl 0: never a hit, yet the last labels stay for comparison
    cache.put(KEY, stamp=(53, 100), uptime=1_000, now=0.0, value="labels")
    assert cache.get(KEY, (53, 100), uptime=2_000, now=0.0) is None
    assert cache.last(KEY) == "labels" and cache.last((("127.0.0.1", 162), "public_v2", "interfaces")) is None


def test_no_uptime_known_leaves_reboots_to_the_stamp_and_the_ttl():
    """An agent that tells no sysUpTime (None) has no boot to compare: hits while the
    stamp holds, a miss when it moves or the TTL runs out, and once when the uptime comes
    or goes (a changed agent)."""
    cache = LabelCache(ttl_s=3600)
    cache.put(KEY, stamp=(53, 100), uptime=None, now=0.0, value="labels")
    assert cache.get(KEY, (53, 100), uptime=None, now=60.0) == "labels"
    assert cache.get(KEY, (53, 100), uptime=None, now=3599.0) == "labels"
    assert cache.get(KEY, (54, 100), uptime=None, now=60.0) is None
    assert cache.get(KEY, (53, 100), uptime=None, now=3601.0) is None
    assert cache.get(KEY, (53, 100), uptime=6_000, now=60.0) is None
    cache.put(KEY, stamp=(53, 100), uptime=6_000, now=60.0, value="labels")
    assert cache.get(KEY, (53, 100), uptime=None, now=120.0) is None


# -- an agent whose view hides sysUpTime: its labels stay cached (real snmpd) ----------------
HIDDEN_UPTIME = ("view noUptime included .1\nview noUptime excluded .1.3.6.1.2.1.1.3\n"
                 "rocommunity hideuptime 127.0.0.1 -V noUptime\n"
                 # ifTableLastChange and entLastChangeTime, as a switch has them: the labels' stamps
                 "override 1.3.6.1.2.1.31.1.5.0 timeticks 0\noverride 1.3.6.1.2.1.47.1.4.1.0 timeticks 4200\n")


@pytest.fixture(scope="module")
def uptime_hidden_agent(tmp_path_factory):
    if not snmpd.available():
        pytest.skip("snmpd not installed (run `make test`)")
    agent = snmpd.start(tmp_path_factory.mktemp("hidden-uptime"), HIDDEN_UPTIME)
    yield agent
    agent.stop()


def test_an_agent_hiding_sys_uptime_is_not_walked_for_labels_every_scrape(uptime_hidden_agent, monkeypatch):
    """snmpd serves the tables but its view hides sysUpTime. netops read the missing uptime
    as 0, so the agent's "boot moment" (now - sysUpTime) moved with our clock and every
    scrape further apart than the boot tolerance (the 10 s tolerance vs a 60 s scrape
    interval: here the tolerance is 0) was a "reboot": the interface and optics label tables
    were walked again on every scrape instead of once an hour. Counted here: the walks that
    carry the label columns, over three scrapes of one poller."""
    monkeypatch.setattr(modules, "BOOT_TOLERANCE_S", 0.0)  # the scrapes lie further apart than it
    hidden = AuthProfile("hidden", community=Secret("hideuptime"))
    poller = Poller({"hidden": hidden})
    label_walks = []
    walk_columns = poller.client.walk_columns

    async def counted(address, profile, columns, *args, **kwargs):
        if set(IF_LABEL_COLUMNS) <= set(columns) or SENSOR_TYPE in columns:
            label_walks.append(columns)
        return await walk_columns(address, profile, columns, *args, **kwargs)

    poller.client.walk_columns = counted

    async def three_scrapes():
        await poller.start()
        try:
            return [await poller.scrape_result(uptime_hidden_agent.target, ["system", "interfaces", "optics"],
                                               "hidden") for _ in range(3)]
        finally:
            poller.close()

    results = asyncio.run(three_scrapes())
    assert all(module.up for result in results for module in result.modules)
    assert "sys_uptime_seconds " not in results[0].body  # hidden: no uptime made up
    assert 'if_name="lo"' in results[-1].body
    # one walk of the interface labels (along with the counters) and one of the sensors', on the first scrape
    assert len(label_walks) == 2, label_walks
    assert (poller.cache.hits, poller.cache.misses) == (4, 2)
