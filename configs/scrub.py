"""Secret scrubbing and volatile-line removal, applied before a config is stored,
audited, diffed or printed.

Secrets are found by what precedes them, not by what they look like (the approach of
Oxidized's per-model ``cmd :secret`` rules): a token after ``enable secret 9``,
``snmp-server community``, ``key 7``, ``auth sha``, ``encrypted-password`` ... is
replaced by ``<removed>`` while the keywords stay, so compliance rules can still see
that an ``enable secret`` (and not an ``enable password``) is configured. One list
covers every platform: a Junos pattern never matches an IOS line, and a union is safer
than forgetting a platform. Every value the caller already knows to be secret (the SSH
passwords from the secret store) is masked as well, wherever it appears.

Volatile lines (clock, "last configuration change", ``ntp clock-period``...) are
dropped so that an unchanged device produces no diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netops.secrets import Secret

REMOVED = "<removed>"

# a secret value: a quoted string (ProCurve, Junos) or one token
_VALUE = r'(?P<secret>"[^"]*"|\S+)'
# an optional Cisco encryption type (0, 5, 7, 8, 9) when another token follows it
_TYPE = r"(?: \d{1,2}(?= \S))?"

SECRET_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # Cisco IOS / IOS-XE
        rf"^enable (?:secret|password)(?: level \d+)?{_TYPE} {_VALUE}",
        rf"^username \S+.*? (?:secret|password){_TYPE} {_VALUE}",
        rf"^\s+(?:password|secret){_TYPE} {_VALUE}",
        rf"^snmp-server community {_VALUE}",
        rf"^snmp-server host \S+(?: vrf \S+)?(?: informs| traps)?(?: version (?:1|2c))? (?!version\b){_VALUE}",
        rf"^(?:tacacs|radius)-server\b.*? key{_TYPE} {_VALUE}",
        rf"^\s+key{_TYPE} {_VALUE}",
        rf"\bkey-string{_TYPE} {_VALUE}",
        rf"^crypto isakmp key{_TYPE} {_VALUE}",
        rf"\bpre-shared-key(?: local| remote)?(?: ascii-text| hexadecimal)?{_TYPE} {_VALUE}",
        rf"\bwpa-psk (?:ascii|hex){_TYPE} {_VALUE}",
        rf"\bip ospf (?:authentication-key|message-digest-key \d+ md5){_TYPE} {_VALUE}",
        rf"\bneighbor \S+ password{_TYPE} {_VALUE}",
        rf"\bstandby \d+ authentication(?: md5 key-string| text)?{_TYPE} {_VALUE}",
        rf"\bppp (?:chap|pap) (?:password|sent-username \S+ password){_TYPE} {_VALUE}",
        # SNMPv3 users: IOS `auth sha KEY priv aes 128 KEY`, ProCurve `auth sha "KEY" priv aes "KEY"`
        rf"\bauth (?:md5|sha|sha224|sha256|sha384|sha512) {_VALUE}",
        rf"\bpriv (?:des|des56|3des|aes)(?: \d{{3}})? {_VALUE}",
        # HP ProCurve / ArubaOS-Switch (include-credentials)
        rf"^password (?:manager|operator)\b.*? (?:plaintext|sha1|sha-256) {_VALUE}",
        # Aruba OS (controllers / instant APs)
        rf"^mgmt-user \S+ \S+ {_VALUE}",
        rf"\bwpa-passphrase {_VALUE}",
        # Junos (set or curly format)
        r"\b(?:encrypted-password|plain-text-password-value|authentication-key|privacy-key"
        r'|authentication-password|privacy-password|secret) (?P<secret>"[^"]*")',  # always quoted
        rf"^(?:set )?snmp community {_VALUE}",
        rf"^\s*community {_VALUE}(?= \{{|;)",
    )
)

VOLATILE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^Building configuration\.\.\.\s*$",
        r"^Current configuration ?: \d+ bytes\s*$",
        r"^! (?:Last configuration change|NVRAM config last updated) at .*",
        r"^! No configuration change since last restart\s*$",
        r"^\s*! Time: .*",
        r"^ntp clock-period \d+\s*$",
        r"^## Last (?:commit|changed): .*",
        r".* uptime is .*",
        r"^\s*(?:Load for five secs|Time source is) .*",
    )
)


@dataclass(frozen=True)
class Scrubbed:
    text: str
    secrets_removed: int
    volatile_removed: int


def scrub_config(raw: str, known_secrets: list[Secret] = ()) -> Scrubbed:
    """The config as it may be written anywhere: no secrets, no volatile lines."""
    kept: list[str] = []
    removed_secrets = volatile = 0
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if any(p.match(line) for p in VOLATILE_PATTERNS):
            volatile += 1
            continue
        for secret in known_secrets:
            value = secret.reveal()
            if value and value in line:
                line = line.replace(value, REMOVED)
                removed_secrets += 1
        line, n = _mask_line(line)
        removed_secrets += n
        kept.append(line.rstrip())
    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    return Scrubbed("\n".join(kept) + "\n", removed_secrets, volatile)


def _mask_line(line: str) -> tuple[str, int]:
    count = 0
    for pattern in SECRET_PATTERNS:
        spans = [m.span("secret") for m in pattern.finditer(line) if m.group("secret") != REMOVED]
        for start, end in reversed(spans):
            line = line[:start] + REMOVED + line[end:]
            count += 1
    return line, count
