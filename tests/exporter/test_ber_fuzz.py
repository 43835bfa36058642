"""The lean BER codec, fuzzed differentially against pysnmp's own (pyasn1) codec, and its C
reader (exporters/snmp/_ber.c) against the pure-Python reader it replaced
(``ber_reference.py``): the same varbinds, or the same BerError message, on every input.
Damaged datagrams run in this process: a crash of the C reader is a crash of the run.

Deterministic: every run draws the same examples (``derandomize``), so `make test` passes or
fails the same way on every machine. A random hunt for new counter-examples is a separate
command: ``NETOPS_FUZZ_HUNT=1 .venv/bin/python -m pytest tests/exporter/test_ber_fuzz.py``
(fresh draws, twenty times as many); whatever it finds becomes an explicit case below.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

from exporters.snmp import ber
from exporters.snmp.client import peek_request_id
from tests.exporter import ber_reference

v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

HUNT = bool(os.environ.get("NETOPS_FUZZ_HUNT"))


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples * 20 if HUNT else examples, derandomize=not HUNT, database=None,
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])

arcs = st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=12)
oids = st.tuples(st.integers(0, 2), st.integers(0, 39), arcs).map(lambda t: (t[0], t[1], *t[2]))

values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: ("int", v, v2c.Integer(v))),
    st.binary(max_size=300).map(lambda v: ("str", v, v2c.OctetString(v))),
    st.integers(0, 2**32 - 1).map(lambda v: ("uint", v, v2c.Counter32(v))),
    st.integers(0, 2**32 - 1).map(lambda v: ("uint", v, v2c.Gauge32(v))),
    st.integers(0, 2**32 - 1).map(lambda v: ("uint", v, v2c.TimeTicks(v))),
    st.integers(0, 2**64 - 1).map(lambda v: ("uint", v, v2c.Counter64(v))),
    st.binary(min_size=4, max_size=4).map(lambda v: ("str", v, v2c.IpAddress(v))),
    oids.map(lambda v: ("oid", v, v2c.ObjectIdentifier(v))),
    st.just(("none", None, v2c.Null(""))),
    st.just(("none", None, v2c.NoSuchInstance(""))),
    st.just(("none", None, v2c.EndOfMibView(""))),
)


def pysnmp_response(community: bytes, request_id: int, varbinds) -> bytes:
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    pdu = v2c.GetResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_varbinds(pdu, [(oid, value) for oid, (_kind, _py, value) in varbinds])
    v2c.apiMessage.set_pdu(msg, pdu)
    return encoder.encode(msg)


def lean_value(tag, raw):
    value = ber.value_of(tag, raw)
    return ber.oid_to_tuple(value) if tag == ber.OBJECT_ID else value


@fuzz(300)
@given(st.binary(max_size=40), st.integers(0, 2**31 - 1), st.lists(st.tuples(oids, values), max_size=40))
def test_lean_decoder_reads_what_pysnmp_writes(community, request_id, varbinds):
    wire = pysnmp_response(community, request_id, varbinds)
    got_community, pdu = ber.decode_v2c_message(wire)
    assert got_community == community and pdu.request_id == request_id == peek_request_id(wire)
    assert pdu.tag == ber.RESPONSE and pdu.error_status == 0
    assert len(pdu.varbinds) == len(varbinds)
    for (got_oid, tag, raw), (oid, (kind, expected, _)) in zip(pdu.varbinds, varbinds, strict=True):
        assert ber.oid_to_tuple(got_oid) == oid
        assert lean_value(tag, raw) == (tuple(expected) if kind == "oid" else expected)


@fuzz(200)
@given(st.integers(0, 2**31 - 1), st.lists(oids, min_size=0, max_size=30), st.integers(0, 200),
       st.binary(max_size=30))
def test_pysnmp_reads_what_the_lean_encoder_writes(request_id, request_oids, max_repetitions, community):
    wire = ber.encode_v2c_message(community, ber.encode_pdu(
        ber.GET_BULK_REQUEST, request_id, [ber.encode_subids(o) for o in request_oids], 0, max_repetitions))
    msg, rest = decoder.decode(wire, asn1Spec=v2c.Message())
    assert not rest
    pdu = v2c.apiMessage.get_pdu(msg)
    assert bytes(v2c.apiMessage.get_community(msg)) == community
    assert int(v2c.apiPDU.get_request_id(pdu)) == request_id
    assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == max_repetitions
    assert [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)] == list(request_oids)


@pytest.mark.parametrize("extra_arcs", [59, 60, 120])  # encoded OIDs of 123, 125 and 245 octets
def test_pysnmp_reads_long_request_oids(extra_arcs):
    """OIDs of 124 octets and more take the general TLV code (long-form lengths)."""
    long_oid = (1, 3, 6, 1, 4, 1, *[200] * extra_arcs)
    request_oids = [(1, 3, 6, 1, 2, 1, 1, 3, 0), long_oid, (1, 3, 6, 1, 2, 1, 1, 5, 0)]
    wire = ber.encode_v2c_message(b"public", ber.encode_pdu(
        ber.GET_BULK_REQUEST, 9, [ber.encode_subids(o) for o in request_oids], 0, 25))
    msg, rest = decoder.decode(wire, asn1Spec=v2c.Message())
    assert not rest
    assert [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(msg))] == request_oids


def damage(wire: bytearray, data) -> bytes:
    """The datagram truncated, with 1-4 bits flipped, or with 1-8 random octets spliced in."""
    how = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if how == "truncate":
        wire = wire[: data.draw(st.integers(0, len(wire) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            wire[data.draw(st.integers(0, len(wire) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    else:
        at = data.draw(st.integers(0, len(wire)))
        wire[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    return bytes(wire)


@fuzz(400)
@given(st.lists(st.tuples(oids, values), min_size=1, max_size=10), st.data())
def test_damaged_datagrams_fail_cleanly_or_agree_with_pysnmp(varbinds, data):
    wire = damage(bytearray(pysnmp_response(b"public", 7, varbinds)), data)
    # the lean reader rejects the datagram cleanly (None), or reads exactly what pysnmp reads
    lean = lean_varbinds(wire)
    if lean is not None:
        assert lean == pysnmp_varbinds(wire)


def outcome(reader, wire: bytes):
    """What a reader makes of a datagram: (community, PDU fields), or its BerError's message."""
    try:
        community, pdu = reader.decode_v2c_message(wire)
    except ber.BerError as exc:
        return "BerError", str(exc)
    return community, tuple(pdu)


@fuzz(400)
@given(st.lists(st.tuples(oids, values), min_size=1, max_size=10), st.data())
def test_c_reader_agrees_with_the_python_reader_on_damaged_datagrams(varbinds, data):
    wire = damage(bytearray(pysnmp_response(b"public", 7, varbinds)), data)
    assert outcome(ber, wire) == outcome(ber_reference, wire)


@fuzz(500)
@given(st.binary(max_size=600))
def test_c_reader_agrees_with_the_python_reader_on_random_bytes(blob):
    assert outcome(ber, blob) == outcome(ber_reference, blob)
    # a PDU read at any offset, to any end: the framing above never reaches most of them
    end = len(blob)
    for pos in range(min(end, 8)):
        try:
            expected = tuple(ber_reference.decode_pdu(blob, pos, end))
        except ber.BerError as exc:
            expected = ("BerError", str(exc))
        try:
            got = tuple(ber.decode_pdu(blob, pos, end))
        except ber.BerError as exc:
            got = ("BerError", str(exc))
        assert got == expected


def _switch_answer() -> bytes:
    """A GETBULK answer like a switch's: counters, names, an address, an OID, an exception."""
    rows = []
    for index in (1, 2, 300):
        rows += [((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, index), v2c.Counter64(2**40 + index)),
                 ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, index), v2c.OctetString(f"Gi1/0/{index}".encode())),
                 ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, index), v2c.Integer(1)),
                 ((1, 3, 6, 1, 2, 1, 4, 20, 1, 1, 10, 0, 0, index), v2c.IpAddress(bytes((10, 0, 0, index % 256)))),
                 ((1, 3, 6, 1, 2, 1, 1, 2, index), v2c.ObjectIdentifier((1, 3, 6, 1, 4, 1, 9, 1, 2**20 + index)))]
    rows.append(((1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 3), v2c.EndOfMibView("")))
    return pysnmp_response(b"public", 2**31 - 1, [(oid, (None, None, value)) for oid, value in rows])


def test_every_truncation_and_bit_flip_of_an_answer_reads_as_the_python_reader_reads_it():
    """Exhaustive where the draws sample: each of the answer's prefixes and each single bit
    flipped, in this process (a crash or a leak of the C reader's bounds ends the run)."""
    wire = _switch_answer()
    damaged = [wire[:cut] for cut in range(len(wire))]
    for at in range(len(wire)):
        for bit in range(8):
            flipped = bytearray(wire)
            flipped[at] ^= 1 << bit
            damaged.append(bytes(flipped))
    assert outcome(ber, wire)[1][4] == outcome(ber_reference, wire)[1][4]  # the intact answer reads whole
    for blob in damaged:
        assert outcome(ber, blob) == outcome(ber_reference, blob), blob.hex()


def lean_varbinds(wire: bytes) -> list | None:
    """(OID, value) pairs as the lean reader sees them, None when it rejects the datagram."""
    try:
        _community, pdu = ber.decode_v2c_message(wire)
        return [(ber.oid_to_tuple(oid), lean_value(tag, raw)) for oid, tag, raw in pdu.varbinds]
    except ber.BerError:
        return None


def pysnmp_varbinds(wire: bytes) -> list:
    """The same pairs as pysnmp reads them (raises when pysnmp rejects the datagram)."""
    msg, _rest = decoder.decode(wire, asn1Spec=v2c.Message())
    reference = []
    for oid, value in v2c.apiPDU.get_varbinds(v2c.apiMessage.get_pdu(msg)):
        if value.tagSet in (v2c.Null.tagSet, v2c.NoSuchInstance.tagSet, v2c.NoSuchObject.tagSet,
                            v2c.EndOfMibView.tagSet):
            py = None
        elif value.tagSet == v2c.ObjectIdentifier.tagSet:
            py = tuple(value)
        elif value.tagSet in (v2c.OctetString.tagSet, v2c.IpAddress.tagSet, v2c.Opaque.tagSet):
            py = bytes(value)
        else:
            py = int(value)
        reference.append((tuple(oid), py))
    return reference


def _response_with_value(tag: int, raw: bytes) -> bytes:
    """A v2c response whose one varbind carries ``raw`` as the content of ``tag``,
    whatever the SMI says about it (the lean encoder writes anything)."""
    varbind = ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, ber.parse_oid("1.3.6.1.2.1.1.3.0")) + ber.tlv(tag, raw))
    pdu = ber.tlv(ber.RESPONSE, ber.encode_int(7) + ber.encode_int(0) + ber.encode_int(0)
                  + ber.tlv(ber.SEQUENCE, varbind))
    return ber.encode_v2c_message(b"public", pdu)


SMI_VIOLATIONS = {
    "IpAddress of 1 octet": (ber.IP_ADDRESS, b"\x0a"),
    "IpAddress of 3 octets": (ber.IP_ADDRESS, b"\x0a\x00\x01"),
    "IpAddress of 5 octets": (ber.IP_ADDRESS, b"\x0a\x00\x00\x01\x01"),
    "IpAddress of 0 octets": (ber.IP_ADDRESS, b""),
    "Counter32 of 2**32": (ber.COUNTER32, (2**32).to_bytes(5, "big")),
    "Counter32 negative": (ber.COUNTER32, b"\xff"),
    "Gauge32 of 2**40": (ber.GAUGE32, (2**40).to_bytes(6, "big")),
    "Gauge32 negative 5 octets": (ber.GAUGE32, b"\xff\x00\x00\x00\x00"),
    "TimeTicks of 2**32": (ber.TIMETICKS, (2**32).to_bytes(5, "big")),
    "Counter64 of 2**64": (ber.COUNTER64, (2**64).to_bytes(9, "big")),
    "Counter64 negative": (ber.COUNTER64, b"\x80\x00\x00\x00\x00\x00\x00\x00"),
    "Integer32 of 2**31": (ber.INTEGER, (2**31).to_bytes(5, "big")),
    "Integer32 of -2**31 - 1": (ber.INTEGER, (-(2**31) - 1).to_bytes(5, "big", signed=True)),
    "NULL with content": (ber.NULL, b"\x00"),
    "noSuchInstance with content": (ber.NO_SUCH_INSTANCE, b"\x01"),
}


def test_bytes_after_the_varbind_list_are_rejected_like_pysnmp_does():
    """Found by a hunt: one flipped bit shortened the varbind list to nothing, leaving its
    varbind as a fifth component of the PDU."""
    wire = bytes.fromhex("302002010104067075626c6963a21302010702010002010030003006060100020100")
    assert lean_varbinds(wire) is None
    with pytest.raises(Exception):
        pysnmp_varbinds(wire)


@pytest.mark.parametrize("case", SMI_VIOLATIONS)
def test_values_the_smi_forbids_are_rejected_like_pysnmp_does(case):
    """The draw that once broke `make test` (an IpAddress of one octet) and its relatives:
    the lean reader rejects them, and so does the reference."""
    wire = _response_with_value(*SMI_VIOLATIONS[case])
    with pytest.raises(ber.BerError):
        ber.decode_v2c_message(wire)
    with pytest.raises(Exception):  # pyasn1's ValueConstraintError / PyAsn1Error
        pysnmp_varbinds(wire)


SMI_EDGES = [
    (ber.IP_ADDRESS, b"\xc0\xa8\x00\x01", b"\xc0\xa8\x00\x01"),
    (ber.COUNTER32, (2**32 - 1).to_bytes(5, "big"), 2**32 - 1),
    (ber.GAUGE32, b"\x00", 0),
    (ber.TIMETICKS, (2**31).to_bytes(5, "big"), 2**31),
    (ber.COUNTER64, (2**64 - 1).to_bytes(9, "big"), 2**64 - 1),
    (ber.COUNTER64, (2**63).to_bytes(9, "big"), 2**63),
    (ber.INTEGER, (-(2**31)).to_bytes(4, "big", signed=True), -(2**31)),
    (ber.INTEGER, (2**31 - 1).to_bytes(4, "big"), 2**31 - 1),
]


@pytest.mark.parametrize(("tag", "raw", "value"), SMI_EDGES)
def test_values_at_the_edge_of_their_smi_range_are_read_like_pysnmp_does(tag, raw, value):
    wire = _response_with_value(tag, raw)
    assert lean_varbinds(wire) == pysnmp_varbinds(wire) == [((1, 3, 6, 1, 2, 1, 1, 3, 0), value)]


@given(st.binary(max_size=600))
@fuzz(500)
def test_random_bytes_never_escape_as_other_errors(blob):
    for parse in (ber.decode_v2c_message, peek_request_id):
        try:
            parse(blob)
        except ber.BerError:
            pass


@pytest.mark.parametrize("text", ["1.3.6.1.2.1.31.1.1.1.6.1000000", "1.0.8802.1.1.2.1.4.1.1.9.0.2.1", "2.999.3"])
def test_oid_round_trip(text):
    assert ber.oid_to_str(ber.parse_oid(text)) == text


def _v3_session():
    from exporters.snmp import usm

    session = usm.UsmSession(usm.UsmUser("u", "sha", "auth-key-0123", "aes", "priv-key-4567"))
    session.learn(b"\x80\x00\x1f\x88\x80engine", 1, 100)
    return session


@fuzz(300)
@given(st.lists(st.tuples(oids, st.integers(0, 2**63)), max_size=20), st.data())
def test_damaged_v3_messages_fail_cleanly(rows, data):
    """SNMPv3 framing, MAC and decryption around the same reader: damage is a BerError."""
    session = _v3_session()
    varbinds = b"".join(ber.tlv(ber.SEQUENCE, ber.tlv(ber.OBJECT_ID, ber.encode_subids(o))
                                + ber.tlv(ber.COUNTER64, v.to_bytes(9, "big"))) for o, v in rows)
    pdu = ber.tlv(ber.RESPONSE, ber.encode_int(9) + ber.encode_int(0) + ber.encode_int(0)
                  + ber.tlv(ber.SEQUENCE, varbinds))
    wire = bytearray(session.encode(9, pdu))
    _, intact = _v3_session().decode(bytes(wire))
    assert [(ber.oid_to_tuple(oid), ber.value_of(tag, raw)) for oid, tag, raw in intact.varbinds] == list(rows)
    if data.draw(st.booleans()):
        wire = wire[: data.draw(st.integers(0, len(wire) - 1))]
    else:
        wire[data.draw(st.integers(0, len(wire) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    try:
        _v3_session().decode(bytes(wire))
    except ber.BerError:
        pass


def _varbind_list_message(varbinds: bytes) -> bytes:
    pdu = ber.tlv(ber.RESPONSE, ber.encode_int(7) + ber.encode_int(0) + ber.encode_int(0)
                  + ber.tlv(ber.SEQUENCE, varbinds))
    return ber.encode_v2c_message(b"public", pdu)


HOSTILE = {
    # lengths that claim more than the datagram holds, up to 2**32-1 octets
    "varbind of 4 GiB": _varbind_list_message(b"\x30\x84\xff\xff\xff\xff\x06\x01\x2b\x05\x00"),
    "OID of 4 GiB": _varbind_list_message(ber.tlv(ber.SEQUENCE, b"\x06\x84\xff\xff\xff\xff\x2b\x05\x00")),
    "value of 4 GiB": _varbind_list_message(ber.tlv(ber.SEQUENCE, b"\x06\x01\x2b\x04\x84\xff\xff\xff\xff")),
    "message of 4 GiB": b"\x30\x84\xff\xff\xff\xff" + bytes(20),
    "length of five octets": b"\x30\x85\x00\x00\x00\x00\x10" + bytes(16),
    "length of no octets": b"\x30\x80" + bytes(16),
    "length octets cut off": b"\x30\x84\x00\x00",
    # nesting: sequences inside sequences where a varbind's OID belongs (the reader does not
    # recurse: it expects an OID there)
    "deep nesting": _varbind_list_message(ber.tlv(ber.SEQUENCE, b"\x30\x82\x0f\xa0" * 1000)),
    "nested varbind lists": _varbind_list_message(
        ber.tlv(ber.SEQUENCE, ber.tlv(ber.SEQUENCE, ber.tlv(ber.SEQUENCE, ber.tlv(ber.SEQUENCE, b""))))),
    # values no decoder of a fixed width could hold
    "Counter32 of 2000 octets": _response_with_value(ber.COUNTER32, b"\x7f" + bytes(1999)),
    "Integer32 of 60000 octets": _response_with_value(ber.INTEGER, b"\x80" + bytes(59999)),
    "request-id of 10 octets": ber.encode_v2c_message(b"p", ber.tlv(ber.RESPONSE, ber.tlv(ber.INTEGER, bytes(10)))),
    "empty datagram": b"",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_datagrams_are_a_berror_like_the_python_readers(case):
    """Huge, cut and deeply nested lengths end in BerError, here and in the reference (whose
    only change: a value beyond 1024 octets is named by its size, not printed)."""
    wire = HOSTILE[case]
    got = outcome(ber, wire)
    assert got[0] == "BerError"
    assert got == outcome(ber_reference, wire)


def test_the_c_reader_refuses_arguments_outside_the_data():
    """Positions are checked before any read: no caller can make it read past the buffer."""
    wire = _switch_answer()
    with pytest.raises(ValueError, match="inside the data"):
        ber.decode_pdu(wire, 0, len(wire) + 1)
    with pytest.raises(ValueError, match="inside the data"):
        ber.read_header(wire, -1, len(wire))
    with pytest.raises(TypeError):
        ber.read_header(bytearray(wire), 0, len(wire))


def test_the_exporter_decodes_with_the_compiled_reader_only():
    """One reader in production: ber's decoding entry points are the C module's (no
    pure-Python fallback that a failed build could leave in place unnoticed)."""
    from exporters.snmp import _ber

    assert _ber.__file__.endswith(".so")
    assert (ber.read_header, ber.read_int, ber.read_octets) == (_ber.read_header, _ber.read_int, _ber.read_octets)
    assert ber.BerError is _ber.BerError
    assert not hasattr(ber, "_valid_oid") and not hasattr(ber, "check_smi_range")
