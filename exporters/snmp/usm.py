"""SNMPv3 messages with the User-based Security Model (RFC 3414, 3826, 7860).

Key derivation (password to key, key localisation, the AES-256 key extension) is
pysnmp's own code; this module only frames messages, so that the response path stays on
the lean BER reader instead of pyasn1. HMAC and AES come from the standard library and
``cryptography`` (the library pysnmp itself uses for AES).

Supported: authNoPriv and authPriv with HMAC-SHA-96 / HMAC-SHA-2 (224..512) and
AES-128/256-CFB. Engine discovery and the time window follow RFC 3414 section 4.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache

from exporters.snmp import ber

# pysnmp (key localisation) and cryptography (AES) are imported where they are used:
# an exporter with v2c profiles only never loads them (about 10 MiB of its RSS)

FLAG_AUTH = 0x01
FLAG_PRIV = 0x02
FLAG_REPORTABLE = 0x04
USM = 3
MAX_MESSAGE_SIZE = 65507

# auth protocol -> (hash, length of the truncated MAC in msgAuthenticationParameters)
AUTH_PROTOCOLS = {
    "sha": (hashlib.sha1, 12),
    "sha224": (hashlib.sha224, 16),
    "sha256": (hashlib.sha256, 24),
    "sha384": (hashlib.sha384, 32),
    "sha512": (hashlib.sha512, 48),
}
PRIV_KEY_BYTES = {"aes": 16, "aes256": 32}

#: usmStats counters a Report PDU may carry, and the reason we count them under
REPORT_REASONS = {
    ber.parse_oid("1.3.6.1.6.3.15.1.1.1.0"): "unsupported_security_level",
    ber.parse_oid("1.3.6.1.6.3.15.1.1.2.0"): "not_in_time_window",
    ber.parse_oid("1.3.6.1.6.3.15.1.1.3.0"): "unknown_user",
    ber.parse_oid("1.3.6.1.6.3.15.1.1.4.0"): "unknown_engine_id",
    ber.parse_oid("1.3.6.1.6.3.15.1.1.5.0"): "wrong_digest",
    ber.parse_oid("1.3.6.1.6.3.15.1.1.6.0"): "decryption_error",
}


class UsmError(ber.BerError):
    """A v3 message that fails authentication or decryption."""


@dataclass(frozen=True)
class UsmUser:
    name: str
    auth_protocol: str  # key of AUTH_PROTOCOLS, or "none"
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str = "none"  # key of PRIV_KEY_BYTES, or "none"
    priv_key: str | None = field(default=None, repr=False)
    context: bytes = b""


@lru_cache(maxsize=256)
def _passphrase_digest(passphrase: str, protocol: str) -> bytes:
    """The 1 MiB password hash (RFC 3414 A.2): slow on purpose, so once per passphrase."""
    from pysnmp.proto.secmod.rfc3414 import localkey

    return bytes(localkey.hash_passphrase(passphrase.encode(), AUTH_PROTOCOLS[protocol][0]))


def _localised_keys(user: UsmUser, engine_id: bytes) -> tuple[bytes, bytes]:
    if user.auth_protocol == "none":
        return b"", b""
    from pyasn1.type import univ
    from pysnmp.proto.secmod.rfc3414 import localkey  # first: pysnmp's own import order
    from pysnmp.proto.secmod.eso.priv.aes256 import AesBlumenthal256

    digest = AUTH_PROTOCOLS[user.auth_protocol][0]
    engine = univ.OctetString(engine_id)
    auth = bytes(localkey.localize_key(_passphrase_digest(user.auth_key, user.auth_protocol), engine, digest))
    if user.priv_protocol == "none":
        return auth, b""
    priv_hash = univ.OctetString(_passphrase_digest(user.priv_key, user.auth_protocol))
    if user.priv_protocol == "aes256":
        priv = bytes(AesBlumenthal256().localize_key(_pysnmp_auth_oid(user.auth_protocol), priv_hash, engine))
    else:
        priv = bytes(localkey.localize_key(priv_hash, engine, digest))
    return auth, priv[: PRIV_KEY_BYTES[user.priv_protocol]]


def _aes_cfb(key: bytes, iv: bytes):
    """AES in CFB-128 mode (RFC 3826)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

    try:  # cryptography >= 43 keeps CFB among the "decrepit" modes (still what RFC 3826 mandates)
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
    except ImportError:  # pragma: no cover - older cryptography
        from cryptography.hazmat.primitives.ciphers.modes import CFB
    return Cipher(algorithms.AES(key), CFB(iv))


def _pysnmp_auth_oid(protocol: str):
    from pysnmp.proto.secmod.rfc3414.auth import hmacsha
    from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

    if protocol == "sha":
        return hmacsha.HmacSha.SERVICE_ID
    bits = int(protocol[3:])
    return {224: hmacsha2.HmacSha2.SHA224_SERVICE_ID, 256: hmacsha2.HmacSha2.SHA256_SERVICE_ID,
            384: hmacsha2.HmacSha2.SHA384_SERVICE_ID, 512: hmacsha2.HmacSha2.SHA512_SERVICE_ID}[bits]


class UsmSession:
    """One (agent, user) pair: the discovered engine, localised keys, the clock."""

    def __init__(self, user: UsmUser):
        self.user = user
        self.engine_id = b""
        self.boots = 0
        self.engine_time = 0
        self._time_origin = 0.0
        self.auth_key = b""
        self.priv_key = b""
        self._salt = int.from_bytes(os.urandom(8), "big")
        self.proven = False  # an answer to our request read with these keys: silence since is not a key

    @property
    def discovered(self) -> bool:
        return bool(self.engine_id)

    def learn(self, engine_id: bytes, boots: int, engine_time: int) -> None:
        if engine_id != self.engine_id:
            self.engine_id = engine_id
            self.auth_key, self.priv_key = _localised_keys(self.user, engine_id)
        self.boots, self.engine_time, self._time_origin = boots, engine_time, time.monotonic()

    @property
    def flags(self) -> int:
        if self.user.auth_protocol == "none":
            return FLAG_REPORTABLE
        return FLAG_REPORTABLE | FLAG_AUTH | (FLAG_PRIV if self.user.priv_protocol != "none" else 0)

    def discovery_message(self, msg_id: int) -> bytes:
        """An empty unauthenticated GET: the agent answers with a Report carrying its
        engine ID, boots and time."""
        pdu = ber.encode_pdu(ber.GET_REQUEST, msg_id, [])
        return self._frame(msg_id, FLAG_REPORTABLE, b"", 0, 0, b"", b"", b"",
                           ber.tlv(ber.SEQUENCE, ber.tlv(4, b"") + ber.tlv(4, b"") + pdu))

    def encode(self, msg_id: int, pdu: bytes) -> bytes:
        flags = self.flags
        scoped = ber.tlv(ber.SEQUENCE, ber.tlv(4, self.engine_id) + ber.tlv(4, self.user.context) + pdu)
        engine_time = self.engine_time + int(time.monotonic() - self._time_origin)
        priv_params = b""
        if flags & FLAG_PRIV:
            self._salt = (self._salt + 1) & 0xFFFFFFFFFFFFFFFF
            priv_params = self._salt.to_bytes(8, "big")
            iv = self.boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + priv_params
            encryptor = _aes_cfb(self.priv_key, iv).encryptor()
            scoped = ber.tlv(ber.OCTET_STRING, encryptor.update(scoped) + encryptor.finalize())
        mac_len = AUTH_PROTOCOLS[self.user.auth_protocol][1] if flags & FLAG_AUTH else 0
        message, mac_at = self._frame_with_offset(msg_id, flags, self.engine_id, self.boots, engine_time,
                                                  self.user.name.encode(), bytes(mac_len), priv_params, scoped)
        if mac_len:
            mac = hmac.new(self.auth_key, message, AUTH_PROTOCOLS[self.user.auth_protocol][0]).digest()
            message = message[:mac_at] + mac[:mac_len] + message[mac_at + mac_len :]
        return message

    def _frame(self, *args) -> bytes:
        return self._frame_with_offset(*args)[0]

    @staticmethod
    def _frame_with_offset(msg_id, flags, engine_id, boots, engine_time, user, auth_params, priv_params, data):
        global_data = ber.tlv(ber.SEQUENCE, ber.encode_int(msg_id) + ber.encode_int(MAX_MESSAGE_SIZE)
                              + ber.tlv(4, bytes((flags,))) + ber.encode_int(USM))
        head = (ber.tlv(4, engine_id) + ber.encode_int(boots) + ber.encode_int(engine_time)
                + ber.tlv(4, user))
        auth_tlv = ber.tlv(4, auth_params)
        sec_content = head + auth_tlv + ber.tlv(4, priv_params)
        sec_seq = ber.tlv(ber.SEQUENCE, sec_content)
        sec_octets = ber.tlv(4, sec_seq)
        message = ber.tlv(ber.SEQUENCE, b"\x02\x01\x03" + global_data + sec_octets + data)
        # where the MAC goes: the security parameters come first after the global data
        mac_at = (message.index(sec_octets) + (len(sec_octets) - len(sec_seq))
                  + (len(sec_seq) - len(sec_content)) + len(head) + (len(auth_tlv) - len(auth_params)))
        return message, mac_at

    def decode(self, data: bytes) -> tuple[int, ber.Pdu]:
        """(msgID, PDU) of a response; checks the MAC and decrypts. Unauthenticated
        Reports (discovery, wrong key...) come back as they are, for the caller to judge."""
        tag, pos, end = ber.read_header(data, 0, len(data))
        if tag != ber.SEQUENCE:
            raise ber.BerError("not an SNMP message")
        version, pos = ber.read_int(data, pos, end)
        if version != 3:
            raise ber.BerError(f"unexpected SNMP version {version}")
        tag, gpos, pos = ber.read_header(data, pos, end)
        msg_id, gpos = ber.read_int(data, gpos, pos)
        _max_size, gpos = ber.read_int(data, gpos, pos)
        flags_raw, gpos = ber.read_octets(data, gpos, pos)
        if len(flags_raw) != 1:
            raise ber.BerError("bad msgFlags")
        flags = flags_raw[0]
        sec_raw, pos = ber.read_octets(data, pos, end)
        sec_start = pos - len(sec_raw)
        tag, spos, send = ber.read_header(data, sec_start, pos)
        engine_id, spos = ber.read_octets(data, spos, send)
        boots, spos = ber.read_int(data, spos, send)
        engine_time, spos = ber.read_int(data, spos, send)
        _user, spos = ber.read_octets(data, spos, send)
        mac, spos = ber.read_octets(data, spos, send)
        mac_at = spos - len(mac)
        priv_params, spos = ber.read_octets(data, spos, send)
        if not (0 <= boots < 2**31 and 0 <= engine_time < 2**31):
            raise ber.BerError("engine boots or time out of range")
        if flags & FLAG_AUTH:
            if not self.auth_key:
                raise UsmError("authenticated message before discovery")
            hash_fn, mac_len = AUTH_PROTOCOLS[self.user.auth_protocol]
            if len(mac) != mac_len:
                raise UsmError("wrong MAC length")
            blank = data[:mac_at] + bytes(mac_len) + data[mac_at + mac_len :]
            expected = hmac.new(self.auth_key, blank, hash_fn).digest()[:mac_len]
            if not hmac.compare_digest(expected, mac):
                raise UsmError("response MAC does not verify")
            # an authentic message is the clock we trust (RFC 3414 3.2 step 7b)
            if boots > self.boots or (boots == self.boots and engine_time > self.engine_time):
                self.learn(engine_id, boots, engine_time)
        if flags & FLAG_PRIV:
            if not self.priv_key or len(priv_params) != 8:
                raise UsmError("cannot decrypt")
            encrypted, _ = ber.read_octets(data, pos, end)
            iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + priv_params
            decryptor = _aes_cfb(self.priv_key, iv).decryptor()
            scoped = decryptor.update(encrypted) + decryptor.finalize()
            spos, send = 0, len(scoped)
        else:
            scoped, spos, send = data, pos, end
        tag, spos, send = ber.read_header(scoped, spos, send)
        if tag != ber.SEQUENCE:
            raise UsmError("scoped PDU does not decode (wrong privacy key?)")
        _ctx_engine, spos = ber.read_octets(scoped, spos, send)
        _ctx_name, spos = ber.read_octets(scoped, spos, send)
        pdu = ber.decode_pdu(scoped, spos, send)
        needed = self.flags & (FLAG_AUTH | FLAG_PRIV)
        if pdu.tag != ber.REPORT and flags & needed != needed:
            # a response below our security level is not one (RFC 3412 7.2 step 13)
            raise UsmError("response without the profile's authentication or privacy")
        return msg_id, pdu

    def report_engine(self, data: bytes) -> tuple[bytes, int, int]:
        """engine ID, boots, time of an (unauthenticated) message: for discovery, and for
        every re-learning after a notInTimeWindow report. BerError when the engine ID is
        none: RFC 3411's snmpEngineID is 5 to 32 octets; our own discovery message sent back
        has none, and keys localised to no engine fail in the cipher."""
        tag, pos, end = ber.read_header(data, 0, len(data))
        _, pos = ber.read_int(data, pos, end)
        _, _, pos = ber.read_header(data, pos, end)
        sec_raw, _ = ber.read_octets(data, pos, end)
        _, spos, send = ber.read_header(sec_raw, 0, len(sec_raw))
        engine_id, spos = ber.read_octets(sec_raw, spos, send)
        boots, spos = ber.read_int(sec_raw, spos, send)
        engine_time, spos = ber.read_int(sec_raw, spos, send)
        if not 5 <= len(engine_id) <= 32:
            raise ber.BerError(f"an engine ID of {len(engine_id)} octets where the agent's (5 to 32) belongs")
        return engine_id, boots, engine_time


def report_reason(pdu: ber.Pdu) -> str:
    for oid, _tag, _raw in pdu.varbinds:
        reason = REPORT_REASONS.get(oid)
        if reason:
            return reason
    return "report"
