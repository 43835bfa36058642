"""The lean SNMP codec: just enough BER for GET/GETBULK requests and their responses.

Why not pyasn1 (pysnmp's codec)? Decoding a 100-varbind GETBULK response with pyasn1
costs about 44 µs per varbind; this reader costs well under 1 µs, and an exporter spends
nearly all its time there. It is fuzzed differentially against pysnmp's own decoder
(``tests/exporter/test_ber_fuzz.py``).

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

import re
from typing import NamedTuple

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
_SCALAR_TAGS = frozenset(
    (INTEGER, OCTET_STRING, NULL, OBJECT_ID, IP_ADDRESS, COUNTER32, GAUGE32, TIMETICKS, OPAQUE, COUNTER64)
) | EXCEPTION_TAGS
_PDU_TAGS = frozenset((RESPONSE, REPORT, GET_REQUEST, GET_NEXT_REQUEST, GET_BULK_REQUEST))


#: SMI value ranges (RFC 2578 section 7.1): what pysnmp enforces and Prometheus can trust
_SMI_RANGE = {
    INTEGER: (-(2**31), 2**31 - 1),
    COUNTER32: (0, 2**32 - 1),
    GAUGE32: (0, 2**32 - 1),
    TIMETICKS: (0, 2**32 - 1),
    COUNTER64: (0, 2**64 - 1),
}
#: what the hot loop checks, by value tag (a list: indexing is cheaper than a dict look-up
#: on every varbind): for unsigned types the octets of their largest value's minimal
#: encoding (a leading zero, then 4 or 8), so the common cases are decided from the length
#: and the first octet without building an int; Integer32 at most 4 octets; IpAddress 4;
#: NULL and the exceptions no content
_EMPTY_RULE, _IP_RULE, _INT32_RULE = 1, 2, 4
_RULES = {COUNTER32: 5, GAUGE32: 5, TIMETICKS: 5, COUNTER64: 9, INTEGER: _INT32_RULE, IP_ADDRESS: _IP_RULE,
          NULL: _EMPTY_RULE, NO_SUCH_OBJECT: _EMPTY_RULE, NO_SUCH_INSTANCE: _EMPTY_RULE, END_OF_MIB_VIEW: _EMPTY_RULE}
_SMI_RULE = [_RULES.get(tag, 0) for tag in range(256)]

#: a sub-identifier must not start with 0x80 (X.690 8.19.2): the same arc could be spelt twice
_NON_MINIMAL_ARC = re.compile(rb"(?:^|[\x00-\x7f])\x80").search


class BerError(ValueError):
    """A datagram that is not a well-formed SNMP message."""


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
def read_header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at ``pos``, checked against ``end``."""
    if pos + 2 > end:
        raise BerError("truncated TLV header")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BerError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    stop = pos + length
    if stop > end:
        raise BerError("truncated value")
    return tag, pos, stop


def read_int(data: bytes, pos: int, end: int) -> tuple[int, int]:
    tag, start, stop = read_header(data, pos, end)
    if tag != INTEGER or start == stop or stop - start > 9:
        raise BerError("expected INTEGER")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def read_octets(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    tag, start, stop = read_header(data, pos, end)
    if tag != OCTET_STRING:
        raise BerError("expected OCTET STRING")
    return data[start:stop], stop


def decode_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """The PDU starting at ``pos``: the hot loop of the exporter."""
    tag, pos, pdu_end = read_header(data, pos, end)
    if tag not in _PDU_TAGS:
        raise BerError(f"not an SNMP PDU (tag 0x{tag:02x})")
    if pdu_end != end:
        raise BerError("bytes after the PDU inside its message")
    request_id, pos = read_int(data, pos, pdu_end)
    error_status, pos = read_int(data, pos, pdu_end)
    error_index, pos = read_int(data, pos, pdu_end)
    if error_index < 0 or error_status < 0 or (error_status > 18 and tag != GET_BULK_REQUEST):
        raise BerError("error-status or error-index out of range")  # RFC 3416: 0..18, 0..max-bindings
    seq_tag, pos, vbl_end = read_header(data, pos, pdu_end)
    if seq_tag != SEQUENCE:
        raise BerError("expected varbind list")
    if vbl_end != pdu_end:  # pysnmp refuses a PDU with more components than its four
        raise BerError("bytes after the varbind list inside the PDU")
    varbinds = []
    append = varbinds.append
    try:
        while pos < vbl_end:
            # read_header inlined on purpose (this loop is the exporter's hot path): nearly
            # every varbind, OID and value is short-form; the checks after it catch overruns.
            if data[pos] != SEQUENCE:
                raise BerError("expected varbind")
            length = data[pos + 1]
            pos += 2
            if length & 0x80:
                count = length & 0x7F
                if not 0 < count <= 4:
                    raise BerError("bad length")
                length = int.from_bytes(data[pos : pos + count], "big")
                pos += count
            vb_end = pos + length
            if data[pos] != OBJECT_ID:
                raise BerError("expected OBJECT IDENTIFIER")
            length = data[pos + 1]
            if length & 0x80:
                _, start, pos = read_header(data, pos, vb_end)
                oid = data[start:pos]
            else:
                oid = data[pos + 2 : pos + 2 + length]
                pos += 2 + length
            value_tag = data[pos]
            length = data[pos + 1]
            pos += 2
            if length & 0x80:
                count = length & 0x7F
                if not 0 < count <= 4:
                    raise BerError("bad length")
                length = int.from_bytes(data[pos : pos + count], "big")
                pos += count
            stop = pos + length
            if stop != vb_end or not oid or value_tag not in _SCALAR_TAGS:
                raise BerError("malformed varbind")
            rule = _SMI_RULE[value_tag]
            if rule:
                if rule > _INT32_RULE:  # unsigned: out of range, or leading zero octets, for a closer look
                    if not (0 < length < rule and data[pos] < 0x80 or length == rule and data[pos] == 0):
                        check_smi_range(value_tag, data[pos:stop])
                elif rule == _INT32_RULE:
                    if not 0 < length <= 4:
                        check_smi_range(value_tag, data[pos:stop])
                elif rule == _IP_RULE:
                    if length != 4:
                        raise BerError(f"IpAddress of {length} octets (the SMI says 4)")
                elif length:
                    raise BerError("NULL or exception value with content")
            # one octet per arc (every real interface OID): no sub-identifier to check; else
            # the OID must not end inside an arc nor spell one with a leading 0x80 octet
            if not oid.isascii() and not _valid_oid(oid):
                raise BerError("OID sub-identifier that is cut short or starts with a 0x80 octet")
            if value_tag == OBJECT_ID and not (pos < stop and _valid_oid(data[pos:stop])):
                raise BerError("OID value that is empty, cut short or has a 0x80-led sub-identifier")
            append((oid, value_tag, data[pos:stop]))
            pos = stop
    except IndexError:
        raise BerError("truncated varbind") from None
    if pos != vbl_end:
        raise BerError("varbind list overruns its sequence")
    return Pdu(tag, request_id, error_status, error_index, varbinds)


def _valid_oid(encoded: bytes) -> bool:
    """Encoded sub-identifiers that pysnmp accepts too: the last octet ends an arc (else it
    would smear into the next), and no arc starts with 0x80 (X.690 8.19.2)."""
    return not encoded[-1] & 0x80 and not (0x80 in encoded and _NON_MINIMAL_ARC(encoded))


def check_smi_range(tag: int, raw: bytes) -> int:
    """The value of a numeric varbind, or BerError when it does not fit its SMI type
    (a Counter32 of 2**32, a negative Gauge32, a 9-octet Integer32, an empty value)."""
    if not raw:
        raise BerError(f"empty value for tag 0x{tag:02x}")
    value = int.from_bytes(raw, "big", signed=True)
    low, high = _SMI_RANGE[tag]
    if not low <= value <= high:
        raise BerError(f"value {value} out of range for tag 0x{tag:02x}")
    return value


def decode_v2c_message(data: bytes) -> tuple[bytes, Pdu]:
    """(community, PDU) of an SNMPv1/v2c message."""
    tag, pos, end = read_header(data, 0, len(data))
    if tag != SEQUENCE:
        raise BerError("not an SNMP message")
    version, pos = read_int(data, pos, end)
    if version not in (0, 1):
        raise BerError(f"unexpected SNMP version {version}")
    community, pos = read_octets(data, pos, end)
    return community, decode_pdu(data, pos, end)


def value_of(tag: int, raw: bytes) -> int | bytes | None:
    """A varbind value in Python terms: int for numbers, bytes for strings/addresses/OIDs
    (OIDs encoded), None for NULL and the exceptions."""
    if tag in _SMI_RANGE:
        return check_smi_range(tag, raw)
    if tag in EXCEPTION_TAGS or tag == NULL:
        return None
    return raw
