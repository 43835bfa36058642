"""The scrubber against the corpora, fingerprints, the `<removed>` migration and what
commit messages say (no SSH; the same corpora over SSH: test_corpus_leaks.py)."""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import re._constants as re_constants
import re._parser as re_parser
import threading
from unittest import mock
import stat
import subprocess
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configs.backup import BackupReport, DeviceBackup, _migrate_legacy_markers, commit_message
from configs import scrub as scrub_module
from configs.changes import describe, migrate_markers
from configs.platforms import HUAWEI_GRAMMAR, IOS_GRAMMAR, JUNOS_GRAMMAR, PLATFORMS, Dialect, Platform
from configs.scrub import LEGACY_MARKER, MARKER, Fingerprinter, dialect_of, scrub_config
from configs.store import Change, GitConfigStore
from netops.access import AccessStatus, DeviceResult
from netops.errors import ConfigError
from netops.secrets import FINGERPRINT_KEY, Secret, SecretStore, env_name, fingerprint_key
from tests.ssh import corpora

FP = Fingerprinter(Secret("corpus-test-fingerprint-key-0123456789abcdef"))
SECRETS = corpora.load("secrets")
LOOKALIKES = corpora.load("lookalike")


def test_the_corpora_are_big_enough_and_cover_every_platform():
    assert sum(c.secret_lines for c in SECRETS) >= 450
    netops = {"cisco_ios", "cisco_nxos", "hp_procurve", "aruba_oscx", "juniper_junos", "huawei_olt"}
    # session 6's hunt: syntaxes of vendors netops does not back up yet, which a device may still print
    others = {"arista_eos", "cisco_xr", "cisco_asa", "fortinet", "mikrotik_routeros", "huawei_vrp", "multivendor",
              "oxidized",  # session 8: one line per rule of Oxidized's `cmd :secret` blocks
              "unlisted", "wrapped"}  # session 9: syntaxes in no table, bare words, keys; wrapped lines
    assert {c.name.split("-", 1)[1] for c in SECRETS} == netops | others
    assert netops <= {c.name.split("-", 1)[1] for c in LOOKALIKES} <= netops | others
    values = [s for c in SECRETS for s in c.secrets]
    assert len(values) == len(set(values))  # each planted value once: a leak names its line


@pytest.mark.parametrize("config", SECRETS, ids=lambda c: c.name)
def test_every_secret_becomes_its_marker_and_nothing_else_changes(config):
    out = scrub_config(config.raw, fingerprint=FP, platform=config.platform)
    want, got = config.expected(FP).splitlines(), out.text.splitlines()
    assert [(w, g) for w, g in zip(want, got) if w != g] == []
    assert len(got) == len(want)
    assert out.secrets_removed == len(config.secrets)


@pytest.mark.parametrize("config", SECRETS, ids=lambda c: c.name)
def test_every_changed_secret_is_a_changed_secret_and_only_that(config):
    """Masking never makes two configs look the same: change any one planted value and the
    scrubbed config differs, and what changed is said as `secret changed`, never the value."""
    before = scrub_config(config.raw, fingerprint=FP, platform=config.platform).text
    lines = config.lines
    for n, line in enumerate(lines):
        for m in corpora.SECRET.finditer(line):
            value = m.group(1)
            changed = value[:-1] + ("7" if value[-1] != "7" else "8")  # same shape, another value
            rotated = lines[:n] + [line[:m.start(1)] + changed + line[m.end(1):]] + lines[n + 1:]
            after = scrub_config(corpora.Corpus(config.name, rotated).raw, fingerprint=FP, platform=config.platform).text
            said = describe(before, after)
            assert after != before and said and all(item.startswith("secret changed: ") for item in said), (line, said)
            assert value not in " ".join(said) and changed not in " ".join(said)


@pytest.mark.parametrize("config", LOOKALIKES, ids=lambda c: c.name)
def test_lookalikes_survive_unchanged(config):
    out = scrub_config(config.raw, fingerprint=FP, platform=config.platform)
    assert [(w, g) for w, g in zip(config.raw.splitlines(), out.text.splitlines()) if w != g] == []
    assert out.secrets_removed == 0


def test_unlisted_syntaxes_fail_safe():
    """Lines in no corpus and no vendor's manual: a credential keyword is enough."""
    lines = {
        "frobnicate peer 10.0.0.1 password 0 Unlisted1": "Unlisted1",
        "widget-server vault-secret Unlisted2 retries 3": "Unlisted2",
        "  telemetry sink 10.0.0.2 api-key Unlisted3": "Unlisted3",
        'mesh link 4 passphrase "Unlisted 4 with spaces"': "Unlisted 4 with spaces",
        "upload url sftp://robot:Unlisted5@10.0.0.3/x": "Unlisted5",
        "hash-of-the-day $6$salty$Unlisted6": "$6$salty$Unlisted6",
        "modem dial community Unlisted7": "Unlisted7",
        "username admin password password": None,  # the value is the keyword's own word
    }
    text = scrub_config("\n".join(lines), fingerprint=FP).text
    for value in filter(None, lines.values()):
        assert value not in text
    assert text.splitlines()[-1] == f"username admin password {FP.marker('password')}"


def test_a_known_secret_goes_wherever_it_stands_also_in_prose():
    text = scrub_config("banner motd ^C\nssh password is Lab-Pw-1\n^C\ndescription Lab-Pw-1\n",
                        [Secret("Lab-Pw-1")], FP).text
    assert "Lab-Pw-1" not in text and text.count(FP.marker("Lab-Pw-1")) == 2


# -- fingerprints -----------------------------------------------------------------------
def test_same_secret_same_marker_changed_secret_other_marker():
    line = "snmp-server community {} RO 10\n"
    one = scrub_config(line.format("Comm-A"), fingerprint=Fingerprinter(Secret("k" * 40))).text
    again = scrub_config(line.format("Comm-A"), fingerprint=Fingerprinter(Secret("k" * 40))).text
    changed = scrub_config(line.format("Comm-B"), fingerprint=Fingerprinter(Secret("k" * 40))).text
    other_key = scrub_config(line.format("Comm-A"), fingerprint=Fingerprinter(Secret("x" * 40))).text
    assert one == again != changed
    assert other_key != one  # without the key, a guess cannot be checked against the marker
    assert re.fullmatch(r"snmp-server community <secret:hmac-sha256:[0-9a-f]{12}> RO 10\n", changed)


def test_the_fingerprinter_never_shows_its_key():
    fp = Fingerprinter(Secret("the-key-itself-0123456789abcdef0123"))
    assert "the-key-itself" not in repr(fp) and "the-key-itself" not in str(fp)


def test_scrubbing_twice_changes_nothing():
    once = scrub_config(SECRETS[0].raw, fingerprint=FP).text
    assert scrub_config(once, fingerprint=FP).text == once


# -- what changed -----------------------------------------------------------------------
OLD = """hostname s1
snmp-server community {comm} RO 10
snmp-server location Buer
interface GigabitEthernet1/0/5
 switchport mode access
ip access-list extended MGMT
 permit ip 10.0.0.0 0.0.0.255 any
key chain K
 key 1
  key-string 7 {key}
"""


def _scrubbed(**values) -> str:
    return scrub_config(OLD.format(**{"comm": "Comm-A", "key": "0822455D", **values}), fingerprint=FP).text


def test_describe_names_sections_and_secrets_by_line():
    new = _scrubbed(comm="Comm-B", key="1111AAAA").replace(" switchport mode access", " shutdown")
    new = new.replace(" permit ip 10.0.0.0", " permit ip 10.9.0.0")
    assert describe(_scrubbed(), new) == [
        "secret changed: snmp-server community (line 2)",
        "interface GigabitEthernet1/0/5",
        "ip access-list extended MGMT",
        "secret changed: key chain K: key-string 7 (line 10)",
    ]
    assert describe(_scrubbed(), _scrubbed()) == []
    assert describe(None, _scrubbed()) == ["first version"]


def test_commit_message_says_per_device_what_changed():
    report = BackupReport([
        DeviceBackup("s1-sw", AccessStatus.OK, Change.CHANGED, None,
                     ("interface GigabitEthernet1/0/5", "secret changed: snmp-server community (line 2)")),
        DeviceBackup("k1-sw", AccessStatus.OK, Change.NEW),
        DeviceBackup("s3-sw", AccessStatus.TIMEOUT, None, "no answer"),
    ])
    message = commit_message(report, dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.timezone.utc))
    assert message == (
        "backup 2026-11-26T03:00:00Z: 1 changed, 1 new, 0 unchanged, 1 failed\n\n"
        "changed: s1-sw\nnew: k1-sw\nfailed: s3-sw (timeout)\n\n"
        "s1-sw:\n  interface GigabitEthernet1/0/5\n  secret changed: snmp-server community (line 2)\n"
    )


# -- the `<removed>` format migration ---------------------------------------------------
def _legacy(text: str) -> str:
    return MARKER.sub(LEGACY_MARKER, text)


def test_migration_gives_new_markers_to_unchanged_lines_only():
    old = _legacy(_scrubbed())
    new = _scrubbed(comm="Comm-B").replace("hostname s1", "hostname s1-new")
    bridged = migrate_markers(old, new)
    assert LEGACY_MARKER not in bridged
    assert "hostname s1\n" in bridged  # a real change waits for the run's own commit
    assert describe(old, bridged) == []  # the migration itself shows no change
    assert describe(bridged, new) == ["hostname"]  # nor secret: the old value is unknown


def test_migration_commit_then_real_changes_without_false_diffs(tmp_path):
    store = GitConfigStore(tmp_path / "repo").ensure()
    store.write("s1-sw", _legacy(_scrubbed()))
    store.write("k1-sw", "hostname k1\n")
    store.commit("backup with <removed>", ["s1-sw", "k1-sw"])
    fresh = _scrubbed().replace("snmp-server location Buer", "snmp-server location Horst")
    results = [DeviceResult("s1-sw", AccessStatus.OK, fresh), DeviceResult("k1-sw", AccessStatus.OK, "hostname k1\n")]
    committed = store.committed_bytes(["s1-sw", "k1-sw"])
    migration = _migrate_legacy_markers(store, results, committed)
    # once only, and what the run compares with is what the migration committed
    assert committed == store.committed_bytes(["s1-sw", "k1-sw"])
    assert migration and _migrate_legacy_markers(store, results, committed) is None
    assert store.write("s1-sw", fresh, committed["s1-sw"]) == Change.CHANGED
    store.commit("the run", ["s1-sw"])
    diff = store.diff("s1-sw")
    changed = [line for line in diff.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["-snmp-server location Buer", "+snmp-server location Horst"]
    assert diff.changes == ["snmp-server"]
    log = subprocess.run(["git", "-C", str(store.root), "log", "--format=%s"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert log[1].startswith("format migration: secrets in 1 configs now show as keyed fingerprints")


# -- the fingerprint key ------------------------------------------------------------------
def test_the_key_is_generated_once_into_a_0600_secrets_file(tmp_path):
    path = tmp_path / "conf" / "secrets.toml"
    key = fingerprint_key(SecretStore(path=path, environ={}))
    assert len(key.reveal()) == 64 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fingerprint_key(SecretStore(path=path, environ={})) == key  # the next run reads it back
    existing = tmp_path / "existing.toml"
    existing.write_text('[ssh.switches]\npassword = "pw"')  # no newline at the end
    existing.chmod(0o600)
    store = SecretStore(path=existing, environ={})
    key = fingerprint_key(store)
    assert store.require("ssh", "switches", "password").reveal() == "pw"
    assert tomllib.loads(existing.read_text())["config"]["fingerprint"]["key"] == key.reveal()


def test_the_environment_wins_and_a_weak_or_unreadable_key_is_refused(tmp_path):
    strong = "e" * 40
    assert fingerprint_key(SecretStore(path=None, environ={env_name(*FINGERPRINT_KEY): strong})).reveal() == strong
    with pytest.raises(ConfigError, match="shorter than 32 characters"):
        fingerprint_key(SecretStore(path=None, environ={env_name(*FINGERPRINT_KEY): "short"}))
    with pytest.raises(ConfigError, match="NETOPS_CONFIG_FINGERPRINT_KEY"):
        fingerprint_key(SecretStore(path=None, environ={}))
    open_file = tmp_path / "open.toml"
    open_file.write_text("")
    open_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        fingerprint_key(SecretStore(path=open_file, environ={}))
    assert open_file.read_text() == ""  # nothing written into a file others can read
    half = tmp_path / "half.toml"
    half.write_text("[config.fingerprint]\nnote = 'rotated 2026'\n")
    half.chmod(0o600)
    with pytest.raises(ConfigError, match=r"\[config.fingerprint\] exists without key"):
        fingerprint_key(SecretStore(path=half, environ={}))


def test_a_changed_second_secret_is_named_by_its_own_keyword():
    line = "snmp-server user mon MON v3 auth sha {} priv aes 128 {}\n"
    old = scrub_config(line.format("Auth-1", "Priv-1"), fingerprint=FP).text
    new = scrub_config(line.format("Auth-1", "Priv-2"), fingerprint=FP).text
    assert describe(old, new) == ["secret changed: snmp-server user mon MON v3 auth sha <secret> priv aes 128 (line 1)"]


def test_a_banner_that_never_closes_hides_no_secret():
    text = scrub_config("banner motd #\nWelcome\nusername x password 0 After-Banner\n", fingerprint=FP).text
    assert "After-Banner" not in text and text.startswith("banner motd #\nWelcome\n")


# -- generated syntaxes (derandomised: the same examples on every run) -----------------------
_KEYWORDS = ["password", "secret", "key", "key-string", "pre-shared-key", "authentication-key", "passphrase",
             "area-password", "server-key", "wpa-passphrase", "encrypted-password", "auth-pass", "md5",
             "plaintext", "ciphertext", "shared-secret", "community", "set-key", "psk"]
_PREFIXES = ["", " ", "  ", "snmp-server", "frob 3", "set system widget", "router thing 65000", "ip gizmo",
             "interface Vlan9", "radius-server host 10.0.0.1", "tacacs server T1"]
_BETWEEN = [[], ["0"], ["7"], ["5"], ["md5"], ["sha"], ["md5", "7"], ["aes", "128"], ["hmac-sha2-256"],
            ["user-name", "ops"], ["address", "10.0.0.9", "255.255.255.255"], ["level", "15"], ["ascii"],
            ["42", "md5"], ["type", "md5", "value"]]
_AFTER = ["", "RO 10", "level-2", "timeout 5", "role network-admin", "7", "trusted", "vrf mgmt", "port 49",
          "address 10.0.0.1", "access 99", "udp-port 162"]


@settings(derandomize=True, max_examples=600, deadline=None)
@given(prefix=st.sampled_from(_PREFIXES), keyword=st.sampled_from(_KEYWORDS), between=st.sampled_from(_BETWEEN),
       core=st.from_regex(r"[A-Za-z0-9!%+=_.@/-]{1,14}", fullmatch=True), after=st.sampled_from(_AFTER),
       quote=st.sampled_from(["", '"', "'"]), spaced=st.booleans())
def test_a_value_after_a_credential_keyword_never_survives(prefix, keyword, between, core, after, quote, spaced):
    value = f"Q%{core}" + (" and more" if quote and spaced else "") + "%Z"  # never a word of the grammar
    shown = f"{quote}{value}{quote}"
    if keyword == "community":
        between = []  # a community has nothing between keyword and value
    line = " ".join(filter(None, [prefix, keyword, *between, shown, after]))
    text = scrub_config(line + "\n", fingerprint=FP).text
    assert "Q%" not in text and "%Z" not in text, line  # neither end of the value (`a=b` is one value)


_NAMES = ["password", "secret", "wpa2-pre-shared-key", "ipsec-secret", "users.1.password", "radius.auth.1.secret",
          "snmp.community", "auth_pwd", "tcp-md5-key", "private_key", "trap-community", "passphrase"]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(before=st.lists(st.sampled_from(["name=x", "disabled=no", "mode=dynamic-keys", "[ find default=yes ]",
                                        "authentication-types=wpa2-psk", "comment=\"the key: here\""]), max_size=3),
       name=st.sampled_from(_NAMES), core=st.from_regex(r"[A-Za-z0-9!%+=_.@/-]{1,14}", fullmatch=True),
       quote=st.sampled_from(["", '"']), after=st.sampled_from(["", "profile=default", "service=ppp,login"]),
       verb=st.sampled_from(["add", "set", ""]))
def test_a_value_of_a_credential_name_never_survives(before, name, core, quote, after, verb):
    """`name=value` pairs (MikroTik, airOS, FortiOS headers): any credential-like name."""
    value = f"Q%{core}%Z"
    line = " ".join(filter(None, [verb, *before, f"{name}={quote}{value}{quote}", after]))
    text = scrub_config(line + "\n", fingerprint=FP).text
    assert "Q%" not in text and "%Z" not in text, line


# -- values over several lines, words that are also secrets, other scripts ------------------
def test_a_quoted_value_that_runs_on_over_lines_is_masked_on_each_line():
    text = scrub_config('config user local\n    edit "u"\n        set passwd "Split-One\nSplit-Two\n'
                        'Split-Three" \n    next\nend\n', fingerprint=FP).text
    assert not any(part in text for part in ("Split-One", "Split-Two", "Split-Three"))
    assert text.splitlines()[-2:] == ["    next", "end"]  # the config after the value is read as before


def test_a_private_key_is_masked_to_its_end_line_and_a_certificate_is_kept():
    body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC0", "PrivateKeyBodyLineTwo+/=="]
    cert = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaCertificate"
    raw = ["crypto pki import", "-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----",
           "-----BEGIN CERTIFICATE-----", cert, "-----END CERTIFICATE-----", "hostname after-pem"]
    text = scrub_config("\n".join(raw), fingerprint=FP).text
    assert not any(b in text for b in body) and cert in text and text.endswith("hostname after-pem\n")
    one_line = scrub_config('key "-----BEGIN PRIVATE KEY-----\\nOneLineKeyBody\\n-----END PRIVATE KEY-----"\n',
                            fingerprint=FP).text
    assert "OneLineKeyBody" not in one_line
    # a key whose END line never comes: the rest is masked (over-masking beats leaking)
    cut = scrub_config("-----BEGIN EC PRIVATE KEY-----\nCutKeyBody1\nCutKeyBody2\n", fingerprint=FP).text
    assert "CutKeyBody" not in cut


def test_a_private_key_inside_a_quote_that_never_closed_ends_with_its_end_line():
    """A value's first character opened a quote (`community "abc` on IOS): the lines after it
    are read as the string, and a private key that begins among them is masked to its END
    line, not only to the next quote (session 10: its body leaked after `KeyLine"One`)."""
    raw = ('snmp-server community "OpenQuote RO\n-----BEGIN RSA PRIVATE KEY-----\nKeyLine"One\nKeyLineTwo\n'
           "-----END RSA PRIVATE KEY-----\nhostname after\n")
    text = scrub_config(raw, fingerprint=FP).text
    assert not any(part in text for part in ("OpenQuote", "KeyLine", "One")), text
    assert text.endswith("-----END RSA PRIVATE KEY-----\nhostname after\n")


def test_a_putty_key_ends_only_at_a_line_that_starts_with_private():
    """A body line that holds `Private-` (not base64: a damaged or pasted key) does not end it."""
    raw = "Private-Lines: 2\nBodyOne^Private-Lines:\nBodyTwo\nPrivate-MAC: MacValue1\nhostname after\n"
    text = scrub_config(raw, fingerprint=FP).text
    assert not any(part in text for part in ("BodyOne", "BodyTwo", "MacValue1")), text
    assert text.splitlines()[-2].startswith("Private-MAC: <secret:") and text.endswith("hostname after\n")


def test_a_continued_mikrotik_line_is_one_statement():
    raw = "/ppp secret\nadd name=vpn2 \\\n    password=Wrapped-Pw-1 \\\n    profile=default\n/ip address\n"
    text = scrub_config(raw, fingerprint=FP).text
    assert "Wrapped-Pw-1" not in text and text.count("\\\n") == 2  # the line breaks stay where they were


def test_a_secret_that_is_also_a_word_elsewhere():
    """The value goes at its place; the same word as prose stays (a known secret goes everywhere,
    also inside longer words: over-masking beats leaking)."""
    text = scrub_config("snmp-server community Buer RO\nsnmp-server location Buer\n", fingerprint=FP).text
    assert text == f"snmp-server community {FP.marker('Buer')} RO\nsnmp-server location Buer\n"
    known = scrub_config("username a password 0 pass\nservice password-encryption\n", [Secret("pass")], FP).text
    assert "pass " not in known and not re.search(r"(?<!<)pass(?!word)", known.replace("password", ""))


def test_a_value_that_is_a_word_of_the_grammar_after_an_encryption_type():
    text = scrub_config("username weak password 0 md5\nusername weak2 secret 0 text\n", fingerprint=FP).text
    assert text == (f"username weak password 0 {FP.marker('md5')}\n"
                    f"username weak2 secret 0 {FP.marker('text')}\n")


def test_a_plain_text_value_keeps_its_numbers_and_brackets_and_a_cipher_its_syntax():
    """IOS type 0 is plain text to the line's end: a number or a bracket inside it is the
    value's, not syntax (review of session 10: `ab 9 w3` leaked `9 w3`, `{` and `( ab )` whole);
    a Huawei ciphertext is one word, the numbers after it stay."""
    raw = ("enable password 0 ab 9 w3Tail\nenable secret 0 {\nusername u password 0 ( ab )\n"
           "username v password 0 ab ( cd )\n"
           " terminal user name n password cipher %$%$HwCipher1%$%$ 1 root 1 4 english\n")
    assert scrub_config(raw, fingerprint=FP).text == (
        f"enable password 0 {FP.marker('ab 9 w3Tail')}\nenable secret 0 {FP.marker('{')}\n"
        f"username u password 0 {FP.marker('( ab )')}\nusername v password 0 {FP.marker('ab ( cd )')}\n"
        f" terminal user name n password cipher {FP.marker('%$%$HwCipher1%$%$')} 1 root 1 4 english\n")


# (line, what the platform's grammar makes of the plain value after `password`/`secret`)
UNTYPED = [
    "username u password ab 9 w3Tail", "enable password {", "password ( ab )",
    "enable secret level 10 ab 9 cd", "username u password ab ( cd )",
    " terminal user name n password simple HwSimple1 1 root 1 4 english",
]


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_xe", "hp_procurve", "aruba_os", None])
def test_a_plain_value_without_a_type_runs_to_the_line_end_as_ios_reads_it(platform):
    """Session 11 (known leak: `username u password ab 9 w3tail` left `9 w3tail`, `enable
    password {` and `password ( ab )` all of it): without an encoding in front of it, a plain
    value takes the numbers and brackets after it, on every platform whose grammar has none
    there, and on a device of no known platform (deny by default)."""
    text = scrub_config("\n".join(UNTYPED) + "\n", fingerprint=FP, platform=platform).text
    assert text.splitlines() == [
        f"username u password {FP.marker('ab 9 w3Tail')}", f"enable password {FP.marker('{')}",
        f"password {FP.marker('( ab )')}", f"enable secret level 10 {FP.marker('ab 9 cd')}",
        f"username u password {FP.marker('ab ( cd )')}",
        f" terminal user name n password simple {FP.marker('HwSimple1 1 root 1 4 english')}"]


def test_a_grammar_with_numbers_or_brackets_after_a_value_keeps_them():
    """Huawei/Comware put numbers after a value, Junos opens blocks with brackets: there they are
    syntax. (Over-masking elsewhere, never leaking: such a value has no blank on those platforms.)"""
    huawei = scrub_config("\n".join(UNTYPED) + "\n", fingerprint=FP, platform="huawei_olt").text.splitlines()
    assert huawei[0] == f"username u password {FP.marker('ab')} 9 w3Tail"
    assert huawei[1:3] == [f"enable password {FP.marker('{')}", f"password {FP.marker('( ab )')}"]  # no brackets
    assert huawei[5] == f" terminal user name n password simple {FP.marker('HwSimple1')} 1 root 1 4 english"
    junos = scrub_config("\n".join(UNTYPED[1:3] + UNTYPED[4:5]) + "\nusername u password ab [ cd ]\nsecret ( w3tail )\n",
                         fingerprint=FP, platform="juniper_junos")
    # (review of session 11: Junos has no `(`: `secret ( w3tail )` was kept whole)
    assert junos.text.splitlines() == [
        "enable password {", f"password {FP.marker('( ab )')}", f"username u password {FP.marker('ab ( cd )')}",
        f"username u password {FP.marker('ab')} [ cd ]", f"secret {FP.marker('( w3tail )')}"]


def test_every_platform_names_its_dialect_and_an_unknown_one_reads_as_ios():
    """Review of session 11: dialects were chosen by device-type prefix (`juniper` matched
    juniper_screenos, the Comware entries named platforms netops does not back up). Now each
    Platform names its own; a device type not in PLATFORMS reads as IOS (deny by default)."""
    assert {name: p.dialect for name, p in PLATFORMS.items()} == {
        "cisco_ios": IOS_GRAMMAR, "cisco_xe": IOS_GRAMMAR, "hp_procurve": IOS_GRAMMAR, "aruba_procurve": IOS_GRAMMAR,
        "aruba_os": IOS_GRAMMAR, "juniper_junos": JUNOS_GRAMMAR, "huawei_olt": HUAWEI_GRAMMAR}
    assert JUNOS_GRAMMAR.brackets and HUAWEI_GRAMMAR.numbers_after_value and IOS_GRAMMAR == Dialect()
    for unknown in ("juniper_screenos", "hp_comware_ssh", "huawei_vrpv8", "cisco_nxos", None):
        assert dialect_of(unknown) == IOS_GRAMMAR, unknown
    with pytest.raises(TypeError, match="dialect"):
        Platform("new_platform", config_command="show run")  # a platform must say how its values end
    line = " terminal user name n password simple HwSimple1 1 root 1 4 english\n"
    assert scrub_config(line, fingerprint=FP, platform="hp_comware_ssh").text == scrub_config(line, fingerprint=FP).text


def test_a_ciphertext_keeps_the_syntax_after_it_on_every_platform():
    """An encoding that says ciphertext (Huawei `cipher`, IOS type 7) is one word: what follows is syntax."""
    for platform in ("cisco_ios", "huawei_olt", "juniper_junos", None):
        text = scrub_config("terminal user name n password cipher HwCt1 1 root 1 4 english\n"
                            "username u password 7 0822455D0A16 9 x\n", fingerprint=FP, platform=platform).text
        assert text == (f"terminal user name n password cipher {FP.marker('HwCt1')} 1 root 1 4 english\n"
                        f"username u password 7 {FP.marker('0822455D0A16')} 9 x\n"), platform


def test_a_value_that_looks_like_a_keyword_or_a_pair_is_the_value():
    """Session 11 (found by the planted-value test once it drew values ending in keyword
    suffixes): the value went and the word after it was masked instead, or a value that looks
    like `name=` pairs made tmsh `encrypted V` read as Cisco SMB's `encrypted radius-server ...`."""
    raw = ("ntp authentication-key 9 md5 Lab-key 7\ncrypto isakmp key X_secret address 10.0.0.1\n"
           "    encrypted #}%>(j?4D=s/g.password\nencrypted radius-server key SmbKey1\n")
    assert scrub_config(raw, fingerprint=FP).text == (
        f"ntp authentication-key 9 md5 {FP.marker('Lab-key')} 7\ncrypto isakmp key {FP.marker('X_secret')} address "
        f"10.0.0.1\n    encrypted {FP.marker('#}%>(j?4D=s/g.password')}\nencrypted radius-server key {FP.marker('SmbKey1')}\n")


def test_a_lone_backslash_inside_a_line_is_a_word_and_a_quoted_start_after_type_0_no_string():
    """(Review of session 10: `community \\ RO` masked `RO` and left `\\`; `password 0 "ab" cd`
    left `cd`.) A backslash at a line's end still joins a RouterOS line."""
    raw = 'snmp-server community \\ RO\nusername u password 0 "ab" cd\nadd name=x \\\n    password=P2\n'
    backslash, quoted_start = "\\", '"ab" cd'
    assert scrub_config(raw, fingerprint=FP).text == (
        f"snmp-server community {FP.marker(backslash)} RO\nusername u password 0 {FP.marker(quoted_start)}\n"
        f"add name=x \\\n    password={FP.marker('P2')}\n")


def test_secrets_in_other_scripts_and_their_change_is_a_changed_marker():
    old = scrub_config("username gast password 0 Grüße-1\nwpa-psk ascii 0 Пароль-2\n", fingerprint=FP).text
    new = scrub_config("username gast password 0 Grüße-2\nwpa-psk ascii 0 Пароль-2\n", fingerprint=FP).text
    assert not any(v in old + new for v in ("Grüße", "Пароль"))
    assert describe(old, new) == ["secret changed: username gast password 0 (line 1)"]


def test_after_type_0_a_keyword_like_word_is_the_value_and_a_lone_encoding_too():
    """Review of session 11: `password 0 auth-pass x` kept `auth-pass` (read as a keyword whose
    value is `x`), `0 md5 x` kept `md5`; `enable secret md5` and `tacacs-server key text` kept the
    value whole (read as an encoding whose value is missing)."""
    raw = "username u password 0 auth-pass x\nusername v secret 0 md5 x\nenable secret md5\ntacacs-server key text\n"
    for platform in ("cisco_ios", "huawei_olt", "juniper_junos", None):
        assert scrub_config(raw, fingerprint=FP, platform=platform).text == (
            f"username u password 0 {FP.marker('auth-pass x')}\nusername v secret 0 {FP.marker('md5 x')}\n"
            f"enable secret {FP.marker('md5')}\ntacacs-server key {FP.marker('text')}\n"), platform


def _module_state_holding(words: list[str]) -> list[str]:
    """The globals of configs.scrub that keep any of these words (or a word cache that is not empty)."""
    held = []
    for name, value in vars(scrub_module).items():
        if hasattr(value, "cache_info") and value.cache_info().currsize:
            held.append(name)
        elif isinstance(value, contextvars.ContextVar) and value.get(None) is not None:
            held.append(name)
        elif any(word in repr(value).lower() for word in words):
            held.append(name)
    return held


def test_no_module_state_holds_a_word_while_threads_scrub():
    """Review of session 11: the keyword tests cached words (plain-text secrets among them) in
    module-wide caches, emptied when any scrub ended: while one thread of the SSH pool read its
    config another's words stayed, and each emptied the other's cache. Now each scrub_config call
    has its own: while thread A is in the middle of its config no global of the module holds a word
    of it, nor after thread B has scrubbed a whole config; both come out as when scrubbed alone."""
    a = "username a password 0 ThreadSecretA1\nusername x password Thread-lab-key privilege 15\n"
    b = "snmp-server community ThreadSecretB2 RO\ntacacs-server key pre-shared-thr3ad\n"
    words = ["threadsecreta1", "threadsecretb2", "thread-lab-key", "pre-shared-thr3ad"]
    alone = {name: scrub_config(raw, fingerprint=FP).text for name, raw in (("a", a), ("b", b))}
    paused, resume = threading.Barrier(2), threading.Barrier(2)
    read_line = scrub_module._keyword_values
    first = []

    def pausing(*args, **kwargs):
        values = read_line(*args, **kwargs)
        if threading.current_thread().name == "scrub-a" and not first:
            first.append(True)
            paused.wait(timeout=30)  # A has read its first line
            resume.wait(timeout=30)
        return values

    got = {}
    with mock.patch.object(scrub_module, "_keyword_values", pausing):
        thread = threading.Thread(target=lambda: got.update(a=scrub_config(a, fingerprint=FP).text), name="scrub-a")
        thread.start()
        paused.wait(timeout=30)
        while_a_reads = _module_state_holding(words)
        got["b"] = scrub_config(b, fingerprint=FP).text
        after_b = _module_state_holding(words)
        resume.wait(timeout=30)
        thread.join(timeout=30)
    assert while_a_reads == after_b == []
    assert got == alone
    assert _module_state_holding(words) == []


def test_every_keyword_splits_into_the_keyword_parts():
    """`_KEYWORD_PARTS` (what a keyword-like value may be made of and still be read as a keyword)
    is written out; every word `_KEYWORD` matches splits into it (algorithm names aside: they are
    read as algorithms before any keyword test). Session 11 built it from the pattern's source text,
    fragments like `ed`, `l` and `1` with it."""
    words = _expand(re_parser.parse(scrub_module._KEYWORD.pattern))
    assert len(words) > 150 and {"password", "pre-shared-key", "x-password-hashed", "history1"} <= {
        "x" + w if w[:1] in "-_." else w for w in words}
    missing = {w: [p for p in re.split(r"[-_.]", w) if p and p not in scrub_module._KEYWORD_PARTS]
               for w in words if not scrub_module._ALGORITHM.fullmatch(w)}
    assert {w: parts for w, parts in missing.items() if parts} == {}
    assert not {"ed", "l", "1", "256"} & scrub_module._KEYWORD_PARTS


def _expand(items) -> list[str]:
    """The words a parsed pattern stands for: an any-character run (`.+` before a separator)
    stands for nothing, a character class for each of its characters, `\\d` for 1 and 2, an
    optional part for both."""
    out = [""]
    for op, arg in items:
        if op is re_constants.LITERAL:
            alternatives = [chr(arg)]
        elif op is re_constants.SUBPATTERN:
            alternatives = _expand(arg[3])
        elif op is re_constants.BRANCH:
            alternatives = [w for branch in arg[1] for w in _expand(branch)]
        elif op is re_constants.IN:
            alternatives = [c for o, a in arg for c in ([chr(a)] if o is re_constants.LITERAL else ["1", "2"])]
        elif op is re_constants.MAX_REPEAT:
            low, _, sub = arg
            alternatives = [""] if sub[0][0] is re_constants.ANY else [""] * (low == 0) + _expand(sub)
        else:
            raise AssertionError(f"_KEYWORD uses {op}: teach _expand to read it")
        out = [a + b for a in out for b in alternatives]
    return out


@pytest.mark.parametrize("platform", ["cisco_ios", "huawei_olt", "juniper_junos", None])
def test_a_value_that_starts_with_a_dash_and_a_keyword_is_the_value(platform):
    """Session 12 (a regression of session 11): the `-` of NetScaler's options was dropped on every
    platform, so `password -password foo` read `-password` as the keyword and kept it. Where a value
    stands a `-word` is the value; NetScaler's `-password V -encrypted` still names its value."""
    raw = ("username u password -password foo\nenable secret -secret x\ntacacs-server key -key abc\n"
           "set ns rpcNode 10.0.0.23 -password NsRpc1 -encrypted\n")
    assert scrub_config(raw, fingerprint=FP, platform=platform).text == (
        f"username u password {FP.marker('-password foo')}\nenable secret {FP.marker('-secret x')}\n"
        f"tacacs-server key {FP.marker('-key abc')}\nset ns rpcNode 10.0.0.23 -password {FP.marker('NsRpc1')} -encrypted\n")


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_xe", None])
def test_a_keyword_shaped_value_of_an_ios_plain_text_statement_is_the_value(platform):
    """Review of session 11: outside type 0 a value that looks like a keyword was read as one
    (`auth-pass` kept, the word after it masked); `snmp-server community key RO` masked RO too,
    and a community starting with `community` was read as TNSR's `community-name`. Other
    grammars' chains stay (Comware `key authentication cipher V`, IOS-XR `key-string password V`)."""
    lines = {
        "username u password auth-pass extra": "auth-pass extra",
        "neighbor 1.1.1.1 password key x": "key x",
        "tacacs-server key pre-shared-secret x": "pre-shared-secret x",
        "enable secret level 15 auth-key y": "auth-key y",
        " key-string auth-pass z": "auth-pass z",
        "snmp-server community key RO": "key",
        "snmp-server community community-key RO": "community-key",
        " pass auth-pass w": "auth-pass w",  # (a bare word's value; Riverbed's secret below)
        "service shared-secret secret auth-pass v": "auth-pass v",
        " key authentication cipher CwV": "CwV",
        " key-string password XrV": "XrV",
        "set security authentication-key-chains key-chain K key 1 secret JunosKc": "JunosKc",
    }
    text = scrub_config("\n".join(lines) + "\n", fingerprint=FP, platform=platform).text
    assert text.splitlines() == [line.replace(value, FP.marker(value)) for line, value in lines.items()]


def test_a_section_header_inside_a_string_over_lines_is_entered():
    """Session 12 (the planted-value hunt, 150 examples): `password="V` opened a string over lines up to
    the next quote that ends a line; the `/snmp community` header inside it was not entered, and the
    community `name=` after it was kept. A header inside such a string is entered all the same."""
    raw = ('/ppp secret\nadd name=q6 password="Q6open profile=default\n/snmp community\n'
           'set [ find default=yes ] name=Q6close"\nadd name=Q6Community security=private\n')
    text = scrub_config(raw, fingerprint=FP, platform="cisco_ios").text
    assert not any(v in text for v in ("Q6open", "Q6close", "Q6Community")), text
    assert text.splitlines()[-1] == f"add name={FP.marker('Q6Community')} security=private"
