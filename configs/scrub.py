"""Secret scrubbing and volatile-line removal, applied before a config is stored,
audited, diffed or printed.

Fail safe by design: secrets are found by their *position*, not by a list of known
lines. Every line is split into tokens (a quoted string is one token, a value that only
starts with a quote or holds one is not cut at it: the grammar is in :func:`_tokens`) and
read left to right; a credential keyword arms the reader, and the first token after it that is not
a key ID, an encryption type or an algorithm name is the value and is replaced:

    snmp-server community PUBLIC RO 10        -> community <secret:...> RO 10
    ntp authentication-key 5 md5 VALUE 7      -> 5 (key ID) and md5 kept, VALUE replaced
    password manager user-name "u" plaintext "V"  -> "u" kept, "<secret:...>"
    set system ntp authentication-key 2 type md5 value "$9$..."

Credential keywords: ``password``, ``secret``, ``key``, ``key-string``, ``community``,
``authentication``, ``pre-shared-key``, ``passphrase``, ``psk``, SNMPv3 ``auth``/``priv``/
``privacy`` (after an algorithm), every word ending in ``-password``, ``-passwd``,
``-secret``, ``-key``, ``-passphrase``, ``-pass``, ``-pwd``, ``-pw``, ``-community`` (also
after ``_`` or ``.``: ``_email_password``, ``users.1.password``), and the encodings and
digests that introduce a value (``md5``, ``sha*``, ``text``, ``plaintext``, ``ciphertext``,
``encrypted``, ``ascii-text``, ``hexadecimal``...). Encodings in front of a value are
skipped (``7``, IOS-XR ``10``, FortiOS ``ENC``, Huawei/Comware ``cipher``/``simple``/``plain``,
Comware ``hash``).

``name=value`` pairs (MikroTik ``/export``, airOS, FortiOS ``#private-encryption-key=``)
are read the same way: a credential name's value is the token after ``=``, quoted or not;
a MikroTik line continued with a backslash is one statement. In sections that list
communities (MikroTik ``/snmp community``, FortiOS ``config system snmp community``) the
``name`` is the value. A syntax nobody listed is caught because its
keyword is one of these words; what is *not* a value is the short, reviewed list
(key IDs, encryption types, ``aaa authentication login ...``, ``password
minimum-length``, ``key chain NAME``, BGP ``set community``...), so a mistake there
over-masks (a line loses meaning) instead of leaking.

Huawei (the OLTs): ``cipher``, ``simple`` and ``irreversible-cipher`` name the encoding of
the value after them, ``snmp-agent community read|write cipher|simple VALUE`` puts access
and encoding first, and ``password-auth`` (an ONT's password), ``checkcode``,
``securityname`` (a v2c trap target's community), ``authentication-mode`` and
``privacy-mode`` (SNMPv3) introduce values.

Anywhere in a line, also in descriptions and banners: crypt strings (``$1$``, ``$5$``,
``$6$``, ``$8$``, ``$9$``, ``$14$``...), Huawei's fenced ciphertexts (``%^%#...%^%#``,
``%$%$...%$%$``, ``%@%@...%@%@``, ``%#%#...%#%#``), the password in a URL's userinfo
(``scp://user:PASS@host``), an HTTP header's credentials (``Authorization: Basic V``), Junos
``## SECRET-DATA`` lines, and every value the caller
already knows to be secret (the SSH passwords from the secret store). Positional
values without a keyword: the community of ``snmp-server host ADDR [version 1|2c]
COMMUNITY``, ``rmon event N trap COMMUNITY`` and the ArubaOS ``mgmt-user NAME [ROLE] HASH``.

A plain-text ``password``/``secret``/``key`` value followed by words that are not known
syntax is masked to the end of the line (IOS allows spaces in them, as the last item).
Numbers and brackets after its first word are part of it too, unless an encoding in front
of it says it is ciphertext (Huawei ``password cipher V 1 root 1 4 english``) or the device's
platform has them there (its :class:`configs.platforms.Dialect`: Huawei numbers, Junos brackets); the
platform only ever makes a value shorter where its grammar says so. A value that looks like
a keyword (``password Lab-key privilege 15``, ``md5 x_secret 7``) is a value where a value's
syntax follows it or where it is not made of keyword parts (``auth-pass``, ``pre-shared-secret``
are); where it might be a keyword too, the word after it goes as well. Right after a
``password``/``secret``/``key``/``key-string`` (or its type, ``level L``) a keyword-shaped word is
the value (``username u password auth-pass x``, ``tacacs-server key pre-shared-secret x``: IOS has
no keyword chain there), but for the chains other grammars have there (Comware ``key
authentication cipher V``, Junos ``key 1 secret V``, IOS-XR ``key-string password V``, encodings).
A word that starts with ``-`` where a value stands is the value (``password -password x``); elsewhere
it is an option, its camelCase name read by its parts (NetScaler ``-radKey V``, ``-ldapBindDnPassword
"V"``; an algorithm after an option is its argument: ``-authType SHA -authPasswd V``).
After IOS type ``0`` the value is plain text whatever it looks like (``password 0 auth-pass x``,
``0 md5 x``), and an encoding or digest as the last word (``enable secret md5``) is the value.
The short words ``pass``, ``pin``, ``token`` and ``otp`` (and ``*-pin``, ``*-otp``) are
keywords too, read the same way, deny by default: in a syntax nobody listed (``otp seed V``)
the rest of the line goes.

Wrapped lines: a device that ignores ``terminal width`` cuts its lines at its width, also
inside a value, and prints no longer line. A config whose longest line is one of
:data:`WRAP_WIDTHS` long is read that way: each line of that length and the next are one
statement, joined without a separator; a value across the cut is a marker on each line.

Values over several lines: the body of a PEM private key (``-----BEGIN ... PRIVATE
KEY-----`` to its END line, wherever it stands, headers such as ``Proc-Type`` included;
certificates are public and kept), a PuTTY key file's private lines and MAC, and a
quoted value that its line does not close (every line up to the closing quote). Either
without an end masks the rest of the config: over-masking beats leaking.

Prose is left as it is: ``description``, ``remark``, ``location``, ``contact``,
Junos ``message`` and the body of ``banner`` blocks (IOS/NX-OS delimiters, ProCurve
quoted multi-line banners) are not read for keywords; a banner that never closes is
not allowed to hide the rest of the config. In prose (and everywhere else) a value is
taken only where a separator says so: ``psk: V``, ``password=V``, ``Passwort: V``,
``pw is V``.

Why by hand: Oxidized, RANCID and netutils' ``sanitize_config`` all apply a list of
regular expressions for known lines (netutils ships two and takes the caller's); that
list is exactly what misses the syntax nobody listed. The corpora in
``tests/ssh/corpus`` hold what those lists know, as tests.

Each value becomes a marker with a keyed fingerprint, ``<secret:hmac-sha256:0123456789ab>``
(HMAC-SHA256 of the value under a key kept outside the backup repository, see
:func:`netops.secrets.fingerprint_key`; 48 bits shown): a changed secret shows as a
changed line in ``config diff`` without the value being readable or guessable from the
repository. Quotes around a value stay around its marker.

Volatile lines (clock, "last configuration change", ``ntp clock-period``...) are
dropped so that an unchanged device produces no diff.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import re
import secrets as _random
from dataclasses import dataclass

from configs.platforms import IOS_GRAMMAR, PLATFORMS, Dialect
from netops.secrets import Secret

# backups written before keyed fingerprints hold this instead of a marker
LEGACY_MARKER = "<removed>"
MARKER = re.compile(r"<secret:hmac-sha256:[0-9a-f]{12}>|<removed>")
_FINGERPRINT_HEX = 12


class Fingerprinter:
    """Turns a secret value into its marker: HMAC-SHA256 under a key that never reaches
    the repository, so equal values give equal markers and nobody without the key can
    test a guess against them."""

    __slots__ = ("_key",)

    def __init__(self, key: Secret):
        self._key = key.reveal().encode()

    @classmethod
    def ephemeral(cls) -> "Fingerprinter":
        """A random key for texts that are never stored (live audits): markers agree
        within the process only."""
        return cls(Secret(_random.token_hex(32)))

    def marker(self, value: str) -> str:
        # (a byte that is not UTF-8 is kept as a surrogate: fingerprinted as that byte)
        digest = hmac.new(self._key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        return f"<secret:hmac-sha256:{digest[:_FINGERPRINT_HEX]}>"

    def __repr__(self) -> str:
        return "Fingerprinter(********)"


_PROCESS_FINGERPRINTER = Fingerprinter.ephemeral()


# -- the vocabulary --------------------------------------------------------------------
_KEYWORD = re.compile(
    r"(?:password|passwd|secret|key|key-string|community|community-map|authentication"
    r"|pre-shared-key|passphrase|psk|wpa-psk|password-encrypt|key-value|trap-group"
    r"|community-name|.+[-_.](?:passwords?|passwd|secret|key|passphrase|pass|psk|pwd|pw|community)"
    # FortiOS `psksecret`/`md5-keys`, DOCSIS `authstring`, Huawei `pass-phrase`, Junos MACsec `cak`
    r"|psksecret|pksecret|md5-keys|authstring|auth-string|pass-phrase|cak|.*community-string|pre-share"
    # AireOS `config radius auth add N ADDR PORT ascii VALUE`
    r"|ascii"
    # Huawei: ONT passwords and check codes, SNMPv3 protocol modes, a v2c trap target's community
    r"|password-auth|checkcode|authentication-mode|privacy-mode|securityname"
    # Junos `authentication plain-text-password-value V`; API keys and tokens, in any syntax
    r"|plain-text-password-value|authkey|sharedkey|apikey|.+[-_.]token"
    # bare short words (session 9): `vpn user U pass V`, `login pin V`, `api token V`, `otp seed V`
    r"|pass|pin|token|otp|passcode|pincode|pin-code|.+[-_.](?:pin|otp|passcode)"
    # encodings and digests that are followed by the value they describe
    r"|md5|sha|sha1|sha-1|sha224|sha256|sha-256|sha384|sha512|text|plaintext|plain-text"
    r"|cleartext|ciphertext|encrypted|ascii-text|hexadecimal"
    # session 11, from Oxidized's models: Zhone `configsyncpasswd`, `communityname`, Hatteras
    # `communityString`, Alteon `admpw`, `pswd`, `esecret`, Lenovo `ekey`, `md5-ekey`, ScreenOS
    # `preshare`, a hash of one (Check Point `password-hash`, `auth-pass-phrase-hashed`), FortiOS
    # IS-IS `auth-password-l1` and `ENC` (FortiOS puts it before every encrypted value: `set history0 ENC V`)
    r"|configsyncpasswd|communityname|communitystring|admpw|pswd|esecret|ekey|.+[-_.]ekey|preshare|enc"
    r"|history[01]"  # FortiOS: an administrator's former password hashes
    r"|(?:.+[-_.])?(?:password|passwd|secret|pass-phrase|passphrase)-hash(?:ed)?|(?:.+-)?password-l\d"
    # session 13: ArubaOS `wepkey1`..`wepkey4` (static WEP keys), `wpa-hexkey`, `ikepsk` (AP provisioning),
    # VRP `radius-server shared-key-cipher V`, NetScaler `add ssl certKey ... -passplain V`
    r"|wep-?key[1-4]?|wpa-hexkey|hexkey|ikepsk|ikepsk-hex|.+-key-cipher|passplain"
    r"|passcrypt)"  # NetScaler `add ssl certKey ... -passcrypt V`: the encrypted passphrase of the key file
)
# in a `name=value` pair (and JSON, XML) a name that *ends* in a credential word names one too
# (Ingate `trunkuserpassword=`, `configencpassphrase=`, `eabhmackey=`, `authtoken=`); not in CLI
# words, where values end so too (`digest secret SipDigestSecret hash MD5`)
_PAIR_KEYWORD = re.compile(r"[a-z0-9_]+(?:password|passwd|pswd|secret|passphrase|hmackey|token|psk)")
# look like keywords, never introduce a value
_NOT_KEYWORDS = frozenset({"nopassword", "nosecret", "trusted-key", "ssh-key", "host-key", "public-key", "rsa-key", "pubkey",
                           "ecdsa-sha2-nistp256-key", "send-community", "bgp-community"})
# keywords only after an algorithm name (see _arms)
_SNMP_V3_LEVEL = frozenset({"auth", "priv", "auth-prot", "priv-prot", "auth-protocol", "priv-protocol",
                            "privacy"})
_AUTH_ALGOS = frozenset({"md5", "sha", "sha1", "sha-1", "sha224", "sha256", "sha-256", "sha384", "sha512"})
_PRIV_ALGOS = frozenset({"des", "des56", "3des", "aes", "aes128", "aes-128", "aes192", "aes-192", "aes256",
                         "aes-256", "aes-cfb-128"})
# skipped between a keyword and its value
_MODIFIERS = frozenset({
    "ascii", "hex", "unencrypted", "hidden", "value", "local", "remote", "manager", "operator",
    "all", "port-access", "inbound", "outbound", "ah", "esp", "cipher",
    "authenticator", "encrypted", "fallback", "mode", *_AUTH_ALGOS, *_PRIV_ALGOS,
    "simple", "irreversible-cipher", "plain",  # Huawei/Comware: the value's encoding
    "enc", "hash", "ietf-md5",  # FortiOS `ENC VALUE`, Comware `password hash VALUE`, EOS VRRP
    "accounting", "authorization",  # Comware `key accounting cipher VALUE`
    "=", ":",  # Zhone `set user-pass = VALUE`: a separator standing alone
})
# Huawei `snmp-agent community read|write [cipher|simple] VALUE`, EXOS `community readonly
# encrypted VALUE`: the access and the encoding come before the value (a community has no
# type in front of it elsewhere)
_COMMUNITY_ACCESS = frozenset({"read", "write", "readonly", "readwrite", "ro", "rw", "read-only", "read-write"})
_COMMUNITY_ENCODINGS = frozenset({"cipher", "simple", "encrypted"})
# after `community` these name the community's value (TNSR `snmp community community-name V`); any
# other word there is the community (`snmp-server community community-key RO`)
_COMMUNITY_NAME_WORDS = frozenset({"community-name", "communityname", "community-string", "communitystring"})
# any other algorithm name (`hmac-sha2-256`, `cmac-aes-128`) is skipped like a modifier
_ALGORITHM = re.compile(r"(?:hmac-|cmac-)?(?:md5|sha(?:-?(?:1|2|3|96|128|160|224|256|384|512))*"
                        r"|aes(?:-?(?:128|192|256|cbc|cfb|gcm|ctr|cmac))*|3?des(?:56)?)")
# skipped together with the one argument that follows them
_WITH_ARGUMENT = frozenset({"user-name", "level", "type", "hostname", "key-id", "vrf", "ipv6", "user", "tag",
                            "eigrp", "role", "ckn"})
# an address list follows (pre-shared-key address 10.0.0.1 255.255.255.255 key VALUE)
_ADDRESS_WORDS = frozenset({"address", "host"})
_ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}(?:/\d+)?|[0-9a-f]*:[0-9a-f:]*:[0-9a-f:./]*)$", re.IGNORECASE)
# after this keyword, these words mean "no value here"
_NO_VALUE_AFTER: dict[str, frozenset[str]] = {
    "password": frozenset({
        "encryption", "minimum-length", "min-length", "complexity", "composition", "configuration-control",
        "aging", "history", "format", "change-interval", "lockout", "recovery", "policy", "prompt",
        "maximum-length", "minimum-changes", "minimum-character-classes", "minimum-numerics",
        "minimum-upper-cases", "minimum-lower-cases", "minimum-punctuations", "minimum-reuse-time",
        "retry", "expiry", "expire", "reuse-interval", "strength-check", "required", "option",
        "inheritance-disable",
    }),
    "key": frozenset({"chain", "generate", "zeroize", "import", "export", "pubkey-chain", "decrypt",
                      "storage", "hash", "config-key", "management", "source", "id", "modulus",
                      "start-time", "algorithm", "options", "retirement"}),
    # firewall actions (`pass log`), a SIM PIN's commands (VRP `pin verify V`: positional)
    "pass": frozenset({"log", "through", "all", "quick", "in", "out"}),
    "pin": frozenset({"verify", "change", "unlock", "modify", "switch"}),
    "community": frozenset({"add", "delete", "set", "none", "additive", "members", "list", "new-format",
                            "internet", "no-export", "no-advertise", "local-as", "complexity-check"}),
    # Huawei `user-interface` login modes; SNMPv3's `authentication-mode sha ...` has a value
    "authentication-mode": frozenset({"aaa", "password", "none", "scheme", "local", "radius", "hwtacacs"}),
    "authentication": frozenset({
        "login", "enable", "local", "aaa", "dot1x", "ppp", "arap", "nasi", "ssh", "telnet", "console", "web",
        "web-based", "mac-based", "port-access", "port-control", "host-mode", "order", "priority", "event",
        "timer", "periodic", "open", "violation", "control-direction", "fallback", "linksec", "display",
        "critical", "key-chain", "key-management", "message-digest", "null", "send-only",
        "key-id", "suppress", "token", "eou", "mac", "mac-move", "ssh-rsa", "ssh-dss", "ssh-dsa",
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "network-eap",
        "shared", "server", "servers", "method", "methods", "trap", "traps", "failure", "attempts",
        "num-attempts", "unlock", "lockout", "success", "fail-message", "banner", "password-prompt",
        "username-prompt", "type", "algorithm", "profile", "list", "group", "default", "none", "radius",
        "tacacs", "tacacs+", "if-authenticated", "wpa", "wpa2", "wpa3", "allow-vlan", "dynamic",
        "retries", "linkdown", "linkup", "coldstart", "warmstart", "chap", "pap", "ms-chap", "ms-chap-v2",
        "callin", "callout", "optional", "eap", "peap", "identity", "vlan", "auth-fail", "reauthentication",
        "max-reauth-req", "max-req", "server-timeout", "supp-timeout", "tx-period", "quiet-period",
        "sha", "md5", "hmac-md5", "hmac-sha-1-96", "hmac-sha", "keychain", "key-chain-name", "accounting",
        "local-user", "ipsec", "spi", "authorization", "mandatory", "required", "allow-fail-through",
        "pre-share", "rsa-sig", "rsa-encr", "ecdsa-sig", "digital-signature", "certificate", "keyed-sha1",
        "keyed-md5", "meticulous-keyed-sha1", "meticulous-keyed-md5", "protocol",
        "eap-proxy",  # ASA tunnel-group
        "on", "off",  # NetScaler `set lb vserver V -authentication ON`: whether a vserver asks for a login
    }),
}
# after any keyword: a reference to a key kept elsewhere, or a mode, not a value
_NO_VALUE_AFTER_ANY = frozenset({"key-chain", "keychain", "message-digest", "null", "level-1", "level-2",
                                 "send-only", "ipsec"})
# mean "no value here" unless they are the line's last word (then they are the value)
_NO_VALUE_UNLESS_LAST = frozenset({"default"})
# a mode, not a value, as the line's last word (`isis authentication mode text`)
_MODE_AT_END = frozenset({"text", "simple", "plaintext", "cleartext", "encrypted", "ciphertext"})
# the first token after these is the value, even a number (no encryption type)
_UNTYPED = frozenset({"community", "trap-group", "community-map"})
# a hyphenated word naming a credential (ProCurve `key-value "V"`): when a quoted string
# follows it, that string is the value
_KEYISH = re.compile(r"(?:[a-z0-9]+-)*(?:pass|passwd|password|secret|key|psk|passphrase)(?:-[a-z0-9]+)*")
# their plain-text value may contain spaces when it ends the line (IOS `username`, `enable
# password`, line `password`, TACACS+/RADIUS `key`)
_TO_END_OF_LINE = frozenset({"password", "secret", "key", "key-string", "pass", "pin", "token", "otp"})
# an encoding in front of a value that says it is ciphertext or a hash (no blank in it): what
# follows such a value is syntax (Huawei `password cipher V 1 root 1 4 english`); any digit but
# IOS type 0 is an encryption type (`7`, `5`, `9`, IOS-XR `10`)
_CIPHER_ENCODINGS = frozenset({"cipher", "irreversible-cipher", "hash", "encrypted", "enc", "ciphertext",
                               "hidden", "sha512", "sha256", "pbkdf2"})


def dialect_of(platform: str | None) -> Dialect:
    """How a plain value ends on this netmiko device type (:attr:`configs.platforms.Platform.dialect`);
    a device of no known platform reads as IOS does (deny by default: to the line's end)."""
    known = PLATFORMS.get(platform or "")
    return known.dialect if known else IOS_GRAMMAR


# what may follow such a value on the same line
_AFTER_VALUE = frozenset({"role", "level", "level-1", "level-2", "port", "auth-port", "acct-port", "timeout",
                          "retransmit", "vrf", "use-vrf", "priority", "trusted", "prefer", "address", "hostname",
                          "authenticate", "authentication", "accounting", "pac", "single-connection",
                          "dyn-authorization", "expire", "mode", "tracking", "no-ipsec", "group", "access",
                          "hash", "hash2", "encrypted", "pbkdf2", "nt-encrypted", "privilege", "priv-lvl",
                          "key-id", "user-type", "cipher", "capability", "used-by", "cryptographic-algorithm",
                          "usertype", "class", "always-on"})
# after a value: what kind of value it was (ASA `enable password V encrypted`, `pbkdf2`)
_MARKS_BEFORE = frozenset({"encrypted", "pbkdf2", "nt-encrypted"})
# brackets that group words (Junos `[ radius password ]`, `{` opening a block, tmsh `{ ... }`),
# see _is_structure; a `;` on its own is no syntax (Junos glues it to the word before)
_BRACKETS = {"{": "}", "[": "]", "(": ")"}
_ALL_BRACKETS = "".join(_BRACKETS)
# the rest of the line after one of these words is prose
_PROSE_WORDS = frozenset({"description", "remark", "location", "contact", "message", "announcement", "alias",
                          "full-name", "banner", "motd"})
# lines that name keys (by ID) and notifications but never hold a value
# (and BGP community lists, whose names may end in `_community`)
_NO_VALUES_IN = re.compile(r"^\s*(?:snmp-server enable traps|(?:set system )?s?ntp (?:server|peer) "
                           r"|ip (?:ext|large-)?community-list )", re.IGNORECASE)
# the last token of `key 1` inside `key chain NAME` is an ID
_KEY_ID_LINE = re.compile(r"^\s*key \d+\s*$", re.IGNORECASE)

# a double-quoted string up to its closing quote (`\"` and `\\` inside are escapes)
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# a token (see _tokens), and a quoted value where patterns read one
_QUOTED_VALUE = r"""(?:"(?:[^"\\]|\\.)*(?:"\S*)?|'[^']*(?:'\S*)?)"""
_TOKEN = re.compile(_QUOTED_VALUE + r"""|[#\w][^\s="']*=(?=\S)|\S+""")
# one word, or a double-quoted string (a positional value)
_WORD_VALUE = r"""(?:"(?:[^"\\]|\\.)*"\S*|\S+)"""
# an HTTP header in a quoted string starts after the string's escaped line break (`\r\n`, `\n`), and its
# value runs to the next one or the closing quote (a cookie or a scheme's value holds blanks)
_AFTER_ESCAPED_BREAK = r"(?<=\\n)"
_HEADER_VALUE = r'(?:\\[^rn]|[^"\\\r\n])*?(?:\\[^rn]|[^\s"\\])(?=[ \t]*(?:\\[rn]|"|$))'
_HTTP_SCHEMES = r"(?:basic|bearer|digest|token|negotiate|ntlm|apikey|hoba|mutual|scram-sha-(?:1|256)|vapid|dpop" \
                r"|aws4-hmac-sha256)"
_ANYWHERE = (
    # crypt(3) and Cisco type 8/9 strings, Junos $9$ (no keyword needed)
    re.compile(r'(?<![\w$])(?P<value>\$(?:1|2[abxy]?|5|6|7|8|9|14|y|sha1|md5|apr1)\$[^\s";\'<]+)'),
    # Huawei ciphertext, fenced: %^%#...%^%#, %$%$...%$%$, %@%@...%@%@, %#%#...%#%# (a fence
    # that never closes: to the end of the token)
    re.compile(r"(?P<value>(?P<fence>%\^%#|%\$%\$|%@%@|%#%#)\S*?(?:(?P=fence)|(?=[\s\"']|$)))"),
    # the body of a PEM private key that starts on this line (one-line or escaped PEM too)
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----(?P<value>(?:(?!-----END).)+)"),
    # scp://user:PASSWORD@host
    # (up to the last "@" before the path: a password may hold an "@")
    re.compile(r'\b[a-z][a-z0-9+.-]*://[^/\s:@"\']*:(?P<value>[^\s/"\']+)@', re.IGNORECASE),
    # an HTTP header's credentials (a health monitor's custom headers, NetScaler `-customHeaders
    # "Authorization: Basic V\r\n"`, a request written out `-send "GET / HTTP/1.1\r\nAuthorization: V\r\n"`):
    # after a scheme word (IANA's registry, and the common ApiKey) or none, the rest of the header, up to its escaped line break (the next
    # header's start, itself read again) or the string's closing quote
    re.compile(rf'(?i)(?:(?<![\w-])|{_AFTER_ESCAPED_BREAK})(?:proxy-)?authorization:[ \t]*(?:{_HTTP_SCHEMES}[ \t]+)?'
               rf'(?P<value>{_HEADER_VALUE})'),
    # inside a quoted header string (after its quote or an escaped line break): a header whose name
    # says credential (`X-Api-Key`, `X-Access-Token`, `Private-Token`, `X-Auth-Key`, `Cookie`)
    re.compile(rf'(?i)(?:(?<=")|{_AFTER_ESCAPED_BREAK})[ \t]*(?!(?:proxy-)?authorization:)'
               rf'[\w-]*(?:token|key|secret|auth|cookie)[\w-]*:[ \t]*(?P<value>{_HEADER_VALUE})'),
)
# positional values: no keyword in front of them, one table per platform (as Oxidized's
# `cmd :secret` blocks, lib/oxidized/model/<platform>.rb), every table read on every device:
# a config pasted from another vendor, or a platform labelled wrong, still loses its secrets.
# (a space in these patterns stands for any run of blanks: devices pad with two spaces or a tab)
POSITIONAL_SECRETS: dict[str, tuple[str, ...]] = {
    "cisco_ios": (
        # snmp-server host ADDR [vrf V] [informs|traps] [version 1|2c] COMMUNITY (v3: a user name, kept)
        # (ASA: `snmp-server host IFNAME ADDR community C`: an address is no community)
        # (IOS: after a host ADDRESS the next word is the community, whatever it looks like,
        # `10.64.0.0/16` or `10.0.0.1` too; only after an ASA interface name is an address no community)
        r"^\s*snmp-server host (?:(?P<address>\d{1,3}(?:\.\d{1,3}){3}(?=\s)|[0-9a-f]*:[0-9a-f:.]*(?=\s))|\S+)"
        r"(?: vrf \S+)?(?: (?:informs?|traps?))?(?: version (?:1|2c|v1|v2c))?"
        r' (?!version\b|vrf\b|informs?\b|traps?\b|community\b|use-vrf\b|source-interface\b|filter-vrf\b'
        r'|(?(address)(?!)|\d{1,3}(?:\.\d{1,3}){3}(?:\s|$)))'
        rf"(?P<value>{_WORD_VALUE})",
        # RMON: rmon event N [log] trap COMMUNITY
        r"^\s*rmon event \d+(?: log)? trap (?P<value>\S+)",
        # syscon address ADDR PASSWORD
        r"^\s*syscon address \S+ (?P<value>\S+)",
    ),
    # EOS: a licence key for third-party optics (eos.rb: "<license key removed>")
    "arista_eos": (r"^\s*service unsupported-transceiver \S+ (?P<value>\S+)",),
    # ProCurve: snmpv3 community index N name COMMUNITY sec-name ...
    "hp_procurve": (rf"^\s*snmpv3 community index \S+ name (?P<value>{_WORD_VALUE})",),
    # VRP: the SIM PIN of a cellular interface, `pin verify [auto] PIN` (vrp.rb: "<PIN hidden>")
    "huawei_vrp": (r"^\s*pin verify(?: auto)? (?P<value>\S+)",),
    "aruba_os": (
        # controller `mgmt-user NAME ROLE HASH`, Instant `mgmt-user NAME HASH`
        r"^\s*mgmt-user \S+(?: \S+)? (?P<value>\S+)\s*$",
        # masterip|localip ADDR ipsec KEY, mobility-manager ADDR user NAME PASSWORD,
        # Instant `user NAME PASSWORD portal|radius`
        r"^\s*(?:masterip|localip) \S+ ipsec (?P<value>\S+)",
        r"^\s*mobility-manager \S+ user \S+ (?P<value>\S+)",
        r"^user \S+ (?P<value>\S+) (?:portal|radius)\s*$",
    ),
    # ZTE, Eltex, Planet, Allied Telesis, Cisco SMB (Oxidized zteolt.rb, eltex.rb, acsw.rb...):
    # `username NAME privilege N HASH`, the hash last and without a keyword
    "zte_zxros": (r"^\s*username \S+ privilege \d+ (?!(?:nopassword|noescape|nohangup|password|secret|dnis|one-time|mac)\s*$)"
                  r"(?P<value>\S+)\s*$",),
    # Casa CMTS `snmp comm-tbl COMMUNITY SECURITY-NAME` (casa.rb)
    "casa_cmts": (r"^\s*snmp comm-tbl (?P<value>\S+)",),
    # V-SOL OLT, an ONU's web accounts (vsololt.rb): `... username NAME enable ROLE PW user_control
    # enable ROLE PW`
    "vsol_olt": (r"^.*?\busername \S+ enable \S+ (?P<value>\S+)", r"^.*?\buser_control enable \S+ (?P<value>\S+)"),
    # NetScaler: a value marked `-encrypted` after it (netscaler.rb), `add system user NAME HASH -encrypted`
    "netscaler": (rf"^(?:.*\s)?(?P<value>{_WORD_VALUE}) -encrypted(?=\s|$)",),
    "cisco_wlc": (
        # AireOS: config radius auth|acct add N ADDR PORT ascii|hex SECRET, config mgmtuser add NAME
        # PASSWORD ROLE, config snmp v3user create NAME ROLE AUTH PRIV AUTHKEY PRIVKEY
        r"^\s*config radius (?:auth|acct) add \S+ \S+ \S+ (?:ascii|hex) (?P<value>\S+)",
        r"^\s*config mgmtuser add \S+ (?P<value>\S+)",
        r"^\s*config snmp v3user create(?: \S+){4} (?P<value>\S+)",
        r"^\s*config snmp v3user create(?: \S+){5} (?P<value>\S+)",
    ),
}
# tables whose patterns look past a line's start: tried only on lines that hold this word (speed)
_POSITIONAL_GUARDS = {"vsol_olt": " enable ", "netscaler": " -encrypted"}
_POSITIONAL = tuple((re.compile(pattern.replace(" ", r"[ \t]+"), re.IGNORECASE), _POSITIONAL_GUARDS.get(name, ""))
                    for name, table in POSITIONAL_SECRETS.items() for pattern in table)
# in prose (descriptions, banners) a value is read only where a separator says so:
# "psk: V", "password=V", "Passwort: V", "pw is V"
_PROSE_VALUE = re.compile(
    r"(?i)(?<![\w<-])(?:password|passwort|kennwort|passwd|pwd|pw|secret|psk|passphrase|pre-shared-key|key"
    r"|pin|pass|token|otp|passcode|community|(?:x-)?api-?key|(?:x-)?auth-?token)(?:\s*[:=]|\s+is\b)\s*"
    rf"""(?P<value>{_QUOTED_VALUE}|(?!<secret:|<removed>)\S*[^\s"'])""")
# sections whose `name` is a community (MikroTik `/snmp community`, FortiOS `config system
# snmp community`): the header, and the word that holds the value inside
_COMMUNITY_SECTION = re.compile(r"^\s*(?:/snmp community|config system snmp community)\s*$", re.IGNORECASE)
_SECTION_KEYWORDS = frozenset({"name"})
# a PEM private key that spans lines: every line up to its END line is the value
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
# the label of a PEM armour line (same length in blanks, so that positions stay)
_PEM_LABEL = re.compile(r"(?<=-----BEGIN )[A-Z0-9 ]+(?=-----)|(?<=-----END )[A-Z0-9 ]+(?=-----)")
# a PuTTY key file: every line after `Private-Lines: N` up to and with the `Private-MAC` value
_PUTTY_PRIVATE = re.compile(r"^\s*Private-Lines:", re.IGNORECASE)
# widths a device wraps its lines at when it ignores `terminal width` (80 columns, the last
# one left free, VT100 132) or honours netmiko's `terminal width 511`. A config whose longest
# line has one of these lengths is read as wrapped there: each line of exactly that length
# runs on in the next one. (Deny by default: where the longest line only happens to be this
# long and ends in a value, the next line's first word is masked with it.)
WRAP_WIDTHS = frozenset({79, 80, 132, 511, 512})
# structured text a device may print (JSON, XML): "name": value and <name>value</name>
_JSON_PAIR = re.compile(r'"(?P<name>[^"\s]+)"\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s,}\]]+)')
# (XML text holds `&lt;` for a `<`; a bare `<` that opens no tag is taken as text too)
_XML_PAIR = re.compile(r"<(?P<name>[\w:.-]+)(?:\s[^>]*)?>(?P<value>(?:[^<]|<(?!/?[\w:.-]+(?:\s[^>]*)?>))+)</(?P=name)>")
_SECRET_DATA = "## SECRET-DATA"  # Junos marks lines that hold secrets

VOLATILE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^Building configuration\.\.\.\s*$",
        r"^Current configuration ?: \d+ bytes\s*$",
        r"^! (?:Last configuration change|NVRAM config last updated) at .*",
        r"^! No configuration change since last restart\s*$",
        r"^\s*! Time: .*",
        r"^!Time: .*",
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


def scrub_config(raw: str, known_secrets: list[Secret] = (),
                 fingerprint: Fingerprinter | None = None, platform: str | None = None) -> Scrubbed:
    """The config as it may be written anywhere: no secrets, no volatile lines.
    Without ``fingerprint`` the markers hold a per-process key (fine for texts that
    are checked and thrown away, wrong for anything stored). ``platform`` (the device's
    netmiko device type) says how a plain value ends (:func:`dialect_of`); every platform's
    keywords and tables are read whatever it is."""
    token = _WORDS_SEEN.set({})
    try:
        return _scrub(raw, known_secrets, fingerprint, platform)
    finally:
        _WORDS_SEEN.reset(token)


def _scrub(raw: str, known_secrets: list[Secret], fingerprint: Fingerprinter | None,
           platform: str | None) -> Scrubbed:
    masker = _Masker(fingerprint or _PROCESS_FINGERPRINTER, [s.reveal() for s in known_secrets if s.reveal()],
                     dialect_of(platform))
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    volatile = [any(p.match(line) for p in VOLATILE_PATTERNS) for line in lines]
    lines = [line for line, drop in zip(lines, volatile) if not drop]
    prose = banners(lines)
    # a device that wraps at a width prints no longer line: the longest line's length
    wrap_width = max(map(len, lines), default=0)
    wrap_width = wrap_width if wrap_width in WRAP_WIDTHS else -1
    kept: list[str] = []
    n = 0
    while n < len(lines):
        # physical lines that are one statement: a MikroTik export continues a line that ends
        # in a backslash; a device that ignores `terminal width` wraps a full line anywhere,
        # also inside a value (joined without a separator)
        parts, separators = [lines[n]], []
        while n + len(parts) < len(lines) and n + len(parts) not in prose:
            last, following = parts[-1], lines[n + len(parts)]
            if last.endswith("\\") and following[:1].isspace():
                separators.append("\n")
            elif len(last) == wrap_width and following.strip():
                separators.append("")
            else:
                break
            parts.append(following)
        opened = not masker.continued
        kept.extend(part.rstrip() for part in masker.statement(parts, separators, read_keywords=n not in prose))
        n += len(parts)
        if opened and masker.continued and not masker.ends_with and not _string_runs_on(lines[n:]):
            masker.continued = False  # the quote was a character of the value: the next line is a line
    while kept and not kept[-1]:
        kept.pop()
    while kept and not kept[0]:
        kept.pop(0)
    return Scrubbed("\n".join(kept) + "\n", masker.count, sum(volatile))


_BANNER = re.compile(r"^\s*banner \S+(?: \S+)?? (?P<rest>(?:\^C|\S).*)$", re.IGNORECASE)


def banners(lines: list[str]) -> dict[int, int]:
    """Banner lines (prose) -> the index of their ``banner`` line. IOS/NX-OS/AOS-CX
    ``banner motd ^C`` ... ``^C`` (any delimiter), ProCurve ``banner motd "`` ... ``"``.
    A banner whose delimiter never comes back is only its first line: the lines after
    it are read for secrets (over-masking prose beats leaking a config)."""
    return {k: start for start, end, _ in banner_spans(lines) for k in range(start, end + 1)}


def banner_spans(lines: list[str]) -> list[tuple[int, int, bool]]:
    """(first line, last line, closed) of each banner; an unclosed one spans its first line."""
    spans = []
    n = 0
    while n < len(lines):
        match = _BANNER.match(lines[n])
        if match is None:
            n += 1
            continue
        rest = match.group("rest")
        delimiter = "^C" if rest.startswith("^C") else rest[0]
        end, closed = n, delimiter in rest[len(delimiter):]
        if not closed:
            end = next((k for k in range(n + 1, len(lines)) if delimiter in lines[k]), n)
            closed = end > n
        spans.append((n, end, closed))
        n = end + 1
    return spans


class _Masker:
    def __init__(self, fingerprint: Fingerprinter, known: list[str], dialect: Dialect):
        self.fingerprint = fingerprint
        self.dialect = dialect
        self.known = sorted(known, key=len, reverse=True)
        self.count = 0
        self.continued = False  # inside a value that runs on over lines (a quote or a PEM key)
        self.ends_with = ""  # ... a private key, which ends at this (PEM `-----END`, PuTTY `Private-MAC`)
        self.section: frozenset[str] = frozenset()  # words that hold values in the current section
        self.section_indent = -1

    def statement(self, parts: list[str], separators: list[str], read_keywords: bool) -> list[str]:
        """The physical lines of one statement, masked: a value read across two of them
        becomes one marker on each (each piece fingerprinted: either changing shows)."""
        text = parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:]))
        if self.continued:
            spans = self._continuation(text)
        else:
            spans = self._spans(text, read_keywords)
            if len(parts) > 1:
                spans = _outermost(dict.fromkeys(spans + self._each_alone(parts, separators, read_keywords)))
        masked, start = [], 0
        for k, part in enumerate(parts):
            start += len(separators[k - 1]) if k else 0
            end = start + len(part)
            masked.append(self._replace(part, [(max(s, start) - start, min(e, end) - start)
                                               for s, e in spans if s < end and e > start]))
            start = end
        return masked

    def _each_alone(self, parts: list[str], separators: list[str], read_keywords: bool) -> list[tuple[int, int]]:
        """The lines after the first of a statement over several lines, each also read as a
        statement of its own: a line that ends in a backslash before an indented one
        (RouterOS) may be an IOS value that ends in `\\` (` pin verify auto PIN\\`), and a
        line as long as a wrap width may only happen to be that long."""
        state = (self.continued, self.ends_with, self.section, self.section_indent)
        spans, start = [], len(parts[0])
        for separator, part in zip(separators, parts[1:]):
            start += len(separator)
            spans += [(s + start, e + start) for s, e in self._spans(part, read_keywords)]
            start += len(part)
        self.continued, self.ends_with, self.section, self.section_indent = state
        return spans

    def _spans(self, line: str, read_keywords: bool) -> list[tuple[int, int]]:
        self._enter_section(line)
        spans: dict[tuple[int, int], None] = {}
        for value in self.known:
            for m in re.finditer(re.escape(value), line):
                spans[m.span()] = None
        for pattern in _ANYWHERE:
            for m in pattern.finditer(line):
                spans[m.span("value")] = None
        for m in _PROSE_VALUE.finditer(line):
            spans[_unquoted(line, m.span("value"))] = None
        for m in _JSON_PAIR.finditer(line):
            if _names_credential(_hyphenated(m.group("name"))):
                spans[_unquoted(line, m.span("value"))] = None
        for m in _XML_PAIR.finditer(line):  # (the text as it stands: `&amp;` ends in `;`)
            if _names_credential(_hyphenated(m.group("name"))):
                spans[m.span("value")] = None
        if ends_with := _key_begins(line):
            self.continued, self.ends_with = True, ends_with
        if read_keywords:
            if _SECRET_DATA in line:
                for m in re.finditer(r'"(?P<value>[^"]*)"', line.split(_SECRET_DATA)[0]):
                    spans[m.span("value")] = None
            lowered = line.lower().replace("\t", " ")
            for pattern, guard in _POSITIONAL:
                if guard in lowered and (m := pattern.match(line)):
                    spans[_unquoted(line, m.span("value"))] = None
            if not _NO_VALUES_IN.match(line):
                values, open_quote = _keyword_values(line, self.dialect, self.section)
                for span in values:
                    spans[span] = None
                self.continued = self.continued or open_quote
        return _outermost(spans)

    def _enter_section(self, line: str) -> None:
        """Track the section a line belongs to (MikroTik `/menu`, FortiOS `config ... end`)."""
        stripped, indent = line.strip(), len(line) - len(line.lstrip())
        if self._enter_community_section(line):
            return
        if stripped.startswith("/") or (stripped == "end" and indent == self.section_indent):
            self.section, self.section_indent = frozenset(), -1

    def _enter_community_section(self, line: str) -> bool:
        """Enter the section of SNMP communities this line opens, if it opens one."""
        if not _COMMUNITY_SECTION.match(line):
            return False
        self.section, self.section_indent = _SECTION_KEYWORDS, len(line) - len(line.lstrip())
        return True

    def _continuation(self, line: str) -> list[tuple[int, int]]:
        """A line inside a value begun on an earlier line: all of it is the value, up to the
        closing quote (a PEM key's END line; a PuTTY key's MAC, whose value goes too).
        A private key that begins inside a quoted value ends it only with the key's end
        (FortiOS `set private-key "-----BEGIN...`). (scrub_config lets a string run on only
        to a line that it ends; should text follow the closing quote all the same, it is
        masked too: the syntax of a line cannot be read from its middle.) A section header
        inside it is entered all the same, none left: the string may have been a value's quote
        character (session 12: RouterOS `/snmp community` inside `password="V`, its next `name=`
        kept)."""
        self._enter_community_section(line)
        start = len(line) - len(line.lstrip())
        ends_with = self.ends_with
        if ends_with == "Private-":  # (a PuTTY key's MAC line starts with it)
            end = line.find(ends_with) if line.lstrip().startswith(ends_with) else -1
        else:
            end = line.find(ends_with) if ends_with else _closing_quote(line)
        if end < 0:
            self.ends_with = ends_with or _key_begins(line)
            return [(start, len(line))] if len(line) > start else []
        self.continued, self.ends_with = False, ""
        if ends_with == "Private-":  # `Private-MAC: V` (v2/v3), `Private-Hash: V` (v1)
            mac = re.match(r"\s*Private-\S+:\s*", line)
            return [(mac.end(), len(line.rstrip()))] if mac and len(line.rstrip()) > mac.end() else []
        rest = line[end + 1:]
        if ends_with or rest.strip() in ("", ";"):
            return [(start, end)] if end > start else []
        self.ends_with = _key_begins(rest)
        self.continued = bool(self.ends_with) or any(_unclosed(t) for t, _ in _tokens(rest))
        return [(start, len(line.rstrip()))]

    def _replace(self, line: str, spans: list[tuple[int, int]]) -> str:
        for start, end in reversed(spans):
            value = line[start:end]
            if not value or MARKER.fullmatch(value):
                continue  # already a marker (a stored backup scrubbed again)
            line = line[:start] + self.fingerprint.marker(value) + line[end:]
            self.count += 1
        return line


def _string_runs_on(lines: list[str]) -> bool:
    """Does a quoted value that its line left open run on over these lines? Only if the first
    quote that comes closes its line (`...";` at most after it) or none comes (then the rest
    of the config is the value: over-masking beats leaking). Text after that quote means the
    open quote was a value's first character on a device without strings over lines (IOS
    `snmp-server community "ab RO`): the lines after it are statements of their own."""
    for line in lines:
        if (end := _closing_quote(line)) >= 0:
            return line[end + 1:].strip() in ("", ";")
    return True


def _key_begins(line: str) -> str:
    """Where a private key over several lines begins in this line: what ends it ("" if none)."""
    if (pem := _PEM_PRIVATE.search(line)) and "-----END" not in line[pem.end():]:
        return "-----END"
    return "Private-" if _PUTTY_PRIVATE.match(line) else ""


def _closing_quote(line: str) -> int:
    """Index of the first unescaped double quote in a line inside a quoted value, -1 if none
    (`\\"` is an escaped backslash and then the closing quote)."""
    m = re.match(r'(?:[^"\\]|\\.)*"', line)
    return m.end() - 1 if m else -1


def _outermost(spans: dict[tuple[int, int], None]) -> list[tuple[int, int]]:
    """Overlapping finds (a known password inside a keyword value) become one span."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _unquoted(line: str, span: tuple[int, int]) -> tuple[int, int]:
    """The span of a token's value: inside its quotes (double or single), without a Junos ``;``."""
    start, end = span
    text = line[start:end]
    if text.endswith(";") and len(text) > 1:
        end -= 1
        text = text[:-1]
    for quote in ('"', "'"):
        if len(text) >= 2 and text[0] == quote and text[-1] == quote:
            return start + 1, end - 1
        if text.startswith(quote):  # unterminated quote: the rest of the line
            return start + 1, end
    return start, end


def _word(token: str) -> str:
    """A token as the keyword reader compares it: without a Junos `;`, a pair's `=` and the `-`
    of an option (NetScaler, tmsh `-password V -encrypted`). An option's name is camelCase, its
    parts joined as a CLI word's (NetScaler `-radKey` -> `rad-key`, `-ldapBindDnPassword` ->
    `ldap-bind-dn-password`, `-authPasswd` -> `auth-passwd`): session 13 found those values kept."""
    if len(token) < 2:
        return token.lower()
    word = token.rstrip(";").rstrip("=")
    return _camel_parts(word[1:]) if _is_option(word) else word.lower()


def _is_option(token: str) -> bool:
    """Is this token an option of a grammar with dashed options (`-password`)? Where a value
    stands it is the value all the same (`username u password -password x`)."""
    return token[:1] == "-" and token[1:2].isalpha()


# the keyword tests of the config being scrubbed, by word (its words repeat, the reader asks
# several times per word): one dict per scrub_config call, in that call's context (each thread
# of the SSH pool has its own), dropped when the call ends. The words include the config's
# plain-text secrets: nothing module-wide may keep them.
_WORDS_SEEN: contextvars.ContextVar[dict[str, bool]] = contextvars.ContextVar("scrub_words_seen")


def _is_keyword(word: str) -> bool:
    seen = _WORDS_SEEN.get(None)
    if seen is None:
        return word not in _NOT_KEYWORDS and bool(_KEYWORD.fullmatch(word))
    known = seen.get(word)
    if known is None:
        known = seen[word] = word not in _NOT_KEYWORDS and bool(_KEYWORD.fullmatch(word))
    return known


def _names_credential(name: str) -> bool:
    """Does the name of a pair (`name=value`, JSON, XML) name a credential?"""
    return _is_keyword(name) or bool(_PAIR_KEYWORD.fullmatch(name))


def _hyphenated(name: str) -> str:
    """A JSON/XML name as a CLI word: `PreSharedKey` -> `pre-shared-key`, `ns:password` -> `password`."""
    return _camel_parts(name.rsplit(":", 1)[-1])


def _camel_parts(name: str) -> str:
    """A camelCase name as a CLI word, lower case and its parts joined by `-`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def _untyped(keyword: str) -> bool:
    """Is the first token after this keyword the value, whatever it looks like?"""
    return keyword in _UNTYPED or keyword.endswith("community")


def _keyword_values(line: str, dialect: Dialect,
                    section: frozenset[str] = frozenset()) -> tuple[list[tuple[int, int]], bool]:
    """Spans of the values that follow credential keywords in one line, and whether the
    last value is a quote that the line does not close (it runs on over the next lines)."""
    if _KEY_ID_LINE.match(line):
        return [], False
    line = _PEM_LABEL.sub(lambda m: " " * len(m.group()), line)  # `ENCRYPTED PRIVATE KEY` is no keyword
    tokens = _tokens(line)
    # `name=value` pairs: the value is the token after the name, and only the name is syntax
    pairs = {k for k, (t, (_, end)) in enumerate(tokens)
             if t.endswith("=") and len(t) > 1 and t[0] not in "\"'" and end < len(line) and not line[end].isspace()}
    # (a pair's name keeps its `=` where a value stands: `secret 0 5=V` is no type 5, `1=V` no number)
    words = [_word(t) + "=" * (k in pairs) for k, (t, _) in enumerate(tokens)]
    options = frozenset(k for k, (t, _) in enumerate(tokens) if _is_option(t))
    values: list[tuple[int, int]] = []
    open_quote = False
    i = 0
    while i < len(tokens):
        word = words[i]
        if i in pairs:  # (a pair's value is one token, prose or not: `location="..."`)
            last, name = i + 1, word[:-1]
            if (_names_credential(name) or name in section) and i + 1 < len(tokens):
                span, last = _value_span(line, tokens, i + 1)
                values.append(span)
                open_quote = _unclosed(tokens[last][0])
            i = last + 1
            continue
        if word in _PROSE_WORDS:
            break
        if not (_arms(words, i) or (word in section and i + 1 < len(words))) or (
                i - 1 in options and _ALGORITHM.fullmatch(word) and not _is_keyword(words[i - 1])):
            i += 1  # (NetScaler `-authType SHA -authPasswd V`: the algorithm is an option's argument)
            continue
        value = _value_after(words, i, dialect.brackets, options)
        if value is None:
            i += 1
            continue
        token = tokens[value][0]
        if not MARKER.search(token) and not token.lstrip("\"'").startswith("-----BEGIN"):
            span, last = _value_span(line, tokens, value)
            plain = value - 1 > i and words[value - 1] == "0"  # IOS type 0: plain text, spaces allowed
            # what may stand in a plain value depends on the platform; after IOS type 0 it is
            # IOS' (no brackets, numbers are the value's), after a ciphertext's encoding nothing
            cipher = value - 1 > i and (words[value - 1] in _CIPHER_ENCODINGS
                                        or (words[value - 1].isdigit() and words[value - 1] != "0"
                                            and words[value - 2] not in _WITH_ARGUMENT))
            numbers = plain or not (cipher or dialect.numbers_after_value)
            brackets = "" if plain else _ALL_BRACKETS if cipher else dialect.brackets
            if (word in _TO_END_OF_LINE and (plain or not _is_string(token))
                    and _unknown_after(words, last, numbers, brackets)):
                # IOS: a plain-text password or server key may hold spaces and is the
                # line's last item: "my secret pw" is one value, not a value and two words
                start = tokens[value][1][0]
                end = line.find("\n", start)  # a continued line: to the end of its own part
                if end < 0:
                    values.append((start, len(line.rstrip())))
                    break
                values.append((start, len(line[:end].rstrip())))
                i = next((k for k, (_, (s, _)) in enumerate(tokens) if s > end), len(tokens))
                continue
            values.append(span)
            open_quote, value = _unclosed(tokens[last][0]), last
        i = value + 1
        if value < len(words) - 1 and _is_keyword(words[value]) and not _introduces_nothing(words, value, dialect.brackets, options):
            i = value  # a value that looks like a keyword may be one too: its own value goes as well
        elif i < len(words) and words[i] in _MARKS_BEFORE and (i == len(words) - 1 or _follows_a_value(words, i + 1)):
            i += 1  # ASA `password VALUE encrypted`: says what the value was, introduces none
            # (before anything else it introduces one: NETGEAR `users passwd NAME encrypted VALUE`)
    return values, open_quote


def _tokens(line: str) -> list[tuple[str, tuple[int, int]]]:
    """The tokens of a line and their spans, as the keyword reader reads them::

        token     := quoted | pair-name | word
        quoted    := '"' (char | '\\' char)* ['"' glued]   double quotes, with escapes
                   | "'" char* ["'" glued]                 single quotes (VyOS, EdgeOS), none
        pair-name := [#\\w] [^\\s="']* '='  before a non-blank (RouterOS, airOS `name=value`)
        word      := any run of non-blanks

    A quote opens a string only where a token starts (`ab"cd` is one word); what is glued to
    the closing quote belongs to the token (`"ab"cd`, `''abc`: a value that starts with a quote
    is not cut at it); a string the line does not close runs to its end (and over the next
    lines: scrub_config, _Masker._continuation). A name starts with a letter, digit or `#`
    (`(=x` is a value). A RouterOS line break (`\\` at a line's end) is no token; elsewhere a
    lone `\\` is a word (`community \\ RO`: the value). Tokens with no
    blank between them (a pair's name and value) are one value where a value stands
    (_value_span)."""
    return [(m.group(), m.span()) for m in _TOKEN.finditer(line)
            if m.group() != "\\" or line[m.end():].lstrip(" \t")[:1] not in ("", "\n")]


def _value_span(line: str, tokens: list[tuple[str, tuple[int, int]]],
                k: int) -> tuple[tuple[int, int], int]:
    """The span of the value that is token ``k`` (inside its quotes), and its last token:
    tokens with no blank between them are one value (`ab="cd ef"`, `a=b='c`: a value that
    looks like pairs is not read as them)."""
    start = tokens[k][1][0]
    while k + 1 < len(tokens) and tokens[k + 1][1][0] == tokens[k][1][1]:
        k += 1
    return _unquoted(line, _chunk(line, (start, tokens[k][1][1]))), k


def _chunk(line: str, span: tuple[int, int]) -> tuple[int, int]:
    """An unquoted value runs to the next blank: `Ab=Cd` is one value, not a pair's name."""
    start, end = span
    if line[start] in "\"'":
        return span
    blank = re.compile(r"\s").search(line, end)
    return start, blank.start() if blank else len(line)


def _is_string(token: str) -> bool:
    """Is this token one quoted string, closed at its end (a Junos `;` after it)? Then it
    is the whole value; `'ab'cd` or `"ab` is not (a value that holds or starts with a quote)."""
    return bool(_QUOTED.fullmatch(token.rstrip(";")) or re.fullmatch(r"'[^']*';?", token))


def _unclosed(token: str) -> bool:
    """Is this a double-quoted token whose closing quote is on a later line?"""
    return token.startswith('"') and not _QUOTED.match(token)


def _unknown_after(words: list[str], value: int, numbers: bool = False, brackets: str = "") -> bool:
    """Is the value followed by words that are not syntax known to follow a value? A number
    is syntax after a ciphertext (Huawei `password cipher V 1 root 1 4 english`) or on a
    platform whose grammar has it (:class:`Dialect`), a bracket of ``brackets`` (the opening
    ones of that grammar) too; else they are part of a value that is the line's last item, as
    IOS reads it (`password 0 ab 9 cd`, `password ab ( cd )`, Junos `secret ab ( cd )`)."""
    rest = words[value + 1:]
    return bool(rest) and not (rest[0] in _AFTER_VALUE
                               or _is_structure(words, value + 1, brackets)
                               or (not numbers and rest[0].isdigit())
                               or (_is_keyword(rest[0]) and rest[1:2] != [] and rest[1].isdigit()))


def _is_structure(words: list[str], j: int, brackets: str = _ALL_BRACKETS) -> bool:
    """Is the word at ``j`` a bracket of the syntax (one of ``brackets``, the opening brackets of
    the grammar, or its closing one)? A closing one only closes what the line opened before it;
    an opening one opens a block at the line's end or a group that closes later in it. Any other
    bracket is a value's character (`enable password ) V`)."""
    word = words[j]
    if word in _BRACKETS:
        return word in brackets and (j == len(words) - 1 or _BRACKETS[word] in words[j + 1:])
    opener = next((o for o, c in _BRACKETS.items() if c == word), None)
    return opener is not None and opener in brackets and opener in words[:j]


def _takes_number(word: str) -> bool:
    """Is a number of several digits after ``word`` a key ID, SPI or key size (and not a
    numeric secret, as in `tacacs-server key 12345678 timeout 5`)?"""
    return word.endswith("-key") or word in {"key-id", "spi", "ah", "esp"}


# SonicOS prints a secret as `N,VALUE` (its encryption type, a comma, the value)
_SONICOS_VALUE = re.compile(r"\d,")
# after an algorithm name a number is a key or digest size (`aes 128`), any other is the value
_SIZES = frozenset({"96", "128", "160", "192", "224", "256", "384", "512"})


# NetScaler's commands (`add authentication ldapAction NAME ...`) and the entity types they name
_NETSCALER_VERBS = frozenset({"add", "set", "unset", "rm", "bind", "unbind", "show", "enable", "disable"})
_NETSCALER_ENTITY = re.compile(r"[a-z0-9]*(?:action|policy|policylabel|params|parameter|service|vserver|profile"
                               r"|schema)")  # (`add authentication vserver V`, `... loginSchema L` too)


def _arms(words: list[str], i: int) -> bool:
    """Does the word at ``i`` introduce a value here?"""
    word, before = words[i], words[i - 1] if i else ""
    nxt = words[i + 1] if i + 1 < len(words) else None
    if word in _SNMP_V3_LEVEL:
        # `auth sha VALUE`, `priv aes 128 VALUE`, NX-OS `priv 0xVALUE`; but a security
        # level (`v3 priv`, `version 3 auth USER`) or `auth read VIEW` has no value
        if nxt is None:
            return False
        if nxt in _AUTH_ALGOS or nxt in _PRIV_ALGOS:
            return True
        return before not in {"3", "v3", "version"} and nxt not in {"read", "write", "notify", "access",
                                                                    "context", "match", "add"}
    if _SONICOS_VALUE.match(nxt or "") and (_ALGORITHM.fullmatch(word) or word == "default"):
        return True  # SonicOS `encryption aes 1,VALUE`, `cli ftp password default 1,VALUE`
    if word == "encrypted" and not words[:i] and words[1:2] in (["radius-server"], ["tacacs-server"], ["sntp"]):
        return False  # Cisco SMB `encrypted radius-server key V`: says the line's values are encrypted
    if word == "authenticator":  # IPsec manual keys: `session-key ... cipher V authenticator V`
        return "session-key" in words[:i]
    if not _is_keyword(word):
        return False
    if word == "community" and (before in {"set", "match", "then", "from", "policy-options", "bgp"}
                                or words[i + 2:i + 3] == ["members"] or words[i + 1:i + 2] == ["index"]):
        return False  # BGP communities; ProCurve `snmpv3 community index N name VALUE` (positional)
    if word == "snmp-community" and before == "v3":
        return False  # Junos `snmp v3 snmp-community INDEX community-name VALUE`
    if word == "authentication" and before in {"login", "ppp", "arap", "enable", "dot1x", "nasi",
                                               "primary", "secondary"}:
        return False  # `login authentication LIST`: a method list's name; Comware `primary authentication ADDR`
    if word == "authentication" and i == 1 and before in _NETSCALER_VERBS and _NETSCALER_ENTITY.fullmatch(nxt or ""):
        return False  # NetScaler `add authentication radiusAction NAME -radKey V`: an entity's type, its options follow
    if word in {"authentication", "accounting"} and nxt is not None and _ADDRESS.match(nxt) and i + 2 < len(words):
        return False  # VRP `radius-server authentication ADDR PORT shared-key cipher V`: a server
    if word == "ascii" and words[i - 2:i - 1] == ["option"]:
        return False  # DHCP `option 60 ascii "Cisco AP c2700"`
    if word in {"key", "key-string"} and before in {"crypto", "pki"}:
        return False
    return True


# words that follow a value and never introduce one (`cipher`, `hash`... do both)
_ONLY_AFTER_VALUE = _AFTER_VALUE - _MODIFIERS - {"authentication", "address", "hostname", "key-id"}


def _follows_a_value(words: list[str], k: int) -> bool:
    """Is the word at ``k`` syntax that comes after a value (`privilege 15`, ASA `encrypted`
    at the end or before such syntax), so that the word before it is a value?"""
    if words[k] in _MARKS_BEFORE:
        return k == len(words) - 1 or words[k + 1] in _ONLY_AFTER_VALUE
    return words[k] in _ONLY_AFTER_VALUE


def _names_a_community(word: str) -> bool:
    """Can this word after an access word or type be the community (QTech `community ro V`),
    or is that word the community (`community read RO`, `community 7 RO`)?"""
    return not (word in _COMMUNITY_ACCESS or word.isdigit() or word in {"view", "ipv6", "sec-name", "mask"})


# the words credential keywords are made of (`auth-pass`, `encrypted-password`, `pre-shared-secret`):
# a keyword-like word of other parts where a value stands (`Lab-key`, `x_secret`) is that value
_KEYWORD_PARTS = frozenset("""
    password passwords passwd pswd secret esecret key keys ekey string community map communityname
    communitystring authentication auth authkey authstring pre shared share preshared preshare sharedkey
    psk psksecret pksecret wpa wpa2 wpa3 wep passphrase phrase pass pw pwd passcode pin pincode code token otp
    apikey api encrypt encrypted enc value trap group name securityname checkcode mode privacy priv cak admpw
    configsyncpasswd hash hashed history0 history1 l1 l2
    wep wepkey wepkey1 wepkey2 wepkey3 wepkey4 key1 key2 key3 key4 hexkey ikepsk passplain passcrypt
    md5 sha sha1 sha224 sha256 sha384 sha512 hmac text plain plaintext clear cleartext cipher ciphertext
    ascii hex hexadecimal simple
    set hello message digest server client local remote enable login user admin console snmp ntp bgp ospf
    isis radius tacacs tacplus area domain secondary primary vrrp hsrp ldap bind smtp ftp
    """.split())


def _keyword_shaped(word: str) -> bool:
    """Is this keyword-like word made of keyword parts only (and no other characters)?"""
    return bool(re.fullmatch(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*", word)) and all(
        part in _KEYWORD_PARTS for part in re.split(r"[-_.]", word))


def _introduces_nothing(words: list[str], j: int, brackets: str, options: frozenset[int] = frozenset()) -> bool:
    """Is the keyword-like word at ``j`` followed by syntax rather than a value of its own
    (`key Lab-key address A`, `md5 Lab-key 7`, `auth sha Lab-key priv aes 128 V`)? Then it is
    the value of the keyword before it."""
    after = words[j + 1]
    if _follows_a_value(words, j + 1) or after in _SNMP_V3_LEVEL:
        return True
    if after in _COMMUNITY_ACCESS - {"read", "write"} or after == "view":
        return True  # a community's access (`snmp-server community key RO`): no value of its own
    if after in _ADDRESS_WORDS:  # an address list, and no keyword after it
        k = j + 2
        while k < len(words) and _ADDRESS.match(words[k]):
            k += 1
        return k > j + 2 and not (k < len(words) and _is_keyword(words[k]))
    if _is_keyword(after):
        return False  # a keyword chain: `auth-pass plaintext V`, `pre-shared-key key V`
    value = _value_after(words, j, brackets, options) if _arms(words, j) else None
    if value is not None and words[j] in _PLAIN_TEXT_ENCODINGS:
        return False  # `priv-pass plaintext 10.64.0.0/16`: after it stands the value, whatever it looks like
    return value is None or _is_syntax(words[value])


# encoding words that say the value follows in plain text (AOS-CX `auth-pass plaintext V`)
_PLAIN_TEXT_ENCODINGS = frozenset({"plaintext", "cleartext", "clear-text"})


def _is_syntax(word: str) -> bool:
    """Is this word, where a value would stand, surely syntax (an address, a type or ID number,
    an encoding, NX-OS `localizedkey`)?"""
    return (bool(_ADDRESS.match(word)) or (word.isdigit() and len(word) <= 2) or word in _MODIFIERS
            or word in _MODE_AT_END or word in _AFTER_VALUE or word in {"localizedkey", "localizedv2key"})


def _encoding_or_digest(word: str) -> bool:
    """Does this word name a value's encoding or digest (`md5`, `text`, `cipher`), which as a
    keyword's last word says how a value that is not there is written?"""
    return (word in _MODE_AT_END or word in _CIPHER_ENCODINGS or word in {"simple", "plain", "ascii", "hex"}
            or bool(_ALGORITHM.fullmatch(word)))


# keyword chains of other grammars that start with a word after these keywords (Comware `key
# authentication cipher V`, Junos key chains' `key N secret V`, IOS-XR `key-string password V`);
# an encoding word starts one too (Junos `key ascii-text V`, AOS-CX `neighbor A password plaintext V`)
_CHAINS_AFTER = {"key": frozenset({"authentication", "accounting", "authorization", "secret"}),
                 "key-string": frozenset({"password"})}


def _plain_text_statement(words: list[str], i: int, j: int) -> bool:
    """Is the word at ``j`` the plain-text value of the `password`, `secret`, `key`, `key-string`
    (or bare `pass`, `pin`, `token`, `otp`) at ``i``, standing right after it, its encryption
    type or `level L`? In IOS these values run to the line's end and no keyword chain follows
    these keywords (command references: `username N password|secret [T] V`, `enable
    password|secret [level L] [T] V`, line `password [T] V`, `neighbor A password [T] V`,
    `tacacs-server|radius-server [host A ...] key [T] V`, `key-string [T] V`): a value there
    that looks like a keyword is the value (`password auth-pass x`, `key pre-shared-secret x`).
    Deny by default: so on every platform, but for the chains of other grammars (_CHAINS_AFTER)."""
    keyword, word = words[i], words[j]
    if (keyword not in _TO_END_OF_LINE or _encoding_or_digest(word) or word in {"ascii-text", "hexadecimal"}
            or word in _CHAINS_AFTER.get(keyword, ())):
        return False
    between = words[i + 1:j]
    if words[0] == "enable" and between[:1] == ["level"]:
        between = between[2:]
    return between == [] or (len(between) == 1 and between[0].isdigit())


def _value_after(words: list[str], i: int, brackets: str = _ALL_BRACKETS,
                 options: frozenset[int] = frozenset()) -> int | None:
    """Index of the value introduced by the keyword at ``i`` (None: no value on this line).
    An opening bracket not in ``brackets`` (those of the platform's grammar) where a plain value
    stands is its first character (IOS `enable password {`, Junos `secret ( V )`), as any is
    after IOS type 0."""
    keyword = words[i]
    stop = _NO_VALUE_AFTER.get(keyword, frozenset())
    untyped = _untyped(keyword)
    j = i + 1
    while j < len(words):
        word = words[j]
        last = j == len(words) - 1
        if j in options:
            return j  # a value may start with a `-` (`password -password x`); an option has no value here
        if last and j - 1 > i and words[j - 1] in {"0", "7"} and not _is_structure(words, j):
            return j  # after an encryption type the last word is the value, even `md5` or `text`
        if j - 1 == i + 1 and words[j - 1] == "0" and keyword in _TO_END_OF_LINE and (
                (word in _BRACKETS and _is_structure(words, j)) or _is_keyword(word) or word in _MODIFIERS
                or _ALGORITHM.fullmatch(word) or word in _SNMP_V3_LEVEL):
            return j  # IOS type 0 is plain text, whatever it looks like: `0 ( ab )`, `0 auth-pass x`, `0 md5 x`
        if j == i + 1 and keyword in _TO_END_OF_LINE and word in _BRACKETS and word not in brackets and _is_structure(words, j):
            return j  # not a bracket of the platform's grammar: `enable password {` is a value
        if last and j == i + 1 and keyword in _TO_END_OF_LINE and _encoding_or_digest(word) and word not in stop:
            return j  # `enable secret md5`, `key-string text`: no value follows, so the word is the value
        if (_is_structure(words, j) or word in _PROSE_WORDS or word in stop or word in _NO_VALUE_AFTER_ANY
                or (word in _NO_VALUE_UNLESS_LAST and not last) or (word in _MODE_AT_END and last and not _ALGORITHM.fullmatch(words[j - 1]))):
            return None
        if untyped and not last and (
                word in _COMMUNITY_ENCODINGS or word == "create" or (word.isdigit() and words[j + 1][:1] == "$")
                or (word in _COMMUNITY_ACCESS
                    and (words[j + 1] in _COMMUNITY_ENCODINGS or words[i - 1:i] == ["snmp-agent"]))
                or ((word in _COMMUNITY_ACCESS or (len(word) == 1 and word.isdigit()))
                    and _names_a_community(words[j + 1]))):
            # (AireOS `community create VALUE`, FastIron `community 2 $VALUE`, Huawei `community read V`,
            # QTech `community ro V`, HPE OA `COMMUNITY READ V`, FS `community 7 V ro`)
            j += 1
            continue
        if untyped and not last and word == "ipaddr" and _ADDRESS.match(words[j + 1]):
            j += 2  # NETGEAR `snmp-server community ipaddr ADDR VALUE`
            continue
        if untyped and not last and word != keyword and word in _COMMUNITY_NAME_WORDS:
            return None  # TNSR `snmp community community-name VALUE`: the next keyword has it
        if MARKER.search(word) or untyped:
            return j  # a community has no type in front of it
        if word.isdigit() and not last and (len(word) == 1 or word == "10" or _takes_number(words[j - 1])
                                            or (word in _SIZES and _ALGORITHM.fullmatch(words[j - 1]))):
            j += 1  # encryption type (`7`, IOS-XR `10`), key ID (`ntp authentication-key 42 ...`), bits (`aes 128`)
        elif keyword == "key" and j + 2 < len(words) and words[j + 1] in {"0", "7"} and re.fullmatch(r"[0-9a-f]+", word):
            j += 1  # EOS MACsec `key CKN 7 CAK`: the key's name, then its type and value
        elif word in _WITH_ARGUMENT and not last:
            j += 2
        elif word in _ADDRESS_WORDS and not last:
            j += 1
            while j < len(words) - 1 and (_ADDRESS.match(words[j]) or words[j] in {"ipv4", "ipv6"}):
                j += 1
        elif (word in _MODIFIERS or _ALGORITHM.fullmatch(word)) and not last:
            j += 1
        elif (_is_keyword(word) and not last and word not in _AUTH_ALGOS
              and (not _keyword_shaped(word) or _plain_text_statement(words, i, j)
                   or _introduces_nothing(words, j, brackets, options))):
            return j  # a value that looks like a keyword (`password Lab-key privilege 15`, `password auth-pass x`)
        elif (_is_keyword(word) or word in _SNMP_V3_LEVEL) and not last or _ALGORITHM.fullmatch(word):
            return None  # the next keyword introduces the value itself; a digest name ends a list
        elif "-" in word and _KEYISH.fullmatch(word) and not last and words[j + 1].startswith('"'):
            j += 1
        else:
            return j  # fail safe: whatever else stands here is the value
    return None
