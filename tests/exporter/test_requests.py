"""/snmp over HTTP on a bad day: malformed requests (400 with the reason, never 500), targets
and secrets outside the inventory (403), HEAD, IPv6 agents, and dead or refusing targets
(503, so Prometheus' `up` is 0). Real exporter process, real snmpd."""

from __future__ import annotations

import gzip
import json
import urllib.parse
import urllib.request

import pytest
from sqlmodel import select

from exporters.server import accepts_gzip, down_reason
from exporters.snmp.poller import ModuleResult
from inventory.models.devices import Device
from inventory.models.profiles import SnmpProfile
from netops.db import session_scope
from tests.exporter.conftest import module_status, samples
from tests.exporter.test_server import SECRETS, bind, exporter, inventory_with_profiles  # noqa: F401 (fixture)
from tests.support import snmpd
from tests.support.netops_exporter import http, running_exporter
from tests.support.udp_fault_proxy import FaultProxy

pytestmark = pytest.mark.slow


def own_metrics(base: str) -> dict[str, list]:
    status, text = http(base + "/metrics")
    assert status == 200
    return samples(text)


def snmp_url(base: str, **params) -> str:
    return f"{base}/snmp?" + urllib.parse.urlencode(params)


#: (query string, what the 400 says): each one a request an operator or a typo can send
MALFORMED = [
    ("module=system", "'target' parameter must be specified"),
    ("target=" + "a" * 300 + "&module=system", "not a valid host name"),
    ("target=" + ".".join(["abcdefghij"] * 25) + "&module=system", "longer than 253"),
    ("target=bad_label-.example&module=system", "is not letters, digits"),
    ("target=xn--zz.example&module=system", "not a valid host name"),
    ("target=127.0.0.1:%2B161&module=system", "port '+161' is not a number"),
    ("target=127.0.0.1:16_100&module=system", "port '16_100'"),
    ("target=127.0.0.1:%EF%BC%91%EF%BC%96%EF%BC%91&module=system", "is not a number from 1 to 65535"),
    ("target=127.0.0.1:0&module=system", "port '0'"),
    ("target=127.0.0.1:65536&module=system", "port '65536'"),
    ("target=127.0.0.1:&module=system", "port ''"),
    ("target=127.1&module=system", "not an IPv4 address and not a host name"),
    ("target=%5B::1&module=system", "[IPv6-ADDRESS]"),
    ("target=%5B127.0.0.1%5D:161&module=system", "[IPv6-ADDRESS]"),
    ("target=2001:db8::1:161:x&module=system", "written [ADDRESS]:PORT"),
    ("target=127.0.0.1&target=127.0.0.2&module=system", "'target' given 2 times"),
    ("target=127.0.0.1&module=system,nonsense", "unknown module(s) ['nonsense']"),
    ("target=127.0.0.1&module=" + ",".join(["system"] * 700), "700 modules named; at most 32"),
    ("target=127.0.0.1&module=system&auth=nobody", "unknown auth profile 'nobody'"),
    ("target=127.0.0.1&module=system&auth=a&auth=b", "'auth' given 2 times"),
]


def test_malformed_requests_are_400_with_their_reason(exporter):
    base, _engine, _tmp = exporter
    for query, reason in MALFORMED:
        status, text = http(f"{base}/snmp?{query}")
        assert (status, reason in text) == (400, True), (query, status, text)
        assert text.count("\n") == 1  # one line
    metrics = own_metrics(base)
    assert metrics["netops_exporter_scrapes_total"][0].value == 0  # none of them polled
    assert {s.labels["status"]: s.value for s in metrics["netops_exporter_requests_refused_total"]} \
        == {"400": len(MALFORMED)}
    assert http(base + "/sd?port=%2B161")[0] == 400 and http(base + "/sd?port=16_100")[0] == 400


def test_duplicate_modules_are_polled_once(exporter, agent):
    base, _engine, _tmp = exporter
    status, body = http(f"{base}/snmp?target={agent.target}&module=system,system&module=system,interfaces")
    assert status == 200
    assert [s.labels["module"] for s in samples(body)["netops_snmp_module_up"]] == ["system", "interfaces"]


def test_answers_are_gzipped_when_the_client_takes_gzip(exporter, agent):
    """Prometheus asks for gzip: the answer is a gzip member of the same series; a client
    that does not ask (or refuses with q=0) gets plain text."""
    base, _engine, _tmp = exporter
    url = f"{base}/snmp?target={agent.target}&module=system,interfaces"
    series = {}
    for accept, gzipped in (("gzip", True), ("deflate, gzip;q=1.0, *;q=0.5", True), ("identity", False),
                            ("gzip;q=0", False), ("", False)):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": accept}), timeout=15) as r:
            raw, encoding = r.read(), r.headers.get("Content-Encoding")
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert encoding == ("gzip" if gzipped else None), accept
        text = (gzip.decompress(raw) if encoding else raw).decode()
        assert len(raw) < len(text) / 4 if encoding else len(raw) == len(text)
        series[accept] = {(name, tuple(sorted(s.labels.items()))) for name, rows in samples(text).items()
                          for s in rows}
    assert len(series["gzip"]) > 50 and all(found == series["gzip"] for found in series.values())


@pytest.mark.parametrize(("header", "takes"), [
    ("gzip", True), ("GZIP", True), ("deflate, gzip", True), ("gzip;q=0.5", True), ("br, gzip ; q=1", True),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("identity", False), ("", False), ("x-gzip-not", False),
])
def test_accept_encoding_gzip(header, takes):
    assert accepts_gzip(header) is takes


def test_head_is_answered_without_polling(exporter, agent):
    base, _engine, _tmp = exporter
    status, body = http(f"{base}/snmp?target={agent.target}&module=system", method="HEAD")
    assert (status, body) == (200, "")
    assert http(f"{base}/snmp?target=127.0.0.1:%2B1&module=system", method="HEAD")[0] == 400
    assert http(f"{base}/snmp?target=127.0.0.9&module=system", method="HEAD")[0] == 403
    metrics = own_metrics(base)
    assert metrics["netops_exporter_scrapes_total"][0].value == 0
    assert {s.labels["kind"]: s.value for s in metrics["netops_exporter_snmp_packets_total"]}["sent"] == 0


def test_targets_and_secrets_stay_with_the_inventory(exporter, agent):
    """Only inventory devices are polled, and a stored profile only for the devices bound
    to it; a refused request sends nothing at all."""
    base, _engine, _tmp = exporter
    port = agent.port
    refusals = [
        (dict(target=f"127.0.0.9:{port}", module="system"), "is not a device in the inventory"),
        (dict(target=f"no-such-device:{port}", module="system"), "is not a device in the inventory"),
        # a decommissioned device is no target (not in /sd either)
        (dict(target=f"127.0.0.250:{port}", module="system"), "is not a device in the inventory"),
        # the school switch is in the inventory, but city_v3's keys are not its to receive
        (dict(target=f"127.0.1.1:{port}", module="system", auth="city_v3"),
         "auth profile 'city_v3' is not the profile of device sch-0001-sw0 ('public_v2')"),
        (dict(target=f"sch-0001-sw0:{port}", module="system", auth="city_v3"), "is not the profile of device"),
    ]
    for params, reason in refusals:
        status, text = http(snmp_url(base, **params))
        assert (status, reason in text) == (403, True), (params, status, text)
    assert {s.labels["kind"]: s.value for s in own_metrics(base)["netops_exporter_snmp_packets_total"]}["sent"] == 0
    # the device's own profile, by address or by name (polled at its management address)
    for target in (agent.target, f"pop-buer-cr1:{port}", f"POP-BUER-CR1:{port}"):
        status, body = http(snmp_url(base, target=target, module="system", auth="city_v3"))
        assert status == 200 and module_status(body) == {"system": (1, "")}, target
    # a profile without secrets may go to any inventory device
    status, body = http(snmp_url(base, target=agent.target, module="system", auth="public_v2"))
    assert status == 200 and module_status(body) == {"system": (1, "")}


def test_a_device_name_that_is_no_host_name_reads_as_sd_labels_it(exporter, agent):
    """A device without a management address whose name holds `/` and `:` (so /sd's target
    is no HOST[:PORT]): /snmp with what /sd gives says what /sd's labels say, down
    (no_management_address), or not polled when its profile's secrets are missing. (The
    integ merge said `target down` for the second while /sd labelled it
    snmp_credentials="missing": NetopsDeviceNotPolled fired for a body saying down.)"""
    base, engine, _tmp = exporter
    with session_scope(engine) as session:
        school = session.exec(select(Device).where(Device.name == "sch-0001-sw0")).one()
        session.add(SnmpProfile(name="nokey_v3", version="v3", user=snmpd.V3_USER, auth_protocol="sha",
                                priv_protocol="aes"))  # no secrets for it in the environment: left out
        for name, profile in (("ap/nokey:2", "nokey_v3"), ("ap/noaddr:2", None)):
            session.add(Device(name=name, site_id=school.site_id, role="wifi_ap", platform="cisco_ios",
                               snmp_profile=profile, source="test"))
    assert http(base + "/-/reload", method="POST")[0] == 200
    status, text = http(f"{base}/sd?port={agent.port}")
    assert status == 200
    groups = {group["labels"]["device"]: group for group in json.loads(text)}
    for name, missing, says in (("ap/nokey:2", "missing", "target not polled: reason=no_credentials"),
                                ("ap/noaddr:2", None, "target down: reason=no_management_address")):
        group = groups[name]
        assert group["labels"].get("snmp_credentials") == missing
        for target in (group["targets"][0], name):  # NAME:PORT as /sd lists it, and NAME
            url = snmp_url(base, target=target, module=group["labels"]["__param_module"],
                           auth=group["labels"]["__param_auth"])
            status, text = http(url)
            assert (status, text.startswith(says), text.count("\n")) == (503, True, 1), (target, text)
            assert http(url, method="HEAD")[0] == 503
    metrics = own_metrics(base)
    assert {s.labels["reason"]: s.value for s in metrics["netops_exporter_targets_not_polled_total"]} \
        == {"no_credentials": 4}
    assert {s.labels["reason"]: s.value for s in metrics["netops_exporter_targets_down_total"]} \
        == {"no_management_address": 4}
    assert metrics["netops_exporter_scrapes_total"][0].value == 0  # nothing polled


def test_lab_option_polls_any_target_but_never_with_secrets(agent, tmp_path):
    url, engine = inventory_with_profiles(tmp_path)
    lab_agent = snmpd.start(tmp_path / "lab-snmpd", host="127.0.0.3")  # an address the inventory does not know
    try:
        with running_exporter(url, tmp_path, "--allow-any-target", env=SECRETS) as base:
            status, body = http(snmp_url(base, target=lab_agent.target, module="system"))
            assert status == 200 and module_status(body) == {"system": (1, "")}
            status, text = http(snmp_url(base, target=lab_agent.target, module="system", auth="city_v3"))
            assert status == 403 and "holds secrets" in text and "--allow-any-target allows only" in text
            # inventory devices keep their binding
            assert http(snmp_url(base, target=agent.target, module="system", auth="city_v3"))[0] == 200
            assert http(snmp_url(base, target=f"127.0.1.1:{agent.port}", module="system", auth="city_v3"))[0] == 403
        with running_exporter(url, tmp_path, "--no-inventory") as base:  # no inventory, no lab option
            status, text = http(snmp_url(base, target=lab_agent.target, module="system"))
            assert status == 403 and "the exporter runs without one" in text
    finally:
        lab_agent.stop()
        engine.dispose()


def test_ipv6_management_address(exporter, tmp_path):
    """An agent listening only on udp6 [::1], known to the inventory by its IPv6 address."""
    base, engine, _tmp = exporter
    v6 = snmpd.start(tmp_path / "snmpd6", host="::1")
    try:
        with session_scope(engine) as session:
            school = session.exec(select(Device).where(Device.name == "sch-0001-sw0")).one()
            session.add(Device(name="sch-0001-v6", site_id=school.site_id, role="access_switch",
                               platform="cisco_ios", mgmt_ip="::1", source="test"))
        assert http(base + "/-/reload", method="POST")[0] == 200
        status, sd = http(f"{base}/sd?port={v6.port}")
        assert f'"[::1]:{v6.port}"' in sd
        for target in (f"[::1]:{v6.port}", f"[0:0:0:0:0:0:0:1]:{v6.port}", f"sch-0001-v6:{v6.port}"):
            status, body = http(snmp_url(base, target=target, module="system,interfaces"))
            assert status == 200, (target, body)
            assert module_status(body) == {"system": (1, ""), "interfaces": (1, "")}
            assert samples(body)["sys_info"][0].labels["sys_name"] == "test-switch-1"
        assert http(snmp_url(base, target="[::2]:161", module="system"))[0] == 403
    finally:
        v6.stop()


def test_down_is_503_with_the_reason(exporter, agent):
    """No module got an answer: 503 and one line, so Prometheus' `up` is 0; wrong SNMPv3
    keys read as down with reason auth; a target that answered some modules stays 200."""
    base, engine, _tmp = exporter
    fast = {"X-Prometheus-Scrape-Timeout-Seconds": "2"}
    status, text = http(snmp_url(base, target=f"127.0.1.1:{agent.port}", module="system,interfaces"), headers=fast)
    assert status == 503 and text.startswith("target down: reason=") and text.count("\n") == 1
    assert "system: " in text and "interfaces: " in text
    for profile, detail in (("wrong_auth_v3", "wrong_digest"), ("wrong_priv_v3", "decryption_error"),
                            ("wrong_user_v3", "unknown_user")):
        bind(engine, "pop-buer-cr1", profile)
        assert http(base + "/-/reload", method="POST")[0] == 200
        status, text = http(snmp_url(base, target=agent.target, module="system", auth=profile), headers=fast)
        assert (status, text) == (503, f"target down: reason=auth (system: {detail})\n")
        assert "not-the-" not in text
    bind(engine, "pop-buer-cr1", "city_v3")
    assert http(base + "/-/reload", method="POST")[0] == 200
    # engine discovery and the base GET answered, then the agent fell silent: some answer, so up
    with FaultProxy(agent.port, "stop_after", answer_first=2) as proxy:
        status, body = http(snmp_url(base, target=proxy.target, module="system,interfaces", auth="city_v3"),
                            headers=fast)
    assert status == 200 and module_status(body)["system"] == (1, "")
    assert module_status(body)["interfaces"][0] == 0
    down = {s.labels["reason"]: s.value for s in own_metrics(base)["netops_exporter_targets_down_total"]}
    assert down.pop("auth") == 3 and sum(down.values()) == 1


@pytest.mark.parametrize(("modules", "expected"), [
    ([("system", True, "")], None),
    ([("system", False, "timeout"), ("interfaces", False, "timeout")], "timeout"),
    ([("system", False, "unreachable")], "unreachable"),
    ([("system", False, "budget"), ("interfaces", False, "budget")], "budget"),
    ([("system", False, "wrong_digest")], "auth"),
    ([("system", False, "unknown_user")], "auth"),
    ([("system", False, "decryption_error"), ("lldp", False, "decryption_error")], "auth"),
    ([("system", False, "malformed_response")], "malformed_response"),
    ([("system", True, ""), ("interfaces", False, "timeout")], None),
    # the agent answered, with an error or a table too big: the device is up, its module is not
    ([("interfaces", False, "table_too_large")], None),
    ([("interfaces", False, "oid_not_increasing"), ("lldp", False, "timeout")], None),
    ([("interfaces", False, "error_status")], None),
])
def test_down_reason_from_module_statuses(modules, expected):
    assert down_reason([ModuleResult(name, up, reason, 0.1) for name, up, reason in modules]) == expected
