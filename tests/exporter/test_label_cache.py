"""The label cache's rules: same stamp, no reboot, within the TTL."""

from exporters.snmp.modules import LabelCache

KEY = (("127.0.0.1", 161), "public_v2", "interfaces")


def test_hit_while_nothing_changed():
    cache = LabelCache(ttl_s=60)
    cache.put(KEY, stamp=(53, 100), uptime=1_000, now=0.0, value="labels")
    assert cache.get(KEY, (53, 100), uptime=2_000, now=30.0) == "labels"
    assert (cache.hits, cache.misses) == (1, 0)


def test_miss_on_table_change_reboot_or_ttl():
    cache = LabelCache(ttl_s=60)
    cache.put(KEY, stamp=(53, 100), uptime=1_000, now=0.0, value="labels")
    assert cache.get(KEY, (54, 100), uptime=2_000, now=1.0) is None  # ifNumber moved
    assert cache.get(KEY, (53, 250), uptime=2_000, now=1.0) is None  # ifTableLastChange moved
    assert cache.get(KEY, (53, 100), uptime=500, now=1.0) is None  # sysUpTime went back: a reboot
    assert cache.get(KEY, (53, 100), uptime=2_000, now=61.0) is None  # TTL
    assert cache.misses == 4


def test_bounded():
    cache = LabelCache(ttl_s=60, max_entries=3)
    for i in range(10):
        cache.put((("127.0.0.1", i), "p", "m"), 0, 0, 0.0, i)
    assert len(cache) == 3
    assert cache.get((("127.0.0.1", 9), "p", "m"), 0, 0, 0.0) == 9
