"""Agents with bugs net-snmp cannot be made to have: OIDs that go backwards in a walk.

A real snmpd never does this, so this one agent is a few lines of asyncio answering
GETBULK with a column whose OIDs decrease (seen on old switch firmware,
snmp_exporter#208/#756): strict profiles stop with a reason, tolerant ones finish.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from exporters.snmp import ber
from exporters.snmp.client import DEFAULT_PROFILE, SnmpClient, SnmpError

COLUMN = ber.parse_oid("1.3.6.1.2.1.31.1.1.1.6")


def counter(index: int, value: int) -> bytes:
    return ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, COLUMN + bytes((index,)))
                   + ber.tlv(ber.COUNTER64, value.to_bytes(8, "big")))


class BackwardsAgent(asyncio.DatagramProtocol):
    """Answers every walk step with rows 5 then 3: the second OID is below the first."""

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        community, request = ber.decode_v2c_message(data)
        body = ber.encode_int(request.request_id) + ber.encode_int(0) + ber.encode_int(0)
        pdu = ber.tlv(ber.RESPONSE, body + ber.tlv(ber.SEQUENCE, counter(5, 500) + counter(3, 300)))
        self.transport.sendto(ber.encode_v2c_message(community, pdu), addr)


async def walk(profile):
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(BackwardsAgent, local_addr=("127.0.0.1", 0))
    client = SnmpClient()
    await client.start()
    try:
        into: dict = {}
        await client.walk_columns(transport.get_extra_info("sockname"), profile, [COLUMN], loop.time() + 5, into)
        return into[COLUMN]
    finally:
        client.close()
        transport.close()


def test_strict_profile_names_the_bug():
    with pytest.raises(SnmpError) as caught:
        asyncio.run(walk(DEFAULT_PROFILE))
    assert caught.value.reason == "oid_not_increasing"
    assert "1.3.6.1.2.1.31.1.1.1.6.3 after" in str(caught.value)


def test_tolerant_profile_finishes_without_looping():
    rows = asyncio.run(walk(dataclasses.replace(DEFAULT_PROFILE, allow_nonincreasing=True)))
    assert [(ber.index_str(oid[len(COLUMN):]), ber.value_of(tag, raw)) for oid, tag, raw in rows][:2] == \
        [("5", 500), ("3", 300)]
    assert len(rows) <= 4  # the repeated answer ends the column instead of walking forever
