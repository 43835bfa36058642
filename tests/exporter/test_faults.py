"""Faults: each one ends as a module down with a reason (metric and log), never as a
dead exporter; the same poller serves a healthy scrape right after."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from exporters.server import down_reason
from exporters.snmp.poller import ModuleResult, Poller
from tests.exporter.conftest import by_if_index, module_status, samples, test_profiles
from tests.support.snmpd import free_udp_port
from tests.support.udp_fault_proxy import FaultProxy

FAST = dict(timeout_s=0.4, retries=1)


def run_scrapes(poller: Poller, *requests):
    """Scrape each (target, modules, auth, timeout) in turn on one poller; then a healthy one."""

    async def go():
        await poller.start()
        try:
            texts = [await poller.scrape(t, m, a, timeout) for t, m, a, timeout in requests]
            assert not poller.client._pending  # nothing left waiting: memory stays bounded
            return texts
        finally:
            poller.close()

    return asyncio.run(go())


def test_closed_port_and_wrong_community_then_still_serving(agent, caplog):
    closed = f"127.0.0.1:{free_udp_port()}"
    poller = Poller(test_profiles(**FAST))
    with caplog.at_level(logging.WARNING, logger="netops.exporter"):
        unreachable, wrong, healthy = run_scrapes(
            poller,
            (closed, ["system", "interfaces"], "city_v2", None),
            (agent.target, ["system", "interfaces"], "wrong_v2", None),
            (agent.target, ["system", "interfaces"], "city_v2", None))
    # the closed port's ICMP port-unreachable reaches the connected socket: no timeout waited
    assert module_status(unreachable) == {"system": (0, "unreachable"), "interfaces": (0, "unreachable")}
    assert module_status(wrong) == {"system": (0, "timeout"), "interfaces": (0, "timeout")}
    assert module_status(healthy) == {"system": (1, ""), "interfaces": (1, "")}
    assert poller.errors[("interfaces", "unreachable")] == 1 and poller.errors[("interfaces", "timeout")] == 1
    assert f"target {closed}: unreachable" in caplog.text
    assert "not-the-community" not in caplog.text


# net-snmp reports a wrong auth key (usmStatsWrongDigests) but silently drops a PDU it
# cannot decrypt: an agent that answered engine discovery and then not our request is a
# decryption_error whose log line names the suspect (both read as "down, reason auth")
@pytest.mark.parametrize("auth,reason,hint", [("wrong_auth_v3", "wrong_digest", "refused our SNMPv3 credentials"),
                                              ("wrong_priv_v3", "decryption_error", "privacy key")])
def test_wrong_v3_keys_are_named(agent, auth, reason, hint, caplog):
    with caplog.at_level(logging.WARNING, logger="netops.exporter"):
        bad, good = run_scrapes(Poller(test_profiles()), (agent.target, ["system"], auth, None),
                                (agent.target, ["system"], "city_v3", None))
    assert module_status(bad) == {"system": (0, reason)}
    assert module_status(good) == {"system": (1, "")}
    assert hint in caplog.text
    assert "not-the-" not in caplog.text


def test_agent_stops_answering_mid_walk(agent):
    # answers the base GET and the interfaces' first GETBULK (one row of every counter and
    # label column: max-repetitions 1), then goes silent
    poller = Poller(test_profiles(**FAST, max_repetitions=1))
    with FaultProxy(agent.port, "stop_after", answer_first=2) as proxy:
        stopped, = run_scrapes(poller, (proxy.target, ["system", "interfaces", "lldp"], "city_v2", None))
    status = module_status(stopped)
    assert status["system"] == (1, "")
    assert status["interfaces"] == (0, "timeout") and status["lldp"] == (0, "timeout")
    # the row that came is named by the labels walked along with it; labels of a walk cut
    # short are not cached
    parsed = samples(stopped)
    assert [s.labels["if_name"] for s in parsed["if_in_bytes_total"]] == ["lo"]
    assert [s.labels["if_name"] for s in parsed["if_info"]] == ["lo"]
    assert len(poller.cache) == 0


@pytest.mark.parametrize("mode", ["truncate", "garbage"])
def test_malformed_answers(agent, mode):
    with FaultProxy(agent.port, mode, answer_first=1) as proxy:
        broken, healthy = run_scrapes(Poller(test_profiles(**FAST)),
                                      (proxy.target, ["system", "interfaces"], "city_v2", None),
                                      (agent.target, ["interfaces"], "city_v2", None))
    assert module_status(broken) == {"system": (1, ""), "interfaces": (0, "malformed_response")}
    assert module_status(healthy) == {"interfaces": (1, "")}


def test_corrupted_answers_never_crash(agent):
    with FaultProxy(agent.port, "corrupt", answer_first=1) as proxy:
        corrupted, = run_scrapes(Poller(test_profiles(**FAST)), (proxy.target, ["system", "interfaces"], "city_v2", None))
    # bit flips may still decode (v2c has no integrity check) or not: either way an answer with a verdict
    assert set(module_status(corrupted)) == {"system", "interfaces"}


def test_huge_table_is_cut_off(agent):
    profiles = test_profiles()
    profiles["city_v2"] = profiles["city_v2"].__class__(**{**profiles["city_v2"].__dict__, "max_varbinds_per_walk": 10})
    capped, = run_scrapes(Poller(profiles), (agent.target, ["system", "interfaces"], "city_v2", None))
    assert module_status(capped) == {"system": (1, ""), "interfaces": (0, "table_too_large")}


def test_scrape_finishes_within_prometheus_timeout(agent):
    # the agent goes silent after the base GET; SNMP timeout 5 s, but Prometheus waits only 1.5 s
    with FaultProxy(agent.port, "stop_after", answer_first=1) as proxy:
        started = time.monotonic()
        partial, = run_scrapes(Poller(test_profiles(timeout_s=5.0, retries=2), budget_offset_s=0.3),
                               (proxy.target, ["system", "interfaces"], "city_v2", 1.5))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert module_status(partial) == {"system": (1, ""), "interfaces": (0, "budget")}
    assert samples(partial)["sys_uptime_seconds"][0].value > 0


def test_many_scrapes_in_flight_share_bounded_concurrency(agent):
    poller = Poller(test_profiles(), max_targets_in_flight=4)

    async def burst():
        await poller.start()
        try:
            return await asyncio.gather(*(poller.scrape(agent.target, ["interfaces"], "city_v2", 30.0)
                                          for _ in range(200)))
        finally:
            poller.close()

    results = asyncio.run(burst())
    assert all(module_status(text) == {"interfaces": (1, "")} for text in results)
    assert poller.limiter.active == 0 and poller.limiter.waiting == 0


def test_unresolvable_target_is_a_module_reason_not_an_error_page():
    text, = run_scrapes(Poller(test_profiles(**FAST)), ("no-such-host.invalid:161", ["system"], "city_v2", 2.0))
    assert module_status(text) == {"system": (0, "unresolvable")}


def test_v3_response_below_the_security_level_is_refused():
    """An unauthenticated Response to an authPriv request (spoofed, or a broken agent) is
    not taken for data."""
    from exporters.snmp import ber, usm

    session = usm.UsmSession(usm.UsmUser("u", "sha", "auth-key-0123", "aes", "priv-key-4567"))
    session.learn(b"\x80\x00\x1f\x88\x80engine", 1, 100)
    pdu = ber.tlv(ber.RESPONSE, ber.encode_int(7) + ber.encode_int(0) + ber.encode_int(0)
                  + ber.tlv(ber.SEQUENCE, ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, ber.parse_oid("1.3.6.1.2.1.1.3.0"))
                                                  + ber.tlv(ber.TIMETICKS, b"\x01"))))
    spoofed = session._frame(7, 0, session.engine_id, 1, 100, b"u", b"", b"",
                             ber.tlv(ber.SEQUENCE, ber.tlv(4, session.engine_id) + ber.tlv(4, b"") + pdu))
    with pytest.raises(usm.UsmError, match="without the profile's authentication"):
        session.decode(spoofed)
    # the same PDU framed properly (authPriv) decodes
    msg_id, decoded = session.decode(session.encode(7, pdu))
    _oid, tag, raw = decoded.varbinds[0]
    assert (msg_id, decoded.request_id, ber.value_of(tag, raw)) == (7, 7, 1)


class RowWithoutValue(FaultProxy):
    """The real agent's answers, with one row of the table given no value: the varbind of
    ``oid`` comes back noSuchInstance (an agent whose instrumentation lost that row between
    two GETBULKs, or a firmware that answers so). RFC 3416 allows GETBULK only endOfMibView."""

    def __init__(self, agent_port: int, oid: bytes):
        super().__init__(agent_port)
        self.oid, self.rewritten = oid, 0

    def _mangle(self, data: bytes) -> bytes | None:
        from exporters.snmp import ber

        community, pdu = ber.decode_v2c_message(data)
        if self.oid not in (vb[0] for vb in pdu.varbinds):
            return data
        self.rewritten += 1
        return reencoded(community, pdu, [(oid, ber.NO_SUCH_INSTANCE, b"") if oid == self.oid else (oid, tag, raw)
                                          for oid, tag, raw in pdu.varbinds])


def reencoded(community: bytes, pdu, varbinds) -> bytes:
    """A v2c message of ``pdu`` with ``varbinds`` (oid, tag, raw) in place of its own."""
    from exporters.snmp import ber

    encoded = b"".join(ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, oid) + ber.tlv(tag, raw))
                       for oid, tag, raw in varbinds)
    return ber.encode_v2c_message(community, ber.tlv(pdu.tag, ber.encode_int(pdu.request_id) + ber.encode_int(
        pdu.error_status) + ber.encode_int(pdu.error_index) + ber.tlv(ber.SEQUENCE, encoded)))


@pytest.mark.parametrize("tolerant", [False, True])
def test_a_row_without_a_value_inside_a_getbulk_answer_is_no_end_of_the_table(agent, tolerant):
    """snmpd's ifHCInOctets.1 (lo, the table's first row) answered noSuchInstance inside a
    GETBULK. The walk took it for the column's end, as gosnmp's BulkWalk does (snmp_exporter
    0.21 then exports the rows before it and nothing after, with no error): every
    interface's if_in_bytes_total was gone and the module read up. Now the module is down,
    row_without_value (NetopsModuleDown says so); the agent answered, so the target is not
    down for it (an interfaces-only scrape stays 200); the other modules are not touched. A
    profile tolerating OIDs that go back reads it so too: the row is after every row read."""
    from exporters.snmp import ber

    with RowWithoutValue(agent.port, ber.parse_oid("1.3.6.1.2.1.31.1.1.1.6.1")) as proxy:
        text, = run_scrapes(Poller(test_profiles(**FAST, allow_nonincreasing=tolerant)),
                            (proxy.target, ["system", "interfaces"], "city_v2", 5.0))
    assert proxy.rewritten >= 1
    assert module_status(text) == {"system": (1, ""), "interfaces": (0, "row_without_value")}
    assert down_reason([ModuleResult("interfaces", False, "row_without_value", 0.1)]) is None


class TableEndAsException(FaultProxy):
    """The real agent's answers with a table's end told by the wrong exception: every
    varbind of a GETBULK answer that left the column it walks (the agent's next object, or
    endOfMibView) comes back as noSuchInstance for the column's last OID (the requested one
    echoed, as RFC 3416 names an endOfMibView), as some agents answer the tail of a bulk."""

    TABLES = ("1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1")  # ifTable's and ifXTable's entries

    def __init__(self, agent_port: int):
        super().__init__(agent_port)
        self.asked: list[bytes] = []
        self.rewritten = 0

    def _asked(self, data: bytes) -> None:
        from exporters.snmp import ber

        _community, pdu = ber.decode_v2c_message(data)
        # the columns a GETBULK walks (a GET's answer passes untouched)
        self.asked = [oid for oid, _tag, _raw in pdu.varbinds] if pdu.tag == ber.GET_BULK_REQUEST else []

    def _column(self, cursor: bytes) -> bytes:
        from exporters.snmp import ber

        for table in map(ber.parse_oid, self.TABLES):
            if cursor.startswith(table) and len(cursor) > len(table):
                return cursor[:len(table) + 1]  # the entry and one arc: the column
        return cursor

    def _mangle(self, data: bytes) -> bytes | None:
        from exporters.snmp import ber

        community, pdu = ber.decode_v2c_message(data)
        width = len(self.asked)
        if pdu.tag != ber.RESPONSE or not width:
            return data
        last = list(self.asked)  # each column's last OID so far in this answer
        varbinds = []
        for position, (oid, tag, raw) in enumerate(pdu.varbinds):
            j = position % width
            column = self._column(self.asked[j])
            if oid.startswith(column) and len(oid) > len(column) and tag not in ber.EXCEPTION_TAGS:
                last[j] = oid
            else:
                self.rewritten += 1
                oid, tag, raw = last[j], ber.NO_SUCH_INSTANCE, b""
            varbinds.append((oid, tag, raw))
        return reencoded(community, pdu, varbinds)


@pytest.mark.parametrize("tolerant", [False, True])
def test_a_table_end_told_by_no_such_instance_is_the_end(agent, tolerant):
    """An agent ending its tables with noSuchInstance for the OID it was asked (at the
    walk's cursor: no row left unread) instead of the next object or endOfMibView. It took
    the interfaces module down (row_without_value) for every profile, the tolerant one too,
    though no row lacked a value. snmpbulkwalk and gosnmp end the walk at any exception; so
    does netops when the exception names no row after the ones read: every interface is
    there, the module up, as read straight from the agent."""
    poller = Poller(test_profiles(**FAST, allow_nonincreasing=tolerant))
    with TableEndAsException(agent.port) as proxy:
        proxied, direct = run_scrapes(poller, (proxy.target, ["system", "interfaces"], "city_v2", 5.0),
                                      (agent.target, ["system", "interfaces"], "city_v2", 5.0))
    assert proxy.rewritten >= 1
    assert module_status(proxied) == {"system": (1, ""), "interfaces": (1, "")}
    for metric in ("if_info", "if_in_bytes_total", "if_oper_status"):
        assert by_if_index(samples(proxied), metric).keys() == by_if_index(samples(direct), metric).keys() != set()
