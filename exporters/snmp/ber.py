"""The lean SNMP codec: just enough BER for GET/GETBULK requests and their responses.

Why not pyasn1 (pysnmp's codec)? Decoding a 100-varbind GETBULK response with pyasn1
costs about 44 µs per varbind, and an exporter spends nearly all its time there. The
reader is C (``_ber.c``, built by ``pip install -e .``: setup.py): the pure-Python one it
replaced cost ~7.4k instructions a varbind, half of a scrape with its labels walked. It is
fuzzed differentially against pysnmp's own decoder and against that Python reader, kept
as the tests' reference (``tests/exporter/test_ber_fuzz.py``, ``ber_reference.py``).
Encoding stays here in Python (a dozen small requests a scrape).

Object identifiers stay in their encoded form (``bytes`` of the sub-identifiers, no tag
or length): a column prefix test is then ``oid.startswith(column)`` because BER
sub-identifiers are self-delimiting, and the row index is the tail after the column.
Use :func:`oid_to_tuple` only where numeric order matters.

Every decode error raises :class:`BerError` (never IndexError or a silent garbage value),
so a malformed or truncated datagram is counted by reason and dropped. That includes values
the SMI forbids (RFC 2578): an IpAddress not 4 octets long, a Counter32, Gauge32 or
TimeTicks beyond 32 bits unsigned, a Counter64 beyond 64, an Integer32 beyond 32 bits
signed; the modules read numbers straight from the octets, so the decoder is the gate.
"""

from __future__ import annotations

from typing import NamedTuple

try:
    from exporters.snmp import _ber
except ImportError as exc:  # no silent fallback: the exporter has one reader, the compiled one
    raise ImportError(f"the exporter's BER reader (exporters/snmp/_ber.c) is not built ({exc}): "
                      "run `make .venv/.installed` or `pip install -e .` (needs a C compiler and "
                      "the Python headers)") from exc

# ASN.1 / SNMP tags
INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_ID = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
OPAQUE = 0x44
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

GET_REQUEST = 0xA0
GET_NEXT_REQUEST = 0xA1
RESPONSE = 0xA2
GET_BULK_REQUEST = 0xA5
REPORT = 0xA8

#: varbind "values" that say there is no value
EXCEPTION_TAGS = frozenset((NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW))


#: value tags whose content is a number (its SMI range checked by the reader, RFC 2578 7.1)
NUMERIC_TAGS = frozenset((INTEGER, COUNTER32, GAUGE32, TIMETICKS, COUNTER64))

#: A datagram that is not a well-formed SNMP message (a ValueError; raised by the C reader)
BerError = _ber.BerError


#: a decoded varbind: (oid, tag, raw), the OID's encoded sub-identifiers (see above), the
#: value's tag and its octets as received. A plain tuple, read by unpacking: building a
#: NamedTuple instance instead cost 30 % of the decoder's time (~1000 varbinds a scrape)
VarBind = tuple[bytes, int, bytes]


class Pdu(NamedTuple):
    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


# ----------------------------------------------------------------------------- encoding
def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, value: bytes) -> bytes:
    return header(tag, len(value)) + value


def header(tag: int, length: int) -> bytes:
    """Tag and length octets of a TLV whose content is ``length`` octets long."""
    if length < 0x80:
        return bytes((tag, length))
    return bytes((tag,)) + encode_length(length)


def encode_int(value: int) -> bytes:
    if 0 <= value < 128:  # non-repeaters, max-repetitions, the version: every request has some
        return _SMALL_INTS[value]
    return tlv(INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


_SMALL_INTS = [bytes((INTEGER, 1, value)) for value in range(128)]


def encode_arcs(arcs) -> bytes:
    """Base-128 sub-identifiers, no first-arc folding: a table index."""
    out = bytearray()
    for arc in arcs:
        if arc < 0:
            raise ValueError(f"negative arc {arc}")
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def encode_subids(oid: tuple[int, ...] | list[int]) -> bytes:
    """Content octets of an OID (first two arcs folded, base-128 sub-identifiers)."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39):
        raise ValueError(f"not an encodable OID: {oid!r}")
    return encode_arcs((oid[0] * 40 + oid[1], *oid[2:]))


def parse_oid(text: str) -> bytes:
    """'1.3.6.1.2.1.1.3.0' -> encoded sub-identifiers."""
    try:
        return encode_subids(tuple(int(part) for part in text.strip(".").split(".")))
    except ValueError as exc:
        raise ValueError(f"not a numeric OID: {text!r}") from exc


def decode_subids(encoded: bytes) -> tuple[int, ...]:
    """Sub-identifiers of an encoded OID tail (no first-arc folding): an index."""
    if encoded.isascii():  # every octet a whole arc below 128: the usual interface index
        return tuple(encoded)
    out = []
    value = 0
    for byte in encoded:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(value)
            value = 0
    if encoded and encoded[-1] & 0x80:
        raise BerError("OID ends inside a sub-identifier")
    return tuple(out)


def index_str(encoded: bytes) -> str:
    """A table index as Prometheus label text: '3' or '0.12.1'."""
    if len(encoded) == 1 and encoded[0] < 0x80:  # an ifIndex below 128
        return str(encoded[0])
    return ".".join(map(str, decode_subids(encoded)))


def oid_to_tuple(encoded: bytes) -> tuple[int, ...]:
    arcs = decode_subids(encoded)
    if not arcs:
        return ()
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return head + arcs[1:]


def oid_to_str(encoded: bytes) -> str:
    return ".".join(map(str, oid_to_tuple(encoded)))


def encode_pdu(tag: int, request_id: int, oids: list[bytes], non_repeaters: int = 0, max_repetitions: int = 0) -> bytes:
    """A request PDU whose varbinds carry NULL values. For GETBULK the two error fields
    carry non-repeaters and max-repetitions (RFC 3416)."""
    varbinds = b"".join([_NULL_VARBIND_HEAD[len(oid)] + oid + b"\x05\x00" if len(oid) < 124 else _null_varbind(oid)
                         for oid in oids])
    body = b"".join((encode_int(request_id), encode_int(non_repeaters), encode_int(max_repetitions),
                     header(SEQUENCE, len(varbinds)), varbinds))  # one copy of the varbinds, not three
    return header(tag, len(body)) + body


#: SEQUENCE { oid, NULL } up to the OID, by OID length: a walk sends ~11 GETBULKs of up to
#: 19 varbinds per scrape, so short OIDs (all real ones) skip the general TLV code
_NULL_VARBIND_HEAD = [bytes((SEQUENCE, length + 4, OBJECT_ID, length)) for length in range(124)]


def _null_varbind(oid: bytes) -> bytes:
    return tlv(SEQUENCE, tlv(OBJECT_ID, oid) + b"\x05\x00")


def encode_v2c_message(community: bytes, pdu: bytes) -> bytes:
    head = b"\x02\x01\x01" + tlv(OCTET_STRING, community)
    return b"".join((header(SEQUENCE, len(head) + len(pdu)), head, pdu))


# ----------------------------------------------------------------------------- decoding
#: read_header(data, pos, end) -> (tag, content start, content end) of the TLV at ``pos``;
#: read_int -> (value, end), read_octets -> (content, end): the C reader's, checked against ``end``
read_header, read_int, read_octets = _ber.read_header, _ber.read_int, _ber.read_octets


def decode_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """The PDU from ``pos`` to ``end``, varbinds checked against the SMI (the C reader)."""
    return Pdu._make(_ber.decode_pdu(data, pos, end))


def decode_v2c_message(data: bytes) -> tuple[bytes, Pdu]:
    """(community, PDU) of an SNMPv1/v2c message (the C reader)."""
    community, fields = _ber.decode_v2c_message(data)
    return community, Pdu._make(fields)


def value_of(tag: int, raw: bytes) -> int | bytes | None:
    """A decoded varbind's value in Python terms: int for numbers, bytes for
    strings/addresses/OIDs (OIDs encoded), None for NULL and the exceptions. The reader
    has checked the number against its SMI range."""
    if tag in NUMERIC_TAGS:
        return int.from_bytes(raw, "big", signed=True)
    if tag in EXCEPTION_TAGS or tag == NULL:
        return None
    return raw
