"""What a target is (one parser for /sd, /snmp and the poller) and which ones the policy
allows; the HTTP side of both is in test_requests.py."""

from __future__ import annotations

import pytest

from exporters.sd import inventory_devices, sd_groups
from exporters.targets import (InventoryDevice, Target, TargetError, TargetPolicy, TargetRefused, TargetUnaddressed,
                               parse_target)
from netops import db as dbmod
from tests.exporter.test_sd import small_city


@pytest.mark.parametrize(("text", "host", "port"), [
    ("127.0.0.1", "127.0.0.1", 161),
    ("127.0.0.1:16100", "127.0.0.1", 16100),
    ("[::1]:161", "::1", 161),
    ("[2001:DB8:0::1]", "2001:db8::1", 161),  # canonical, so the inventory look-up matches
    ("2001:db8::1", "2001:db8::1", 161),
    ("Switch-1.Example.ORG.", "switch-1.example.org", 161),
    ("bücher.example:1", "xn--bcher-kva.example", 1),
    ("sch_0001_sw0:65535", "sch_0001_sw0", 65535),
    ("a" * 63 + ".example", "a" * 63 + ".example", 161),
])
def test_targets_parse_to_a_canonical_host_and_port(text, host, port):
    assert parse_target(text) == Target(host, port)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "must be specified"),
    ("a" * 64 + ".example", "label"),
    ("a" * 300, "not a valid host name"),
    (".".join(["a" * 50] * 5), "longer than 253"),
    ("a..b", "not a valid host name"),
    ("-a.example", "inner hyphens"),
    ("a b.example", "inner hyphens"),
    ("xn--zz.example", "not a valid host name"),
    ("h:+161", "port '+161'"),
    ("h:16_100", "port '16_100'"),
    ("h: 161", "port ' 161'"),
    ("h:\uff11\uff16\uff11", "is not a number from 1 to 65535"),
    ("h:99999", "port '99999'"),
    ("h:0", "port '0'"),
    ("127.1", "not an IPv4 address and not a host name"),
    ("256.0.0.1", "not an IPv4 address and not a host name"),
    ("[::1]x", "expected ':PORT' after ']'"),
    ("[fe80::1", "[IPv6-ADDRESS]"),
    ("[10.0.0.1]:161", "[IPv6-ADDRESS]"),
])
def test_malformed_targets_say_what_is_wrong(text, reason):
    with pytest.raises(TargetError) as err:
        parse_target(text)
    assert reason in str(err.value) and len(str(err.value)) < 300


CITY = [InventoryDevice("pop-cr1", "10.0.0.1", "city_v3"), InventoryDevice("sch-sw1", "2001:db8::5", "public_v2")]


def test_policy_binds_targets_and_secrets_to_the_inventory():
    policy = TargetPolicy(lambda: CITY)
    policy.refresh()
    # a device by address or name, polled at its management address, with its own profile
    assert policy.resolve(parse_target("10.0.0.1:1161"), "city_v3", True) == Target("10.0.0.1", 1161)
    assert policy.resolve(parse_target("POP-CR1"), "city_v3", True) == Target("10.0.0.1", 161)
    assert policy.resolve(parse_target("[2001:db8:0:0::5]"), "public_v2", False) == Target("2001:db8::5", 161)
    # a profile without secrets goes to any inventory device, one with secrets only to its own
    assert policy.resolve(parse_target("10.0.0.1"), "public_v2", False) == Target("10.0.0.1", 161)
    with pytest.raises(TargetRefused, match="not the profile of device sch-sw1"):
        policy.resolve(parse_target("sch-sw1"), "city_v3", True)
    with pytest.raises(TargetRefused, match="not a device in the inventory"):
        policy.resolve(parse_target("10.0.0.2"), "public_v2", False)


def test_lab_policy_allows_other_hosts_only_without_secrets():
    policy = TargetPolicy(lambda: CITY, allow_any_target=True)
    policy.refresh()
    assert policy.resolve(parse_target("192.0.2.7:161"), "public_v2", False) == Target("192.0.2.7", 161)
    with pytest.raises(TargetRefused, match="holds secrets"):
        policy.resolve(parse_target("192.0.2.7"), "city_v3", True)
    with pytest.raises(TargetRefused, match="not the profile of device pop-cr1"):
        policy.resolve(parse_target("10.0.0.1"), "other_v2", True)
    without_inventory = TargetPolicy(None)
    without_inventory.refresh()
    with pytest.raises(TargetRefused, match="runs without one"):
        without_inventory.resolve(parse_target("10.0.0.1"), "public_v2", False)


def test_sd_targets_are_targets_the_policy_allows(engine):
    """/sd and /snmp agree: every target /sd lists parses and is allowed with its __param_auth."""
    small_city(engine)
    policy = TargetPolicy(lambda: inventory_devices(engine))
    policy.refresh()
    groups = sd_groups(engine, port=16100)
    assert groups
    for group in groups:
        (target,) = group["targets"]
        auth = group["labels"]["__param_auth"]
        if group["labels"]["device"] == "no-ip-ap":  # no management address: down, nothing is sent
            with pytest.raises(TargetUnaddressed, match="no-ip-ap has no management address"):
                policy.resolve(parse_target(target), auth, auth != "public_v2")
            continue
        assert str(policy.resolve(parse_target(target), auth, auth != "public_v2")) == target


def test_policy_keeps_its_last_list_when_the_inventory_is_away(tmp_path):
    """The database gone (here: a SQLite file replaced by a directory): the refresh fails,
    the devices known before are still served, and the next try waits the TTL."""
    path = tmp_path / "netops.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    small_city(engine, devices=2)
    policy = TargetPolicy(lambda: inventory_devices(engine), ttl_s=3600)
    policy.refresh()
    engine.dispose()
    path.unlink()
    path.mkdir()
    with pytest.raises(Exception):
        policy.refresh()
    assert not policy.stale()
    assert policy.resolve(parse_target("pop-buer-cr1"), "city_v3", True) == Target("127.0.0.1", 161)
