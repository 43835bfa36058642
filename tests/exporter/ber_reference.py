"""The pure-Python BER reader the exporter used until session 6: the tests' reference, not production.

The exporter decodes with the C reader (``exporters/snmp/_ber.c`` behind
``exporters.snmp.ber``); tests/exporter/test_ber_fuzz.py holds it to this reader (the same
varbinds, or the same BerError message, on every draw) and to pysnmp. Kept as it was, with
one change: a value out of range is named by its size beyond 1024 octets (Python prints no
int past 4300 digits: such a datagram raised a plain ValueError here).
"""

from __future__ import annotations

import re

from exporters.snmp.ber import (
    END_OF_MIB_VIEW, GET_BULK_REQUEST, GET_NEXT_REQUEST, GET_REQUEST, INTEGER, IP_ADDRESS, NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT, NULL, OBJECT_ID, OCTET_STRING, COUNTER32, COUNTER64, GAUGE32, OPAQUE, REPORT, RESPONSE,
    SEQUENCE, TIMETICKS, BerError, EXCEPTION_TAGS, Pdu,
)

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


#: a value out of range is named in decimal up to this many octets (as in _ber.c)
MAX_DECIMAL_OCTETS = 1024


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
            # read_header inlined as the former production reader had it (its hot path), kept
            # as it was so the reference's error texts stay those _ber.c is held to; the
            # checks after it catch overruns.
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
        octets = (max(value, ~value).bit_length() + 8) // 8  # its minimal two's complement encoding
        if octets > MAX_DECIMAL_OCTETS:
            raise BerError(f"value of {octets} octets out of range for tag 0x{tag:02x}")
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
